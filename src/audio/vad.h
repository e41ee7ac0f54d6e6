// Voice activity detection: where in 16 kHz mono audio someone speaks.
//
// Two implementations stand behind one interface: an energy/spectral detector that needs no
// model, and Silero VAD v5 run natively from its ONNX file. MakeVoiceActivityDetector() picks
// one from VadOptions (VAD / VAD_MODEL); a missing or damaged model file falls back to the energy
// detector with a single warning. Knows nothing of firms or HTTP.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/result.h"

namespace crm::audio {

struct SpeechSegment {
  double start = 0;  // seconds
  double end = 0;    // seconds
};

// Turning frame probabilities into speech segments (hysteresis). Defaults documented in vad.cpp
// and the module README.
struct SegmentationOptions {
  float threshold = 0.5f;            // a frame at or above this starts/continues speech
  float neg_threshold = -1.f;        // below this speech ends; <0 means threshold - 0.15
  double min_speech_seconds = 0.25;  // shorter bursts are dropped
  double min_silence_seconds = 0.1;  // shorter gaps are bridged
  double pad_seconds = 0.03;         // added on both sides of each segment
};

class VoiceActivityDetector {
 public:
  virtual ~VoiceActivityDetector() = default;
  virtual std::string name() const = 0;          // "silero" or "energy"
  virtual double frame_seconds() const = 0;      // hop between probabilities
  // Speech probability per frame for the whole buffer (16 kHz mono).
  virtual Result<std::vector<float>> Probabilities(const float* pcm, size_t n,
                                                   const ProgressSink& progress = {}) = 0;
  // Speech segments with the detector's recommended segmentation options.
  virtual Result<std::vector<SpeechSegment>> Detect(const float* pcm, size_t n,
                                                    const ProgressSink& progress = {}) = 0;
};

struct VadOptions {
  std::string kind = "silero";  // "silero" or "energy"
  std::string model_path;       // empty: silero_vad_v5.onnx found beside the executable
};

// Never fails: falls back to the energy detector (and says why in *warning) when Silero cannot
// be loaded.
std::unique_ptr<VoiceActivityDetector> MakeVoiceActivityDetector(const VadOptions& options,
                                                                 std::string* warning = nullptr);

}  // namespace crm::audio
