// Speaker embeddings: one vector per stretch of audio, close for the same voice.
//
// The diarizer only talks to SpeakerEmbedder, so a neural embedding model (an ONNX x-vector or
// ECAPA file, say) can be plugged in later without touching segmentation, clustering or
// re-segmentation. The shipped embedders need no model: StatisticsEmbedder describes a stretch by
// the mean of its cepstra, the long-term spectral envelope of the voice (the default,
// "cepstral-mean"), optionally with their spread; SupervectorEmbedder by a GMM adapted to it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "audio/sample_source.h"
#include "common/progress.h"
#include "common/result.h"
#include "diarization/matrix.h"
#include "diarization/resegmentation.h"

namespace crm::diarization {

// [begin, end) in feature frames (10 ms each).
struct FrameRange {
  size_t begin = 0;
  size_t end = 0;
  size_t size() const { return end > begin ? end - begin : 0; }
};

// What an embedder may look at. `features` has one row per 10 ms frame; frame i starts at
// sample i * 160 of `source` (16 kHz mono), which an embedder reads window by window if it needs
// samples (a neural model would); it may be null when only features are available.
struct EmbeddingInput {
  const audio::SampleSource* source = nullptr;
  const Matrix* features = nullptr;
};

class SpeakerEmbedder {
 public:
  virtual ~SpeakerEmbedder() = default;
  virtual std::string name() const = 0;
  // One row per window, all rows of the same length. Windows may overlap and may be short.
  virtual Result<Matrix> Embed(const EmbeddingInput& input, const std::vector<FrameRange>& windows,
                               const ProgressSink& progress = {}) = 0;
};

// The mean of every feature column over the window (the long-term spectral envelope of the
// voice), and with `spread` its standard deviation too: cols or 2 x cols values, each
// standardised over the windows of the call.
class StatisticsEmbedder : public SpeakerEmbedder {
 public:
  struct Options {
    bool spread = true;  // add the standard deviations
  };
  StatisticsEmbedder() = default;
  explicit StatisticsEmbedder(Options options) : options_(options) {}
  std::string name() const override { return options_.spread ? "statistics" : "cepstral-mean"; }
  Result<Matrix> Embed(const EmbeddingInput& input, const std::vector<FrameRange>& windows,
                       const ProgressSink& progress = {}) override;

 private:
  Options options_;
};

// GMM mean supervectors: a background GMM (`components` diagonal Gaussians) is trained on the
// recording's own speech, each window's MAP-adapted means (relevance factor `relevance`) are
// stacked as offsets from the background, scaled by sqrt(weight)/sigma (the KL-divergence
// metric between the adapted models), and projected on their `dims` principal components.
class SupervectorEmbedder : public SpeakerEmbedder {
 public:
  struct Options {
    int components = 32;
    int em_iterations = 8;
    double relevance = 16.0;
    int dims = 24;                       // principal components kept (0: no projection)
    size_t max_training_frames = 60000;  // background GMM training subsample
  };
  SupervectorEmbedder() = default;
  explicit SupervectorEmbedder(Options options) : options_(options) {}
  std::string name() const override { return "gmm-supervector"; }
  Result<Matrix> Embed(const EmbeddingInput& input, const std::vector<FrameRange>& windows,
                       const ProgressSink& progress = {}) override;

 private:
  Options options_;
};

// The shipped embedders by name: "cepstral-mean" (StatisticsEmbedder without spread, the
// default), "statistics" (with spread), "gmm-supervector". An unknown name is an error that lists
// them.
Result<std::unique_ptr<SpeakerEmbedder>> MakeSpeakerEmbedder(const std::string& name);

}  // namespace crm::diarization
