// Streaming uploads: a BodySink that writes an uploaded file to DATA_DIR/tmp while hashing it
// (SHA-256), in memory independent of the file's size, from a raw body or multipart/form-data.
//
// - Raw body: every byte is the file; metadata comes from the query string.
// - multipart/form-data: a streaming parser writes only the part named `file` to disk and keeps
//   the other parts (small text fields such as `consent`, `meeting_id`, `model`) in memory, each
//   at most kMaxFieldBytes.
// - UPLOAD_MAX_BYTES applies to the file itself, not the multipart envelope: a declared
//   Content-Length over the limit is refused before any byte is read, and the limit is enforced
//   again while streaming (chunked bodies, lying lengths).
// - The temporary file never outlives its owner: the sink removes it on Abort() or when it is
//   destroyed without finishing; an UploadedFile removes it when destroyed unless Release()d.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/ids.h"
#include "common/result.h"
#include "http/message.h"

namespace crm::pipeline {

inline constexpr size_t kMaxFieldBytes = 64 * 1024;
inline constexpr size_t kMaxFields = 32;
// Room allowed for the multipart envelope (part headers, boundaries, text fields) when a
// declared Content-Length is compared with the file limit.
inline constexpr int64_t kEnvelopeAllowance = 1 << 20;

// Direct uploads stream to DATA_DIR/tmp/intake-<id> (resumable ones live in upload-<id>).
inline constexpr std::string_view kIntakePrefix = "intake-";

// A finished upload on local disk, durable (synced). Removes its file when destroyed unless
// Release()d. `fd`, when given, is the open, flock()ed file, closed on destruction: the lock tells
// SweepAbandonedIntake that a live process still owns the file.
class UploadedFile {
 public:
  UploadedFile(std::string path, int64_t size, std::string sha256, int fd = -1)
      : path_(std::move(path)), size_(size), sha256_(std::move(sha256)), fd_(fd) {}
  ~UploadedFile();
  UploadedFile(const UploadedFile&) = delete;
  UploadedFile& operator=(const UploadedFile&) = delete;

  const std::string& path() const { return path_; }
  int64_t size() const { return size_; }
  const std::string& sha256() const { return sha256_; }
  // The file is someone else's now (moved into the blob store): do not remove it.
  void Release() { released_ = true; }

  std::map<std::string, std::string> fields;  // multipart text fields (or the query string)
  std::string filename;                       // from the file part's Content-Disposition
  std::string content_type;                   // of the file part / the raw body

 private:
  std::string path_;
  int64_t size_;
  std::string sha256_;
  int fd_ = -1;
  bool released_ = false;
};

struct UploadSinkOptions {
  std::string tmp_dir;          // DATA_DIR/tmp
  int64_t max_file_bytes = 0;   // UPLOAD_MAX_BYTES
  bool multipart_only = false;  // /v1: the OpenAI wire format is always multipart
};

// 413 payload_too_large with the limit in details, French first.
Error UploadTooLarge(int64_t max_bytes);

// Builds the sink for one request from its headers: multipart when the Content-Type says so
// (its boundary required), raw otherwise. Refuses at once a Content-Length that cannot fit.
Result<std::unique_ptr<http::BodySink>> NewUploadSink(const http::Request& headers,
                                                      std::optional<uint64_t> content_length,
                                                      const UploadSinkOptions& options);

// The UploadedFile a finished sink stored into req.upload (nullptr when none).
std::shared_ptr<UploadedFile> TakeUpload(http::Request& req);

// Boundary of a multipart/form-data Content-Type; empty when absent or not multipart.
std::string MultipartBoundary(const std::string& content_type);

}  // namespace crm::pipeline
