// BlobStore: where recordings and documents live — local disk now, S3-compatible later.
//
// A blob is addressed by a key such as "recordings/<firm>/<id>". Keys are relative, made of
// segments of [A-Za-z0-9._-] separated by '/', never "." or ".." or starting with '.'; anything
// else is refused before the disk is touched, so a key cannot escape the store.
//
// Writes are atomic: a blob is either absent or complete, never partial. Put moves a finished
// local file into the store (a rename on the same disk); Move renames one key to another. Every
// read goes through Open/ReadRange (FFmpeg too, through an AVIOContext over BlobReader::ReadAt),
// so nothing depends on blobs being local files. To keep a database row and its file together,
// see README.md: Put at the final key, insert the row, Delete the blob if the insert fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace crm::blobs {

// Keys under this prefix are temporary: SweepTemporary deletes them once old enough.
inline constexpr std::string_view kTemporaryPrefix = "tmp/blobs/";

// OK when `key` is a valid blob key; kInvalidArgument naming the problem otherwise.
Status ValidateKey(std::string_view key);

// A fresh key under kTemporaryPrefix ("tmp/blobs/blob-<ulid>").
std::string NewTemporaryKey();

// An open blob: its size is fixed when opened; reads at any offset.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual int64_t size() const = 0;
  // Reads up to `n` bytes at `offset` into `out`; returns how many were read (0 at the end).
  virtual Result<size_t> ReadAt(int64_t offset, void* out, size_t n) = 0;
};

class BlobStore;
// Copies blob `key` to the local file `dest` (created or truncated), for tools that need a file
// (pdftotext, libzip, soffice); the caller removes it.
Status CopyToFile(BlobStore& blobs, std::string_view key, const std::filesystem::path& dest);

// One stored blob, as List() reports it.
struct BlobInfo {
  std::string key;
  int64_t size = 0;
};

struct PutOptions {
  bool overwrite = false;  // false: an existing blob under the key is a kConflict
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Moves the finished local file `source` in under `key` (the source is gone afterwards),
  // durably (file and directory synced) and atomically.
  virtual Status Put(std::string_view key, const std::filesystem::path& source,
                     const PutOptions& options = {}) = 0;
  // Stores `data` under `key`, atomically (small blobs, tests).
  virtual Status PutBytes(std::string_view key, std::string_view data,
                          const PutOptions& options = {}) = 0;
  // Renames a blob; kNotFound when `from` is missing; kConflict when `to` exists.
  virtual Status Move(std::string_view from, std::string_view to) = 0;

  virtual Result<std::unique_ptr<BlobReader>> Open(std::string_view key) = 0;
  // Up to `length` bytes at `offset` (fewer at the end; offset past the end → kInvalidArgument).
  virtual Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) = 0;
  virtual Result<bool> Exists(std::string_view key) = 0;
  virtual Result<int64_t> Size(std::string_view key) = 0;
  // Deleting a missing blob is not an error (deletes are retried after crashes).
  virtual Status Delete(std::string_view key) = 0;

  // Removes temporary blobs older than `max_age`; returns how many were removed.
  virtual Result<int> SweepTemporary(std::chrono::seconds max_age) = 0;

  // Calls `fn` for every blob except the temporary ones, in key order (backups); stops at the
  // first error `fn` returns. The default refuses (a store that cannot enumerate its keys).
  virtual Status List(const std::function<Status(const BlobInfo&)>& fn);
};

// Blobs as files under `root` (DATA_DIR): key "recordings/F/R" is the file root/recordings/F/R.
// The root is created if missing. The root also holds what is not a blob — files at its top
// (the database, app.key) and the folders tmp/, models/ and backups/ — which List() leaves out.
Result<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::filesystem::path& root);

}  // namespace crm::blobs
