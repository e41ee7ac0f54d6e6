#include "pipeline/recording_audio.h"

#include <algorithm>

#include "audio/vad/segmentation.h"
#include "common/log.h"

namespace crm::pipeline {

namespace {

// Samples fed to the detector per step (4 s).
constexpr size_t kVadPieceSamples = 4 * audio::kSampleRate;
// When Speech() has to decode first, the share of its progress the decode takes.
constexpr double kDecodeShare = 0.7;

ProgressSink Part(const ProgressSink& whole, double from, double to) {
  ProgressSink part;
  part.is_cancelled = whole.is_cancelled;
  if (whole.on_progress)
    part.on_progress = [&whole, from, to](double f) { whole.Report(from + (to - from) * f); };
  return part;
}

}  // namespace

Result<std::vector<audio::SpeechSegment>> DetectSpeech(const audio::VoiceActivityDetector& detector,
                                                       const audio::SampleSource& source,
                                                       const ProgressSink& progress) {
  if (source.sample_rate() != audio::kSampleRate)
    return InvalidArgument("voice activity detection needs 16 kHz audio");
  const size_t n = source.size();
  auto stream = detector.NewStream();
  if (!stream) {
    std::vector<float> all(n);
    CRM_ASSIGN_OR_RETURN(size_t got, source.Read(0, all.data(), n));
    all.resize(got);
    // Detect() is not const; the detector is only read through it.
    return const_cast<audio::VoiceActivityDetector&>(detector).Detect(all.data(), all.size(),
                                                                      progress);
  }
  audio::vad::SpeechSegmenter segmenter(detector.frame_seconds(), detector.segmentation());
  std::vector<float> piece(kVadPieceSamples);
  std::vector<float> probabilities;
  std::vector<audio::SpeechSegment> segments;
  for (size_t at = 0; at < n;) {
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "voice detection cancelled");
    CRM_ASSIGN_OR_RETURN(size_t got, source.Read(at, piece.data(), piece.size()));
    if (got == 0) break;
    at += got;
    probabilities.clear();
    stream->Feed(piece.data(), got, &probabilities);
    segmenter.Push(probabilities.data(), probabilities.size(), &segments);
    progress.Report(std::min(0.99, static_cast<double>(at) / static_cast<double>(n)));
  }
  probabilities.clear();
  stream->Finish(&probabilities);
  segmenter.Push(probabilities.data(), probabilities.size(), &segments);
  segmenter.Finish(source.duration_seconds(), &segments);
  progress.Report(1.0);
  return segments;
}

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
                         Samples(Part(progress, 0.0, detect_from)));
    std::string warning;
    auto detector = audio::MakeVoiceActivityDetector(vad_, &warning);
    if (!warning.empty()) log::Warn(warning);
    CRM_ASSIGN_OR_RETURN(speech_,
                         DetectSpeech(*detector, *samples, Part(progress, detect_from, 1.0)));
    have_speech_ = true;
  }
  return &speech_;
}

}  // namespace crm::pipeline
