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
  CRM_ASSIGN_OR_RETURN(audio::Peaks peaks, audio::ComputePeaksOfSource(std::move(source), {}, progress));
  return Store(blobs, recording_blob_key, peaks);
}

Result<std::optional<audio::Peaks>> WaveformPeaks::Load(const std::string& key) {
  CRM_ASSIGN_OR_RETURN(bool exists, blobs_.Exists(key));
  if (!exists) return std::optional<audio::Peaks>();
  CRM_ASSIGN_OR_RETURN(int64_t size, blobs_.Size(key));
  CRM_ASSIGN_OR_RETURN(std::string bytes, blobs_.ReadRange(key, 0, size));
  auto peaks = audio::DecodePeaks(bytes);
  if (!peaks.ok()) {
    log::Warn("waveform peaks damaged; computing them again", {{"key", key}});
    return std::optional<audio::Peaks>();
  }
  return std::optional<audio::Peaks>(std::move(*peaks));
}

Result<audio::Peaks> WaveformPeaks::LoadOrCompute(const std::string& recording_blob_key) {
  const std::string key = PeaksKey(recording_blob_key);
  {
    std::unique_lock lock(mu_);
    done_.wait(lock, [&] { return !computing_.contains(recording_blob_key); });
    CRM_ASSIGN_OR_RETURN(auto stored, Load(key));
    if (stored) return std::move(*stored);
    computing_.insert(recording_blob_key);
  }
  Status st = SavePeaksOfFile(blobs_, recording_blob_key);
  {
    std::lock_guard lock(mu_);
    computing_.erase(recording_blob_key);
  }
  done_.notify_all();
  CRM_TRY(st);
  log::Info("waveform peaks computed on request", {{"key", key}});
  CRM_ASSIGN_OR_RETURN(auto stored, Load(key));
  if (!stored) return Error(ErrorCode::kInternal, "waveform peaks not stored");
  return std::move(*stored);
}

}  // namespace crm::pipeline
