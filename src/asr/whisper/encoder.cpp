#include "asr/whisper/encoder.h"

#include <cmath>
#include <cstring>

namespace crm::asr::whisper {

namespace k = crm::kernels;

void ProjectQkv(const AttentionWeights& w, const float* in, int64_t rows, int64_t n, float* q,
                float* kk, float* v, k::ThreadPool* pool) {
  k::MatMulWeights(in, rows, n, w.query, w.query_bias.data(), q, n, pool);
  k::MatMulWeights(in, rows, n, w.key, nullptr, kk, n, pool);
  k::MatMulWeights(in, rows, n, w.value, w.value_bias.data(), v, n, pool);
}

void AddProjection(float* x, const float* in, int64_t rows, const k::WeightView& w,
                   const std::vector<float>& bias, float* tmp, k::ThreadPool* pool) {
  k::MatMulWeights(in, rows, w.cols, w, bias.empty() ? nullptr : bias.data(), tmp, w.rows, pool);
  k::Add(x, tmp, rows * w.rows);
}

void AddMlp(float* x, int64_t rows, int64_t n, const LayerNormWeights& ln, const MlpWeights& w,
            float* h, float* hidden, k::ThreadPool* pool) {
  std::memcpy(h, x, sizeof(float) * rows * n);
  k::LayerNorm(h, rows, n, ln.gamma.data(), ln.beta.data(), 1e-5f, pool);
  k::MatMulWeights(h, rows, n, w.fc1, w.fc1_bias.data(), hidden, 4 * n, pool);
  k::Gelu(hidden, rows * 4 * n);
  AddProjection(x, hidden, rows, w.fc2, w.fc2_bias, h, pool);
}

AudioEncoder::AudioEncoder(const WhisperModel& model)
    : model_(model),
      ctx_(model.hparams().n_audio_ctx),
      state_(model.hparams().n_audio_state),
      heads_(model.hparams().n_audio_head) {
  const int64_t frames = 2 * static_cast<int64_t>(ctx_);
  const int64_t n_mels = model.hparams().n_mels;
  col_.resize(std::max(frames * 3 * n_mels, static_cast<int64_t>(ctx_) * 3 * state_));
  conv_.resize(frames * state_);
  x_.resize(static_cast<size_t>(ctx_) * state_);
  h_.resize(x_.size());
  q_.resize(x_.size());
  k_.resize(x_.size());
  v_.resize(x_.size());
  att_.resize(x_.size());
  mlp_.resize(x_.size() * 4);
}

void AudioEncoder::Run(const float* mel, k::ThreadPool* pool) {
  const EncoderWeights& w = model_.encoder();
  const int64_t n_mels = model_.hparams().n_mels;
  const int64_t frames = 2 * static_cast<int64_t>(ctx_);  // 3000 input frames
  const int64_t n = state_;

  // conv1 (kernel 3, padding 1) as im2col + matrix product: col[t][c*3 + j] = mel[c][t + j - 1].
  for (int64_t t = 0; t < frames; ++t) {
    float* row = &col_[t * 3 * n_mels];
    for (int64_t c = 0; c < n_mels; ++c) {
      const float* m = mel + c * frames;
      for (int j = 0; j < 3; ++j) {
        const int64_t s = t + j - 1;
        row[c * 3 + j] = (s >= 0 && s < frames) ? m[s] : 0.0f;
      }
    }
  }
  k::MatMulWeights(col_.data(), frames, 3 * n_mels, w.conv1, w.conv1_bias.data(), conv_.data(),
                   n, pool);
  k::Gelu(conv_.data(), frames * n);

  // conv2 (kernel 3, stride 2, padding 1): col[t][c*3 + j] = conv[2t + j - 1][c].
  for (int64_t t = 0; t < ctx_; ++t) {
    float* row = &col_[t * 3 * n];
    for (int j = 0; j < 3; ++j) {
      const int64_t s = 2 * t + j - 1;
      const float* src = (s >= 0 && s < frames) ? &conv_[s * n] : nullptr;
      for (int64_t c = 0; c < n; ++c) row[c * 3 + j] = src ? src[c] : 0.0f;
    }
  }
  k::MatMulWeights(col_.data(), ctx_, 3 * n, w.conv2, w.conv2_bias.data(), x_.data(), n, pool);
  k::Gelu(x_.data(), static_cast<int64_t>(ctx_) * n);
  k::Add(x_.data(), w.positional.data(), static_cast<int64_t>(ctx_) * n);

  const int dh = static_cast<int>(n / heads_);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  for (const EncoderLayerWeights& layer : w.layers) {
    std::memcpy(h_.data(), x_.data(), sizeof(float) * x_.size());
    k::LayerNorm(h_.data(), ctx_, n, layer.attn_ln.gamma.data(), layer.attn_ln.beta.data(), 1e-5f,
                 pool);
    ProjectQkv(layer.attn, h_.data(), ctx_, n, q_.data(), k_.data(), v_.data(), pool);
    k::Attention(q_.data(), n, k_.data(), n, v_.data(), n, ctx_, ctx_, heads_, dh, scale,
                 /*causal=*/false, att_.data(), n, nullptr, pool);
    AddProjection(x_.data(), att_.data(), ctx_, layer.attn.out, layer.attn.out_bias, h_.data(),
                  pool);
    AddMlp(x_.data(), ctx_, n, layer.mlp_ln, layer.mlp, h_.data(), mlp_.data(), pool);
  }
  k::LayerNorm(x_.data(), ctx_, n, w.ln_post.gamma.data(), w.ln_post.beta.data(), 1e-5f, pool);
}

}  // namespace crm::asr::whisper
