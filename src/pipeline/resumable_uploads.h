// Resumable uploads (the tus protocol's offset semantics) for large files on poor connections.
//
// An upload is created with its total length and the metadata of the recording it will become;
// its bytes are appended in any number of requests, each stating the offset it starts at (409
// when it is not the current one). The bytes received so far are DATA_DIR/tmp/upload-<id>: an
// interrupted request keeps what arrived, and the client asks for the offset (HEAD) and resumes
// from there. Once the offset reaches the length the caller turns the file into a recording.
// Uploads belong to a firm (another firm's is kNotFound), one request appends at a time, and an
// upload untouched for `ttl` expires (row and file removed by SweepExpired).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "common/principal.h"
#include "common/result.h"
#include "http/message.h"
#include "storage/store.h"

namespace crm::pipeline {

struct UploadInfo {
  std::string id;
  int64_t length = 0;
  int64_t offset = 0;
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<std::string> recording_id;  // set once completed
  std::string expires_at;
  nlohmann::json ToJson() const;
};

class ResumableUploads {
 public:
  ResumableUploads(storage::Store& store, std::string tmp_dir,
                   std::chrono::seconds ttl = std::chrono::hours(24))
      : store_(store), tmp_dir_(std::move(tmp_dir)), ttl_(ttl) {}

  Result<UploadInfo> Create(const Principal& who, int64_t length, const nlohmann::json& metadata);
  // kNotFound for another firm's, a missing or an expired upload.
  Result<UploadInfo> Get(const std::string& firm_id, const std::string& id);
  // A sink appending the request body at `offset`: kConflict (with the current offset in
  // details) when `offset` is not the current one or another request is appending; 413 when
  // the body would pass the declared length.
  Result<std::unique_ptr<http::BodySink>> NewAppendSink(const std::string& firm_id,
                                                        const std::string& id, int64_t offset,
                                                        std::optional<uint64_t> content_length);
  Status MarkCompleted(const std::string& firm_id, const std::string& id,
                       const std::string& recording_id);
  // Removes the row and the file.
  Status Remove(const std::string& firm_id, const std::string& id);
  // Removes expired uploads; returns how many.
  Result<int> SweepExpired();

  std::string FilePath(const std::string& id) const { return tmp_dir_ + "/upload-" + id; }

 private:
  friend class AppendSink;
  void Unlock(const std::string& id);
  Result<UploadInfo> FromRow(const storage::Row& row);

  storage::Store& store_;
  std::string tmp_dir_;
  std::chrono::seconds ttl_;
  std::mutex mu_;
  std::set<std::string> busy_;  // uploads with a request appending now
};

}  // namespace crm::pipeline
