#include "pipeline/recording_audio.h"

#include "common/log.h"

namespace crm::pipeline {

namespace {

// When Speech() has to decode first, the share of its progress the decode takes.
constexpr double kDecodeShare = 0.7;

}  // namespace

RecordingAudio::RecordingAudio(std::string media_path, std::string tmp_dir, audio::VadOptions vad)
    : media_path_(std::move(media_path)), tmp_dir_(std::move(tmp_dir)), vad_(std::move(vad)) {}

Result<const audio::SampleSource*> RecordingAudio::Samples(const ProgressSink& progress) {
  if (!file_) {
    CRM_ASSIGN_OR_RETURN(file_, audio::DecodedFile::Decode(media_path_, tmp_dir_, progress));
    log::Info("recording decoded",
              {{"seconds", file_->duration_seconds()}, {"codec", file_->info().codec}});
  }
  return static_cast<const audio::SampleSource*>(file_.get());
}

Result<const std::vector<audio::SpeechSegment>*> RecordingAudio::Speech(
    const ProgressSink& progress) {
  if (!have_speech_) {
    const double detect_from = decoded() ? 0.0 : kDecodeShare;
    CRM_ASSIGN_OR_RETURN(const audio::SampleSource* samples,
                         Samples(progress.Part(0.0, detect_from)));
    std::string warning;
    auto detector = audio::MakeVoiceActivityDetector(vad_, &warning);
    if (!warning.empty()) log::Warn(warning);
    CRM_ASSIGN_OR_RETURN(speech_,
                         audio::DetectSpeech(*detector, *samples, progress.Part(detect_from, 1.0)));
    have_speech_ = true;
  }
  return &speech_;
}

}  // namespace crm::pipeline
