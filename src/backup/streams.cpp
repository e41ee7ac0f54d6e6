#include "backup/streams.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace crm::backup {
namespace {

constexpr uint32_t kChunkSize = 64 * 1024;
constexpr uint8_t kAlgorithm = 1;  // Argon2id13 key, secretstream XChaCha20-Poly1305
constexpr std::string_view kKeyCheckContext = "crm-ai backup key check";
constexpr size_t kKeyCheckBytes = 16;
static_assert(8 + 4 + 4 + 8 + 8 + crypto_pwhash_SALTBYTES + kKeyCheckBytes +
                  crypto_secretstream_xchacha20poly1305_HEADERBYTES ==
              kEncryptionHeaderSize);

Error Errno(const std::string& what, int err) { return IoError(what + ": " + std::strerror(err)); }

class FileSink final : public Sink {
 public:
  FileSink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileSink() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Write(const void* data, size_t n) override {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Errno("cannot write " + path_, errno);
      p += w;
      n -= static_cast<size_t>(w);
    }
    return OkStatus();
  }
  Status Finish() override {
    if (::fsync(fd_) != 0) return Errno("cannot sync " + path_, errno);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Errno("cannot close " + path_, errno);
    return OkStatus();
  }

 private:
  int fd_;
  std::string path_;
};

class FileSource final : public Source {
 public:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileSource() override { ::close(fd_); }
  Result<size_t> Read(void* out, size_t n) override {
    for (;;) {
      ssize_t r = ::read(fd_, out, n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Errno("cannot read " + path_, errno);
      return static_cast<size_t>(r);
    }
  }

 private:
  int fd_;
  std::string path_;
};

// Reads until `n` bytes or the end.
Result<size_t> ReadFull(Source& s, void* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    CRM_ASSIGN_OR_RETURN(size_t got, s.Read(static_cast<char*>(out) + done, n - done));
    if (got == 0) break;
    done += got;
  }
  return done;
}

void PutLe(unsigned char* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint64_t GetLe(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

void KeyCheck(const unsigned char* key, unsigned char* out) {
  crypto_generichash(out, kKeyCheckBytes,
                     reinterpret_cast<const unsigned char*>(kKeyCheckContext.data()),
                     kKeyCheckContext.size(), key, crypto_secretstream_xchacha20poly1305_KEYBYTES);
}

Status DeriveKey(std::string_view passphrase, const unsigned char* salt, uint64_t ops, uint64_t mem,
                 unsigned char* key) {
  if (crypto_pwhash(key, crypto_secretstream_xchacha20poly1305_KEYBYTES, passphrase.data(),
                    passphrase.size(), salt, ops, static_cast<size_t>(mem),
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Error(ErrorCode::kInternal,
                 "cannot derive the key from BACKUP_PASSPHRASE (out of memory?)");
  return OkStatus();
}

class Encrypting final : public Sink {
 public:
  explicit Encrypting(std::unique_ptr<Sink> inner) : inner_(std::move(inner)) {
    plain_.reserve(kChunkSize);
    cipher_.resize(kChunkSize + crypto_secretstream_xchacha20poly1305_ABYTES);
  }
  ~Encrypting() override { sodium_memzero(&state_, sizeof state_); }

  Status Start(std::string_view passphrase) {
    unsigned char header[kEncryptionHeaderSize] = {};
    unsigned char* p = header;
    std::memcpy(p, kEncryptionMagic.data(), 8);
    p[8] = kAlgorithm;
    PutLe(p + 12, kChunkSize, 4);
    uint64_t ops = crypto_pwhash_OPSLIMIT_MODERATE, mem = crypto_pwhash_MEMLIMIT_MODERATE;
    PutLe(p + 16, ops, 8);
    PutLe(p + 24, mem, 8);
    unsigned char* salt = p + 32;
    randombytes_buf(salt, crypto_pwhash_SALTBYTES);
    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    CRM_TRY(DeriveKey(passphrase, salt, ops, mem, key));
    KeyCheck(key, p + 32 + crypto_pwhash_SALTBYTES);
    crypto_secretstream_xchacha20poly1305_init_push(
        &state_, p + 32 + crypto_pwhash_SALTBYTES + kKeyCheckBytes, key);
    sodium_memzero(key, sizeof key);
    return inner_->Write(header, sizeof header);
  }

  Status Write(const void* data, size_t n) override {
    const char* in = static_cast<const char*>(data);
    while (n > 0) {
      size_t take = std::min<size_t>(n, kChunkSize - plain_.size());
      plain_.insert(plain_.end(), in, in + take);
      in += take;
      n -= take;
      if (plain_.size() == kChunkSize) CRM_TRY(Push(0));
    }
    return OkStatus();
  }

  Status Finish() override {
    CRM_TRY(Push(crypto_secretstream_xchacha20poly1305_TAG_FINAL));
    return inner_->Finish();
  }

 private:
  Status Push(unsigned char tag) {
    unsigned long long out_len = 0;
    crypto_secretstream_xchacha20poly1305_push(
        &state_, cipher_.data(), &out_len, reinterpret_cast<const unsigned char*>(plain_.data()),
        plain_.size(), nullptr, 0, tag);
    plain_.clear();
    return inner_->Write(cipher_.data(), static_cast<size_t>(out_len));
  }

  std::unique_ptr<Sink> inner_;
  crypto_secretstream_xchacha20poly1305_state state_{};
  std::vector<char> plain_;
  std::vector<unsigned char> cipher_;
};

class Decrypting final : public Source {
 public:
  Decrypting(std::unique_ptr<Source> inner, std::string path)
      : inner_(std::move(inner)), path_(std::move(path)) {}
  ~Decrypting() override { sodium_memzero(&state_, sizeof state_); }

  Status Start(const unsigned char* header, std::string_view passphrase) {
    if (header[8] != kAlgorithm)
      return Error(ErrorCode::kCorrupt, path_ + " is encrypted with an unknown method (" +
                                            std::to_string(header[8]) +
                                            "); it needs a newer crm-ai");
    chunk_ = static_cast<uint32_t>(GetLe(header + 12, 4));
    uint64_t ops = GetLe(header + 16, 8), mem = GetLe(header + 24, 8);
    // A damaged or hostile header must not make us allocate gigabytes or spin for hours.
    if (chunk_ < 1024 || chunk_ > (16u << 20) || ops < crypto_pwhash_OPSLIMIT_MIN || ops > 16 ||
        mem < crypto_pwhash_MEMLIMIT_MIN || mem > (1ull << 30))
      return Error(ErrorCode::kCorrupt,
                   path_ + ": the encryption header is damaged (use another backup)");
    if (passphrase.empty())
      return InvalidArgument(path_ +
                             " is encrypted: set BACKUP_PASSPHRASE (or BACKUP_PASSPHRASE_FILE) to "
                             "the passphrase it was made with");
    const unsigned char* salt = header + 32;
    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    CRM_TRY(DeriveKey(passphrase, salt, ops, mem, key));
    unsigned char check[kKeyCheckBytes];
    KeyCheck(key, check);
    if (sodium_memcmp(check, salt + crypto_pwhash_SALTBYTES, kKeyCheckBytes) != 0) {
      sodium_memzero(key, sizeof key);
      return Error(ErrorCode::kUnauthenticated,
                   path_ +
                       ": wrong passphrase — BACKUP_PASSPHRASE is not the one this backup was made "
                       "with (or its header is damaged)");
    }
    int rc = crypto_secretstream_xchacha20poly1305_init_pull(
        &state_, salt + crypto_pwhash_SALTBYTES + kKeyCheckBytes, key);
    sodium_memzero(key, sizeof key);
    if (rc != 0)
      return Error(ErrorCode::kCorrupt,
                   path_ + ": the encryption header is damaged (use another backup)");
    cipher_.resize(chunk_ + crypto_secretstream_xchacha20poly1305_ABYTES);
    plain_.resize(chunk_);
    offset_ = kEncryptionHeaderSize;
    return OkStatus();
  }

  Result<size_t> Read(void* out, size_t n) override {
    while (at_ == plain_len_) {
      if (final_) return size_t{0};
      CRM_TRY(NextChunk());
    }
    size_t take = std::min(n, plain_len_ - at_);
    std::memcpy(out, plain_.data() + at_, take);
    at_ += take;
    return take;
  }

 private:
  Status NextChunk() {
    CRM_ASSIGN_OR_RETURN(size_t got, ReadFull(*inner_, cipher_.data(), cipher_.size()));
    if (got == 0)
      return Error(
          ErrorCode::kCorrupt,
          path_ + " is truncated: it ends at byte " + std::to_string(offset_) +
              " before its last encrypted chunk (an interrupted copy? use another backup)");
    unsigned long long len = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&state_, plain_.data(), &len, &tag,
                                                   cipher_.data(), got, nullptr, 0) != 0) {
      if (got < cipher_.size())  // the last chunk: short as written, or cut
        return Error(ErrorCode::kCorrupt,
                     path_ + " is truncated or was modified: its last encrypted chunk, at byte " +
                         std::to_string(offset_) +
                         ", is incomplete or fails authentication (use another backup)");
      return Error(ErrorCode::kCorrupt,
                   path_ + " is damaged or was modified: the encrypted chunk at byte " +
                       std::to_string(offset_) + " fails authentication (use another backup)");
    }
    offset_ += got;
    plain_len_ = static_cast<size_t>(len);
    at_ = 0;
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
      final_ = true;
      char extra;
      CRM_ASSIGN_OR_RETURN(size_t more, inner_->Read(&extra, 1));
      if (more != 0)
        return Error(ErrorCode::kCorrupt, path_ +
                                              " has data after its last encrypted chunk (byte " +
                                              std::to_string(offset_) + "); it was modified");
    } else if (got < cipher_.size()) {
      return Error(ErrorCode::kCorrupt, path_ + " is truncated at byte " + std::to_string(offset_) +
                                            " (an interrupted copy? use another backup)");
    }
    return OkStatus();
  }

  std::unique_ptr<Source> inner_;
  std::string path_;
  crypto_secretstream_xchacha20poly1305_state state_{};
  uint32_t chunk_ = 0;
  std::vector<unsigned char> cipher_, plain_;
  size_t plain_len_ = 0, at_ = 0;
  uint64_t offset_ = 0;
  bool final_ = false;
};

// A source that first returns bytes already read (the peeked header of a plain archive).
class Prefixed final : public Source {
 public:
  Prefixed(std::string prefix, std::unique_ptr<Source> inner)
      : prefix_(std::move(prefix)), inner_(std::move(inner)) {}
  Result<size_t> Read(void* out, size_t n) override {
    if (at_ < prefix_.size()) {
      size_t take = std::min(n, prefix_.size() - at_);
      std::memcpy(out, prefix_.data() + at_, take);
      at_ += take;
      return take;
    }
    return inner_->Read(out, n);
  }

 private:
  std::string prefix_;
  size_t at_ = 0;
  std::unique_ptr<Source> inner_;
};

}  // namespace

Result<std::unique_ptr<Sink>> CreateFileSink(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create " + path, errno);
  return std::unique_ptr<Sink>(new FileSink(fd, path));
}

Result<std::unique_ptr<Source>> OpenFileSource(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFound("no file " + path + " (give the path of a backup archive)");
    return Errno("cannot open " + path, err);
  }
  return std::unique_ptr<Source>(new FileSource(fd, path));
}

Result<std::unique_ptr<Sink>> EncryptingSink(std::unique_ptr<Sink> inner,
                                             std::string_view passphrase) {
  auto sink = std::make_unique<Encrypting>(std::move(inner));
  CRM_TRY(sink->Start(passphrase));
  return std::unique_ptr<Sink>(std::move(sink));
}

Result<std::unique_ptr<Source>> OpenArchiveSource(const std::string& path,
                                                  std::string_view passphrase, bool* encrypted) {
  CRM_ASSIGN_OR_RETURN(auto file, OpenFileSource(path));
  unsigned char header[kEncryptionHeaderSize];
  CRM_ASSIGN_OR_RETURN(size_t got, ReadFull(*file, header, sizeof header));
  *encrypted =
      got >= kEncryptionMagic.size() && std::memcmp(header, kEncryptionMagic.data(), 8) == 0;
  if (!*encrypted)
    return std::unique_ptr<Source>(
        new Prefixed(std::string(reinterpret_cast<char*>(header), got), std::move(file)));
  if (got < sizeof header)
    return Error(ErrorCode::kCorrupt,
                 path + " is truncated: its encryption header is incomplete (use another backup)");
  auto source = std::make_unique<Decrypting>(std::move(file), path);
  CRM_TRY(source->Start(header, passphrase));
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace crm::backup
