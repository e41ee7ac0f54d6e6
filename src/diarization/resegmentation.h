// Frame-level re-segmentation: per-speaker Gaussian mixtures and a Viterbi pass.
//
// Clustering labels whole windows, so its boundaries are only as fine as the window hop. Each
// speaker gets a diagonal-covariance GMM trained on the frames currently labelled with it; every
// speech frame is scored against every speaker, the log-likelihoods are averaged over a short
// moving window (a speaker holds the floor for more than a few frames), and a Viterbi path with
// a fixed cost per speaker change picks the labels. Speakers left with less than
// `min_speaker_seconds` are dropped and their frames re-assigned. Repeated `iterations` times.
// Cost is linear in the number of frames.
#pragma once

#include <vector>

#include "common/progress.h"
#include "common/result.h"
#include "diarization/matrix.h"

namespace crm::diarization {

struct ResegmentationOptions {
  int components = 8;     // Gaussians per speaker
  int em_iterations = 6;  // EM passes per training
  // Train / decode rounds: the speakers keep improving up to 4 (README.md: AMI 34.8 -> 34.4 %
  // from 2 to 4 rounds, the same from 4 to 10).
  int iterations = 4;
  size_t max_training_frames = 30000;  // per speaker, evenly subsampled above this
  int smoothing_frames = 25;           // moving average of frame log-likelihoods (250 ms)
  double change_penalty = 10.0;        // Viterbi cost of a speaker change (log-likelihood units)
  double min_speaker_seconds = 1.0;
  // A speaker also needs this share of the speech frames, or min_share_cap_seconds when that is
  // less (long recordings): with voices modelled from the recording alone, a "speaker" holding a
  // small part of a short recording is far more often a split of the main voice than a person
  // (README.md: chosen on the tuning clips). 0 disables.
  double min_speaker_share = 0.3;
  double min_share_cap_seconds = 30.0;
  int keep_at_least = 1;  // never drop below this many speakers
  // Overlapped speech: a frame also goes to its second-best speaker when that speaker's smoothed
  // log-likelihood is within `overlap_margin` of the best; 0 disables.
  double overlap_margin = 0.0;
};

// Per-frame speaker labels after re-segmentation (-1 where labels was -1: non-speech).
struct FrameLabels {
  std::vector<int> primary;    // one speaker per speech frame
  std::vector<int> secondary;  // second speaker on overlapped frames, else -1
  int speakers = 0;
};

// `features`: one row per frame (normalised cepstra); `labels`: initial speaker per frame, -1 for
// non-speech. Speakers are renumbered 0..k-1 by first appearance.
Result<FrameLabels> Resegment(const Matrix& features, std::vector<int> labels,
                              const ResegmentationOptions& options,
                              const ProgressSink& progress = {});

// Diagonal-covariance Gaussian mixture (exposed for the voiceprint and the tests).
class DiagonalGmm {
 public:
  // Trains on the given rows of x (EM from evenly spread seeds). rows must not be empty.
  void Train(const Matrix& x, const std::vector<size_t>& rows, int components, int iterations);
  // Log-likelihood of one frame.
  double LogLikelihood(const float* frame) const;
  // Component posteriors of one frame into post[0..components); returns the log-likelihood.
  double Posteriors(const float* frame, double* post) const;
  int components() const { return static_cast<int>(log_weight_.size()); }
  size_t dims() const { return dims_; }
  const float* mean(int c) const { return &mean_[c * dims_]; }
  const float* inv_var(int c) const { return &inv_var_[c * dims_]; }
  double weight(int c) const { return weight_[c]; }

 private:
  size_t dims_ = 0;
  std::vector<double> weight_;
  std::vector<double> log_weight_;  // per component, including the normalising constant
  std::vector<float> mean_;         // components x dims
  std::vector<float> inv_var_;      // components x dims
};

}  // namespace crm::diarization
