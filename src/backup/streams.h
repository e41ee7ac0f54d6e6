// Byte streams under the archive: files (written once, fsynced) and their encryption with a
// passphrase (Argon2id key, XChaCha20-Poly1305 secretstream in chunks; README.md has the header).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace crm::backup {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Write(const void* data, size_t n) = 0;
  // Flushes everything and makes it durable; nothing may be written after.
  virtual Status Finish() = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Up to `n` bytes; 0 at the end.
  virtual Result<size_t> Read(void* out, size_t n) = 0;
};

// A new file (it must not exist), fsynced by Finish().
Result<std::unique_ptr<Sink>> CreateFileSink(const std::string& path);
Result<std::unique_ptr<Source>> OpenFileSource(const std::string& path);

inline constexpr std::string_view kEncryptionMagic = "CRMAI-E1";
inline constexpr size_t kEncryptionHeaderSize = 88;

// Encrypts what is written into `inner` (header first). Argon2id costs: libsodium's "moderate".
Result<std::unique_ptr<Sink>> EncryptingSink(std::unique_ptr<Sink> inner,
                                             std::string_view passphrase);
// Opens `path` for reading its plaintext: an encrypted file (it starts with kEncryptionMagic) needs
// `passphrase` and is authenticated chunk by chunk, so a wrong passphrase, a modified byte or a
// cut end is an error naming it; a plain file is read as is. `*encrypted` tells which.
Result<std::unique_ptr<Source>> OpenArchiveSource(const std::string& path,
                                                  std::string_view passphrase, bool* encrypted);

}  // namespace crm::backup
