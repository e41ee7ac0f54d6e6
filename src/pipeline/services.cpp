#include "pipeline/services.h"

#include "audio/decoder.h"
#include "common/log.h"

namespace crm::pipeline {

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

Result<nlohmann::json> AcceptRecording(Services& s, const Principal& who,
                                       const domain::RecordingTarget& target,
                                       const domain::UploadMetadata& meta, UploadedFile& file) {
  if (file.size() == 0)
    return Error(ErrorCode::kUnsupportedMediaType, "Le fichier est vide. / The file is empty.",
                 nullptr, "unsupported_media_type");
  auto info = audio::Probe(file.path());
  if (!info.ok()) return MediaError(info.error());

  std::string temp_key = blobs::NewTemporaryKey();
  CRM_TRY(s.blobs.Put(temp_key, file.path()));
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
  auto created = s.recordings.Create(who, rec, temp_key);
  if (!created.ok()) {
    (void)s.blobs.Delete(temp_key);
    return created.take_error();
  }
  std::string id = (*created)["id"].get<std::string>();
  auto job = s.pipeline.Enqueue(s.queue, who.firm_id, id, info->duration_seconds);
  if (!job.ok()) {
    // The recording is kept; POST /api/recordings/{id}/transcribe queues it again.
    log::Error("transcription job not queued",
               {{"recording_id", id}, {"error", job.error().message}});
    return created;
  }
  auto out = s.recordings.Get(who.firm_id, id);
  if (!out.ok()) return created;
  (*out)["duplicates"] = (*created)["duplicates"];
  return out;
}

}  // namespace crm::pipeline
