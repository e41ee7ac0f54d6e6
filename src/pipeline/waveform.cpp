#include "pipeline/waveform.h"

#include "common/log.h"
#include "pipeline/recording_audio.h"

namespace crm::pipeline {

std::string PeaksKey(const std::string& recording_blob_key) {
  return recording_blob_key + ".peaks";
}

namespace {

Status Store(blobs::BlobStore& blobs, const std::string& recording_blob_key,
             const audio::Peaks& peaks) {
  blobs::PutOptions po;
  po.overwrite = true;
  return blobs.PutBytes(PeaksKey(recording_blob_key), audio::EncodePeaks(peaks), po);
}

}  // namespace

Status SavePeaksOfSamples(blobs::BlobStore& blobs, const std::string& recording_blob_key,
                          const audio::SampleSource& samples) {
  CRM_ASSIGN_OR_RETURN(audio::Peaks peaks, audio::ComputePeaks(samples));
  return Store(blobs, recording_blob_key, peaks);
}

Status SavePeaksOfFile(blobs::BlobStore& blobs, const std::string& recording_blob_key,
                       const ProgressSink& progress) {
  CRM_ASSIGN_OR_RETURN(auto source, OpenBlobSource(blobs, recording_blob_key));
  CRM_ASSIGN_OR_RETURN(audio::Peaks peaks,
                       audio::ComputePeaksOfSource(std::move(source), {}, progress));
  return Store(blobs, recording_blob_key, peaks);
}

std::string PeaksFailedKey(const std::string& recording_blob_key) {
  return recording_blob_key + ".peaks-failed";
}

Result<std::optional<audio::Peaks>> LoadPeaks(blobs::BlobStore& blobs,
                                              const std::string& recording_blob_key) {
  const std::string key = PeaksKey(recording_blob_key);
  CRM_ASSIGN_OR_RETURN(bool exists, blobs.Exists(key));
  if (!exists) return std::optional<audio::Peaks>();
  CRM_ASSIGN_OR_RETURN(int64_t size, blobs.Size(key));
  CRM_ASSIGN_OR_RETURN(std::string bytes, blobs.ReadRange(key, 0, size));
  auto peaks = audio::DecodePeaks(bytes);
  if (!peaks.ok()) {
    log::Warn("waveform peaks damaged; they will be computed again", {{"key", key}});
    return std::optional<audio::Peaks>();
  }
  return std::optional<audio::Peaks>(std::move(*peaks));
}

Result<std::string> EnqueueWaveform(jobs::JobQueue& queue, const std::string& firm_id,
                                    const std::string& recording_id) {
  jobs::EnqueueOptions eo;
  eo.dedupe_key = "waveform:" + recording_id;
  eo.priority = 1;  // a user is waiting for it, and it is short beside a transcription
  return queue.Enqueue(kWaveformJobKind, firm_id, {{"recording_id", recording_id}}, eo);
}

jobs::Handler WaveformJob::Handler() {
  return [this](jobs::JobContext& ctx) { return Run(ctx); };
}

Result<jobs::ResultWriter> WaveformJob::Run(jobs::JobContext& ctx) {
  const std::string firm = ctx.job().firm_id.value_or("");
  const std::string id = ctx.payload().value("recording_id", "");
  CRM_ASSIGN_OR_RETURN(
      auto row,
      store_.QueryOne("SELECT blob_key FROM recordings WHERE firm_id = ? AND id = ?", {firm, id}));
  if (!row) return jobs::ResultWriter();  // deleted since it was queued
  const std::string blob_key = row->Text("blob_key");
  CRM_ASSIGN_OR_RETURN(auto stored, LoadPeaks(blobs_, blob_key));
  if (stored) return jobs::ResultWriter();  // the recording's own job wrote them meanwhile
  ctx.ReportProgress(0.0, "waveform");
  Status st = SavePeaksOfFile(blobs_, blob_key, ctx.Sink(0.0, 1.0, "waveform"));
  if (!st.ok()) {
    const ErrorCode code = st.error().code;
    if (code == ErrorCode::kUndecodable || code == ErrorCode::kNotFound ||
        code == ErrorCode::kUnsupportedMediaType) {
      blobs::PutOptions po;
      po.overwrite = true;
      (void)blobs_.PutBytes(PeaksFailedKey(blob_key), st.error().message, po);
    }
    return st.take_error();
  }
  log::Info("waveform peaks computed by their job", {{"recording_id", id}});
  return jobs::ResultWriter();
}

}  // namespace crm::pipeline
