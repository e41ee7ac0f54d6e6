// The two VoiceActivityDetector implementations, the factory that picks one, and file-level
// detection over a decoding stream.
#include "audio/vad.h"

#include <algorithm>

#include "audio/decoder.h"
#include "audio/sample_source.h"
#include "audio/vad/energy_detector.h"
#include "audio/vad/segmentation.h"
#include "audio/vad/silero_network.h"
#include "common/log.h"
#include "common/paths.h"

namespace crm::audio {
namespace {

using vad::EnergyStream;
using vad::SileroNetwork;
using vad::SileroStream;

// Silero's recommended options for crm-ai (README: how they were chosen).
SegmentationOptions SileroSegmentation() {
  SegmentationOptions o;
  o.threshold = 0.3f;
  o.neg_threshold = -1.f;
  o.min_speech_seconds = 0.25;
  o.min_silence_seconds = 1.0;
  o.pad_seconds = 0.2;
  return o;
}

// The energy detector's options, tuned the same way.
SegmentationOptions EnergySegmentation() {
  SegmentationOptions o;
  o.threshold = 0.5f;
  o.neg_threshold = 0.35f;
  o.min_speech_seconds = 0.25;
  o.min_silence_seconds = 1.0;
  o.pad_seconds = 0.2;
  return o;
}

class SileroVadStream : public VadStream {
 public:
  explicit SileroVadStream(std::shared_ptr<const SileroNetwork> net) : s_(std::move(net)) {}
  void Feed(const float* pcm, size_t n, std::vector<float>* p) override { s_.Feed(pcm, n, p); }
  void Finish(std::vector<float>* p) override { s_.Finish(p); }

 private:
  SileroStream s_;
};

class EnergyVadStream : public VadStream {
 public:
  void Feed(const float* pcm, size_t n, std::vector<float>* p) override { s_.Feed(pcm, n, p); }
  void Finish(std::vector<float>* p) override { s_.Finish(p); }

 private:
  EnergyStream s_;
};

// Shared by both detectors: whole-buffer calls are a stream fed in one-second pieces, so that
// progress and cancellation are checked as the work goes.
class StreamingDetector : public VoiceActivityDetector {
 public:
  explicit StreamingDetector(SegmentationOptions segmentation) : seg_(segmentation) {}

  Result<std::vector<float>> Probabilities(const float* pcm, size_t n,
                                           const ProgressSink& progress) override {
    std::vector<float> p;
    auto stream = NewStream();
    constexpr size_t kPiece = kSampleRate;
    for (size_t pos = 0; pos < n; pos += kPiece) {
      if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "voice detection cancelled");
      stream->Feed(pcm + pos, std::min(kPiece, n - pos), &p);
      progress.Report(static_cast<double>(pos) / static_cast<double>(n));
    }
    stream->Finish(&p);
    progress.Report(1.0);
    return p;
  }

  Result<std::vector<SpeechSegment>> Detect(const float* pcm, size_t n,
                                            const ProgressSink& progress) override {
    CRM_ASSIGN_OR_RETURN(auto p, Probabilities(pcm, n, progress));
    return vad::SegmentSpeech(p, frame_seconds(), static_cast<double>(n) / kSampleRate, seg_);
  }

  SegmentationOptions segmentation() const override { return seg_; }

 private:
  SegmentationOptions seg_;
};

class SileroDetector : public StreamingDetector {
 public:
  SileroDetector(std::shared_ptr<const SileroNetwork> net, SegmentationOptions seg)
      : StreamingDetector(seg), net_(std::move(net)) {}
  std::string name() const override { return "silero"; }
  double frame_seconds() const override {
    return static_cast<double>(vad::kSileroFrame) / kSampleRate;
  }
  std::unique_ptr<VadStream> NewStream() const override {
    return std::make_unique<SileroVadStream>(net_);
  }

 private:
  std::shared_ptr<const SileroNetwork> net_;
};

class EnergyDetector : public StreamingDetector {
 public:
  explicit EnergyDetector(SegmentationOptions seg) : StreamingDetector(seg) {}
  std::string name() const override { return "energy"; }
  double frame_seconds() const override { return EnergyStream().frame_seconds(); }
  std::unique_ptr<VadStream> NewStream() const override {
    return std::make_unique<EnergyVadStream>();
  }
};

}  // namespace

std::string SileroModelPath(const VadOptions& options) {
  if (!options.model_path.empty()) return options.model_path;
  return ExecutableDir() + "/" + kSileroModelFile;
}

Result<std::unique_ptr<VoiceActivityDetector>> MakeSileroDetector(const VadOptions& options) {
  CRM_ASSIGN_OR_RETURN(vad::SileroWeights w, vad::LoadSileroModel(SileroModelPath(options)));
  auto net = std::make_shared<const SileroNetwork>(w);
  return std::unique_ptr<VoiceActivityDetector>(std::make_unique<SileroDetector>(
      std::move(net), options.segmentation.value_or(SileroSegmentation())));
}

std::unique_ptr<VoiceActivityDetector> MakeEnergyDetector(const VadOptions& options) {
  return std::make_unique<EnergyDetector>(options.segmentation.value_or(EnergySegmentation()));
}

std::unique_ptr<VoiceActivityDetector> MakeVoiceActivityDetector(const VadOptions& options,
                                                                 std::string* warning) {
  std::string why;
  if (options.kind == "energy") return MakeEnergyDetector(options);
  if (options.kind == "silero" || options.kind.empty()) {
    auto silero = MakeSileroDetector(options);
    if (silero.ok()) return std::move(silero).value();
    why = silero.error().message;
  } else {
    why = "unknown voice activity detector '" + options.kind + "' (expected silero or energy)";
  }
  why += "; using the energy detector";
  if (warning)
    *warning = why;
  else
    log::Warn(why, {{"component", "vad"}});
  return MakeEnergyDetector(options);
}

VadReport DescribeVoiceActivityDetector(const VadOptions& options) {
  VadReport r;
  if (options.kind == "energy") {
    r.active = "energy";
    r.detail = "energy detector (VAD=energy)";
    return r;
  }
  std::string warning;
  auto d = MakeVoiceActivityDetector(options, &warning);
  r.active = d->name();
  r.degraded = !warning.empty();
  r.detail = r.degraded ? warning : "Silero VAD v5 from " + SileroModelPath(options);
  return r;
}

namespace {

// Feeds the detector's stream everything `read` gives, in pieces of 4 s, and segments as it
// goes: the segments Detect() gives on the whole samples, in memory independent of the length.
// `expected` (samples, 0 when unknown) only scales the progress.
template <typename Read>
Result<std::vector<SpeechSegment>> SegmentStream(const VoiceActivityDetector& detector,
                                                 VadStream& stream, Read&& read, double expected,
                                                 const ProgressSink& progress) {
  vad::SpeechSegmenter segmenter(detector.frame_seconds(), detector.segmentation());
  std::vector<float> piece(kSampleRate * 4);
  std::vector<float> p;
  std::vector<SpeechSegment> segments;
  size_t samples = 0;
  for (;;) {
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "voice detection cancelled");
    CRM_ASSIGN_OR_RETURN(size_t got, read(samples, piece.data(), piece.size()));
    if (got == 0) break;
    samples += got;
    p.clear();
    stream.Feed(piece.data(), got, &p);
    segmenter.Push(p.data(), p.size(), &segments);
    if (expected > 0) progress.Report(std::min(0.99, static_cast<double>(samples) / expected));
  }
  p.clear();
  stream.Finish(&p);
  segmenter.Push(p.data(), p.size(), &segments);
  segmenter.Finish(static_cast<double>(samples) / kSampleRate, &segments);
  progress.Report(1.0);
  return segments;
}

}  // namespace

Result<std::vector<SpeechSegment>> DetectSpeechInFile(const VoiceActivityDetector& detector,
                                                      const std::string& path,
                                                      const ProgressSink& progress) {
  CRM_ASSIGN_OR_RETURN(auto pcm, PcmStream::Open(path, kSampleRate));
  auto stream = detector.NewStream();
  if (!stream) return Internal("detector '" + detector.name() + "' cannot stream");
  return SegmentStream(
      detector, *stream, [&](size_t, float* out, size_t n) { return pcm->Read(out, n); },
      pcm->info().duration_seconds * kSampleRate, progress);
}

Result<std::vector<SpeechSegment>> DetectSpeech(const VoiceActivityDetector& detector,
                                                const SampleSource& source,
                                                const ProgressSink& progress) {
  if (source.sample_rate() != kSampleRate) {
    return InvalidArgument("voice activity detection needs 16 kHz audio");
  }
  auto stream = detector.NewStream();
  if (!stream) {
    std::vector<float> all(source.size());
    CRM_ASSIGN_OR_RETURN(size_t got, source.Read(0, all.data(), all.size()));
    all.resize(got);
    // Detect() is not const; the detector is only read through it.
    return const_cast<VoiceActivityDetector&>(detector).Detect(all.data(), all.size(), progress);
  }
  return SegmentStream(
      detector, *stream,
      [&](size_t at, float* out, size_t n) { return source.Read(at, out, n); },
      static_cast<double>(source.size()), progress);
}

}  // namespace crm::audio
