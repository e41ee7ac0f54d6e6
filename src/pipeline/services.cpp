#include "pipeline/services.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "audio/decoder.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"

namespace crm::pipeline {

namespace {

// An intake a dead process left: its blob without a row is deleted; its row without a job gets
// one.
Status FinishIntake(Services& s, const std::string& firm, const std::string& id, IntakeSweep* out) {
  CRM_ASSIGN_OR_RETURN(auto row, s.store.QueryOne("SELECT job_id, duration_seconds FROM recordings "
                                                  "WHERE firm_id = ? AND id = ?",
                                                  {firm, id}));
  if (!row) {
    CRM_TRY(s.blobs.Delete(domain::RecordingBlobKey(firm, id)));
    ++out->blobs_removed;
    return OkStatus();
  }
  if (row->IsNull("job_id")) {
    CRM_TRY(s.pipeline.Enqueue(s.queue, firm, id, row->Real("duration_seconds")));
    ++out->jobs_queued;
  }
  return OkStatus();
}

}  // namespace

Error MediaError(const Error& e) {
  if (e.code == ErrorCode::kUnsupportedMediaType)
    return Error(ErrorCode::kUnsupportedMediaType,
                 "Ce fichier n'est ni un enregistrement audio ni une vidéo. / This file is not "
                 "audio or video.",
                 nullptr, "unsupported_media_type");
  if (e.code == ErrorCode::kUndecodable)
    return Error(ErrorCode::kUndecodable,
                 "Cet enregistrement ne peut pas être décodé (fichier endommagé ou tronqué ?). / "
                 "This recording cannot be decoded (damaged or truncated file?).",
                 nullptr, "undecodable_audio");
  return e;
}

namespace {

// The intent of one intake, DATA_DIR/tmp/intake-<id>.key: "<firm>\n<recording id>\n", flock()ed
// while the request runs. It exists from before the blob is stored until the job is queued, so a
// process that dies in between leaves the sweep enough to finish or undo the intake.
class IntakeMarker {
 public:
  ~IntakeMarker() {
    if (fd_ >= 0) ::close(fd_);  // the lock goes with it; the file stays unless Done()
  }
  Status Create(const std::string& dir, const std::string& firm, const std::string& id) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    path_ = dir + "/" + std::string(kIntakePrefix) + id + ".key";
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) return IoError("cannot create the intake marker in " + dir);
    if (::flock(fd_, LOCK_EX) != 0) return IoError("cannot lock the intake marker");
    const std::string text = firm + "\n" + id + "\n";
    if (::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::fsync(fd_) != 0) {
      Done();
      return IoError("cannot write the intake marker (disk full?)");
    }
    return OkStatus();
  }
  // The intake finished (or was undone): nothing is left for the sweep.
  void Done() {
    if (!path_.empty()) ::unlink(path_.c_str());
    path_.clear();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

Result<nlohmann::json> AcceptRecording(Services& s, const Principal& who,
                                       const domain::RecordingTarget& target,
                                       const domain::UploadMetadata& meta, UploadedFile& file) {
  if (file.size() == 0)
    return Error(ErrorCode::kUnsupportedMediaType, "Le fichier est vide. / The file is empty.",
                 nullptr, "unsupported_media_type");
  // The intake file is local (it was streamed to DATA_DIR/tmp), whatever the blob store is.
  auto info = audio::Probe(file.path());
  if (!info.ok()) return MediaError(info.error());

  // Stored at its final key before the row exists; deleted if the row cannot be inserted.
  const std::string id = NewId();
  const std::string key = domain::RecordingBlobKey(who.firm_id, id);
  IntakeMarker marker;
  CRM_TRY(marker.Create(s.config.data_dir + "/tmp", who.firm_id, id));
  if (Status put = s.blobs.Put(key, file.path()); !put.ok()) {
    (void)s.blobs.Delete(key);
    marker.Done();
    return put.take_error();
  }
  file.Release();  // the blob store has it now

  domain::NewRecording rec;
  rec.client_id = target.client_id;
  rec.meeting_id = target.meeting_id;
  rec.title = meta.title;
  rec.original_name = !meta.filename.empty() ? meta.filename : file.filename;
  rec.language = meta.language;
  rec.consent = meta.consent;
  rec.media = {info->container,   info->codec,    info->duration_seconds,
               info->sample_rate, info->channels, info->has_video,
               file.size(),       file.sha256()};
  auto created = s.recordings.Create(who, rec, id);
  if (!created.ok()) {
    if (Status del = s.blobs.Delete(key); del.ok()) marker.Done();  // else the sweep retries
    return created.take_error();
  }
  auto job = s.pipeline.Enqueue(s.queue, who.firm_id, id, info->duration_seconds);
  if (!job.ok()) {
    // The recording is kept and the marker too: the next sweep (or POST
    // /api/recordings/{id}/transcribe) queues it.
    log::Error("transcription job not queued",
               {{"recording_id", id}, {"error", job.error().message}});
    return created;
  }
  marker.Done();
  auto out = s.recordings.Get(who.firm_id, id);
  if (!out.ok()) return created;
  (*out)["duplicates"] = (*created)["duplicates"];
  return out;
}

Result<IntakeSweep> SweepAbandonedIntake(Services& s) {
  IntakeSweep out;
  const std::string dir = s.config.data_dir + "/tmp";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  std::vector<std::filesystem::path> found;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().rfind(kIntakePrefix, 0) == 0) found.push_back(it->path());
  if (ec) return IoError("cannot list " + dir + ": " + ec.message());
  for (const auto& path : found) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    // Held by a live process: an upload or an intake still in progress.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    }
    bool remove = true;
    if (path.extension() == ".key") {
      char buf[512];
      ssize_t n = ::read(fd, buf, sizeof buf - 1);
      auto lines = Split(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), '\n');
      if (lines.size() >= 2 && !lines[0].empty() && !lines[1].empty()) {
        remove = FinishIntake(s, lines[0], lines[1], &out).ok();
      }
    } else {
      ++out.uploads_removed;
    }
    if (remove) ::unlink(path.c_str());
    ::close(fd);
  }
  if (out.uploads_removed + out.blobs_removed + out.jobs_queued > 0)
    log::Info("abandoned uploads swept", {{"uploads_removed", out.uploads_removed},
                                         {"blobs_removed", out.blobs_removed},
                                         {"jobs_queued", out.jobs_queued}});
  return out;
}

}  // namespace crm::pipeline
