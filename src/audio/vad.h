// Voice activity detection: where in 16 kHz mono audio someone speaks.
//
// Two implementations stand behind one interface: an energy/spectral detector that needs no
// model, and Silero VAD v5 run natively from its ONNX file. MakeVoiceActivityDetector() picks
// one from VadOptions (VAD / VAD_MODEL); a missing or damaged model file falls back to the energy
// detector with a single warning. Knows nothing of firms or HTTP.
//
// Both detectors stream: NewStream() turns audio fed in pieces into frame probabilities with
// state carried across calls; DetectSpeech() runs a detector over a SampleSource and
// DetectSpeechInFile() over a file decoded piece by piece, in memory bounded whatever the length. Implementation and design notes:
// audio/vad/README.md.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/result.h"

namespace crm::audio {

struct SpeechSegment {
  double start = 0;  // seconds
  double end = 0;    // seconds
};

// Turning frame probabilities into speech segments (hysteresis; audio/vad/segmentation.h).
// The defaults are Silero's recommended options for crm-ai (audio/vad/README.md): one set for
// every recording, chosen on the AMI meeting fixtures.
struct SegmentationOptions {
  float threshold = 0.5f;            // a frame at or above this starts/continues speech
  float neg_threshold = -1.f;        // below this speech ends; <0 means threshold - 0.15
  double min_speech_seconds = 0.25;  // shorter bursts are dropped
  double min_silence_seconds = 0.1;  // shorter gaps are bridged
  double pad_seconds = 0.03;         // added on both sides of each segment
};

// Incremental probabilities: Feed() pieces of any size (16 kHz mono) and receive the
// probabilities of the frames they complete (a detector may hold a few back for look-ahead);
// Finish() flushes the rest, completing a partial last frame with zeros.
class VadStream {
 public:
  virtual ~VadStream() = default;
  virtual void Feed(const float* pcm, size_t n, std::vector<float>* probabilities) = 0;
  virtual void Finish(std::vector<float>* probabilities) = 0;
};

class VoiceActivityDetector {
 public:
  virtual ~VoiceActivityDetector() = default;
  virtual std::string name() const = 0;      // "silero" or "energy"
  virtual double frame_seconds() const = 0;  // hop between probabilities
  // Speech probability per frame for the whole buffer (16 kHz mono).
  virtual Result<std::vector<float>> Probabilities(const float* pcm, size_t n,
                                                   const ProgressSink& progress = {}) = 0;
  // Speech segments with the detector's recommended segmentation options.
  virtual Result<std::vector<SpeechSegment>> Detect(const float* pcm, size_t n,
                                                    const ProgressSink& progress = {}) = 0;
  // The segmentation options Detect() uses.
  virtual SegmentationOptions segmentation() const { return {}; }
  // A fresh stream of probabilities (state carried across its calls); nullptr when the
  // detector cannot stream.
  virtual std::unique_ptr<VadStream> NewStream() const { return nullptr; }
};

inline constexpr const char* kSileroModelFile = "silero_vad_v5.onnx";

struct VadOptions {
  std::string kind = "silero";  // "silero" or "energy"
  std::string model_path;       // empty: silero_vad_v5.onnx found beside the executable
  // Overrides the detector's recommended segmentation options when set.
  std::optional<SegmentationOptions> segmentation;
};

// The Silero model file the options point at: model_path, else ExecutableDir()/kSileroModelFile.
std::string SileroModelPath(const VadOptions& options);

// Never fails: falls back to the energy detector (and says why in *warning) when Silero cannot
// be loaded. Without `warning`, the reason is logged as one warning.
std::unique_ptr<VoiceActivityDetector> MakeVoiceActivityDetector(const VadOptions& options,
                                                                 std::string* warning = nullptr);

// The Silero detector itself, or the reason it cannot be loaded (for `doctor` and tests).
Result<std::unique_ptr<VoiceActivityDetector>> MakeSileroDetector(const VadOptions& options);
std::unique_ptr<VoiceActivityDetector> MakeEnergyDetector(const VadOptions& options = {});

// What `doctor` reports: the detector these options give, and why. `degraded` is true when
// Silero was asked for but the energy detector is what runs (a `warn`).
struct VadReport {
  std::string active;  // "silero" or "energy"
  std::string detail;  // e.g. "Silero VAD v5 from /opt/crm-ai/silero_vad_v5.onnx"
  bool degraded = false;
};
VadReport DescribeVoiceActivityDetector(const VadOptions& options);

class SampleSource;

// Speech segments of `source` (16 kHz), read in pieces through the detector's stream: the
// segments Detect() gives on the whole samples, in memory independent of the length. A detector
// that cannot stream is given the samples whole.
Result<std::vector<SpeechSegment>> DetectSpeech(const VoiceActivityDetector& detector,
                                                const SampleSource& source,
                                                const ProgressSink& progress = {});

// Speech segments of a whole file, decoded (any format FFmpeg reads, resampled to 16 kHz) and
// analysed piece by piece: memory stays bounded whatever the file's length.
Result<std::vector<SpeechSegment>> DetectSpeechInFile(const VoiceActivityDetector& detector,
                                                      const std::string& path,
                                                      const ProgressSink& progress = {});

}  // namespace crm::audio
