#include "pipeline/resumable_uploads.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "pipeline/upload_sink.h"

namespace crm::pipeline {

using nlohmann::json;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

Error UploadNotFound() {
  return NotFound("Ce téléversement est introuvable ou a expiré. / Upload not found or expired.");
}

}  // namespace

// Appends one request's body to the upload's file. Keeps what arrived when the request breaks.
class AppendSink final : public http::BodySink {
 public:
  AppendSink(ResumableUploads& owner, std::string id, int fd, int64_t room)
      : owner_(owner), id_(std::move(id)), fd_(fd), room_(room) {}
  ~AppendSink() override {
    Close();
    owner_.Unlock(id_);
  }
  Status Write(const char* data, size_t n) override {
    if (written_ + static_cast<int64_t>(n) > room_)
      return Error(ErrorCode::kPayloadTooLarge,
                   "Plus d'octets que la longueur annoncée du téléversement. / More bytes than the "
                   "upload's declared length.",
                   {{"remaining_bytes", room_ - written_}});
    while (n > 0) {
      ssize_t w = ::write(fd_, data, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return IoError(std::string("writing the upload failed: ") + std::strerror(errno));
      data += w;
      n -= static_cast<size_t>(w);
      written_ += w;
    }
    return OkStatus();
  }
  Status Finish(http::Request&) override {
    Close();
    return OkStatus();
  }
  void Abort() override { Close(); }  // the bytes received so far stay: the client resumes

 private:
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  ResumableUploads& owner_;
  std::string id_;
  int fd_;
  int64_t room_;
  int64_t written_ = 0;
};

json UploadInfo::ToJson() const {
  return {{"id", id},
          {"length", length},
          {"offset", offset},
          {"metadata", metadata},
          {"recording_id", recording_id ? json(*recording_id) : json(nullptr)},
          {"expires_at", expires_at}};
}

Result<UploadInfo> ResumableUploads::FromRow(const storage::Row& row) {
  UploadInfo u;
  u.id = row.Text("id");
  u.length = row.Int("length");
  u.metadata = json::parse(row.Text("metadata"), nullptr, false);
  if (u.metadata.is_discarded()) u.metadata = json::object();
  u.recording_id = row.OptText("recording_id");
  u.offset = u.recording_id ? u.length : FileSize(FilePath(u.id));
  u.expires_at = FormatIsoUtc(row.Int("expires_ms") / 1000);
  return u;
}

Result<UploadInfo> ResumableUploads::Create(const Principal& who, int64_t length,
                                            const json& metadata) {
  std::string id = NewId();
  std::error_code ec;
  std::filesystem::create_directories(tmp_dir_, ec);
  int fd = ::open(FilePath(id).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create the upload file in " + tmp_dir_);
  ::close(fd);
  std::string now = NowIsoUtc();
  auto st = store_.Exec(
      "INSERT INTO uploads (id, firm_id, created_by, length, metadata, expires_ms, created_at, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {id, who.firm_id, who.user_id.empty() ? who.api_key_id : who.user_id, length, metadata.dump(),
       NowMs() + ttl_.count() * 1000, now, now});
  if (!st.ok()) {
    ::unlink(FilePath(id).c_str());
    return st.take_error();
  }
  return Get(who.firm_id, id);
}

Result<UploadInfo> ResumableUploads::Get(const std::string& firm_id, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(
      auto row,
      store_.QueryOne("SELECT * FROM uploads WHERE firm_id = ? AND id = ? AND expires_ms > ?",
                      {firm_id, id, NowMs()}));
  if (!row) return UploadNotFound();
  return FromRow(*row);
}

Result<std::unique_ptr<http::BodySink>> ResumableUploads::NewAppendSink(
    const std::string& firm_id, const std::string& id, int64_t offset,
    std::optional<uint64_t> content_length) {
  CRM_ASSIGN_OR_RETURN(UploadInfo u, Get(firm_id, id));
  if (u.recording_id)
    return Error(ErrorCode::kConflict,
                 "Ce téléversement est déjà terminé. / Upload already complete.",
                 {{"offset", u.offset}, {"recording_id", *u.recording_id}}, "upload_complete");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!busy_.insert(id).second)
      return Error(ErrorCode::kConflict,
                   "Un autre envoi est en cours pour ce téléversement. / Another request is "
                   "appending to this upload.",
                   {{"offset", u.offset}}, "upload_busy");
  }
  auto unlock_on_error = [&](Error e) -> Error {
    Unlock(id);
    return e;
  };
  int64_t current = FileSize(FilePath(id));
  if (offset != current)
    return unlock_on_error(Error(ErrorCode::kConflict,
                                 "Upload-Offset ne correspond pas à la position actuelle (" +
                                     std::to_string(current) + "). / Upload-Offset mismatch.",
                                 {{"offset", current}}, "offset_mismatch"));
  int64_t room = u.length - current;
  if (content_length && static_cast<int64_t>(*content_length) > room)
    return unlock_on_error(Error(ErrorCode::kPayloadTooLarge,
                                 "Plus d'octets que la longueur annoncée du téléversement. / More "
                                 "bytes than the upload's declared length.",
                                 {{"remaining_bytes", room}}));
  int fd = ::open(FilePath(id).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return unlock_on_error(IoError("cannot open the upload file"));
  (void)store_.Exec("UPDATE uploads SET expires_ms = ?, updated_at = ? WHERE id = ?",
                    {NowMs() + ttl_.count() * 1000, NowIsoUtc(), id});
  return std::unique_ptr<http::BodySink>(std::make_unique<AppendSink>(*this, id, fd, room));
}

void ResumableUploads::Unlock(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  busy_.erase(id);
}

Status ResumableUploads::MarkCompleted(const std::string& firm_id, const std::string& id,
                                       const std::string& recording_id) {
  CRM_TRY(store_.Exec(
      "UPDATE uploads SET recording_id = ?, updated_at = ? WHERE firm_id = ? AND id = ?",
      {recording_id, NowIsoUtc(), firm_id, id}));
  ::unlink(FilePath(id).c_str());
  return OkStatus();
}

Status ResumableUploads::Remove(const std::string& firm_id, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(
      int64_t n, store_.Exec("DELETE FROM uploads WHERE firm_id = ? AND id = ?", {firm_id, id}));
  if (n == 0) return UploadNotFound();
  ::unlink(FilePath(id).c_str());
  return OkStatus();
}

Result<int> ResumableUploads::SweepExpired() {
  CRM_ASSIGN_OR_RETURN(auto rows,
                       store_.Query("SELECT id FROM uploads WHERE expires_ms <= ?", {NowMs()}));
  int removed = 0;
  for (auto& r : rows) {
    std::string id = r.Text("id");
    CRM_TRY(store_.Exec("DELETE FROM uploads WHERE id = ?", {id}));
    ::unlink(FilePath(id).c_str());
    ++removed;
  }
  if (removed > 0) log::Info("expired uploads removed", {{"count", removed}});
  return removed;
}

}  // namespace crm::pipeline
