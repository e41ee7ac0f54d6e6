// Silero VAD v5 at 16 kHz, run natively: one speech probability per 512 new samples (32 ms).
//
// Each step sees 576 samples (the previous step's last 64 as context, then 512 new ones),
// reflection-padded by 64 on the right; a fixed convolution (the STFT basis, window 256, hop 128)
// gives 4 magnitude frames of 129 bins; four 3-tap convolutions with ReLU (strides 1, 2, 2, 1)
// reduce them to one 128-vector; an LSTM cell carries its state from step to step; ReLU, a 1x1
// convolution and a sigmoid give the probability.
//
// Everything before the LSTM is independent of the carried state, so a stream computes it for
// a block of up to kBlockFrames steps at once (matrix products), then runs the LSTM step by
// step. Memory is bounded by the block whatever the length of the audio.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "audio/vad/silero_model.h"

namespace crm::audio::vad {

// Weights rearranged for the kernels (transposed, padded). Immutable; shared by streams.
class SileroNetwork {
 public:
  explicit SileroNetwork(const SileroWeights& w);

  struct Layer {
    std::vector<float> wt;    // [k][n_padded]
    std::vector<float> bias;  // [n_padded]
    int k = 0, n = 0, n_padded = 0;
  };
  const Layer& stft() const { return stft_; }
  const Layer& conv(int i) const { return conv_[i]; }
  int conv_stride(int i) const { return stride_[i]; }
  const Layer& lstm_input() const { return lstm_in_; }                     // W_ih^T, b_ih + b_hh
  const std::vector<float>& lstm_recurrent() const { return lstm_hh_t_; }  // W_hh^T [128][512]
  const std::vector<float>& out_weight() const { return out_w_; }
  float out_bias() const { return out_b_; }

 private:
  Layer stft_;
  Layer conv_[4];
  int stride_[4] = {1, 2, 2, 1};
  Layer lstm_in_;
  std::vector<float> lstm_hh_t_;
  std::vector<float> out_w_;
  float out_b_ = 0;
};

// Streaming inference: state (context samples, LSTM h and c, a partial frame) carries across
// Feed() calls, so feeding audio in pieces of any size gives exactly the probabilities of one
// call on the whole.
class SileroStream {
 public:
  static constexpr int kBlockFrames = 64;

  explicit SileroStream(std::shared_ptr<const SileroNetwork> net);

  void Reset();
  // Appends to *out the probability of every frame these samples complete.
  void Feed(const float* pcm, size_t n, std::vector<float>* out);
  // Completes a pending partial frame with zeros (as the reference does for a file's end).
  void Finish(std::vector<float>* out);
  size_t pending_samples() const { return pending_.size(); }

 private:
  void RunBlock(int frames, std::vector<float>* out);

  std::shared_ptr<const SileroNetwork> net_;
  std::vector<float> context_;  // last kSileroContext samples of the previous step
  std::vector<float> pending_;  // samples of a frame not yet complete
  std::vector<float> h_, c_;
  // Scratch for one block, sized once.
  std::vector<float> frames_;   // [block][512] new samples
  std::vector<float> windows_;  // [block*4][256]
  std::vector<float> spec_;     // [block*4][stft n_padded]
  std::vector<float> act_a_, act_b_, col_;
  std::vector<float> gates_x_;  // [block][512]
  std::vector<float> gates_;    // [512]
  int block_fill_ = 0;
};

}  // namespace crm::audio::vad
