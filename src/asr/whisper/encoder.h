// Whisper's audio encoder: two 1-D convolutions (kernel 3; the second with stride 2) with GELU,
// sinusoidal positions from the file, pre-norm transformer blocks, final layer norm.
//
// One AudioEncoder per job: it owns its activation buffers (allocated once, reused for every
// 30 s window), the model is shared and read-only.
#pragma once

#include <vector>

#include "asr/whisper/model.h"
#include "kernels/kernels.h"

namespace crm::asr::whisper {

class AudioEncoder {
 public:
  explicit AudioEncoder(const WhisperModel& model);

  // mel: [n_mels][3000] normalised log-mel. Result in output(): [n_audio_ctx][n_audio_state].
  void Run(const float* mel, kernels::ThreadPool* pool);
  const float* output() const { return x_.data(); }

 private:
  const WhisperModel& model_;
  int ctx_, state_, heads_;
  std::vector<float> col_, conv_, x_, h_, q_, k_, v_, att_, mlp_;
};

// One pre-norm self-attention sub-layer shared by encoder and decoder code:
// computes Q, K (no bias), V for `rows` rows of `in` ([rows][n]).
void ProjectQkv(const AttentionWeights& w, const float* in, int64_t rows, int64_t n, float* q,
                float* k, float* v, kernels::ThreadPool* pool);

// x[rows][n] += in[rows][n_in] * W^T + bias, using `tmp` ([rows][n]) as scratch.
void AddProjection(float* x, const float* in, int64_t rows, const kernels::WeightView& w,
                   const std::vector<float>& bias, float* tmp, kernels::ThreadPool* pool);

// x += fc2(gelu(fc1(layer_norm(x)))), with scratch `h` ([rows][n]) and `hidden` ([rows][4n]).
void AddMlp(float* x, int64_t rows, int64_t n, const LayerNormWeights& ln, const MlpWeights& w,
            float* h, float* hidden, kernels::ThreadPool* pool);

}  // namespace crm::asr::whisper
