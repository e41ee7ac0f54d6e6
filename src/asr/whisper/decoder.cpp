#include "asr/whisper/decoder.h"

#include <cassert>
#include <cmath>
#include <cstring>

#include "asr/whisper/encoder.h"

namespace crm::asr::whisper {

namespace k = crm::kernels;

TextDecoder::TextDecoder(const WhisperModel& model, int max_sequences)
    : model_(model),
      max_seq_(max_sequences),
      ctx_(model.hparams().n_text_ctx),
      n_(model.hparams().n_text_state),
      heads_(model.hparams().n_text_head),
      audio_ctx_(model.hparams().n_audio_ctx),
      n_vocab_(model.hparams().n_vocab) {
  const size_t layers = model.hparams().n_text_layer;
  self_k_.resize(layers * max_seq_ * ctx_ * n_);
  self_v_.resize(self_k_.size());
  cross_k_.resize(layers * audio_ctx_ * n_);
  cross_v_.resize(cross_k_.size());
  Reserve(max_seq_);
}

void TextDecoder::Reserve(int64_t rows) {
  if (static_cast<int64_t>(x_.size()) >= rows * n_) return;
  x_.resize(rows * n_);
  h_.resize(rows * n_);
  q_.resize(rows * n_);
  k_.resize(rows * n_);
  v_.resize(rows * n_);
  att_.resize(rows * n_);
  mlp_.resize(rows * 4 * n_);
}

void TextDecoder::SetAudio(const float* encoder_output, k::ThreadPool* pool) {
  const auto& layers = model_.decoder().layers;
  for (size_t l = 0; l < layers.size(); ++l) {
    const AttentionWeights& w = layers[l].cross_attn;
    float* ck = &cross_k_[l * audio_ctx_ * n_];
    float* cv = &cross_v_[l * audio_ctx_ * n_];
    k::MatMulWeights(encoder_output, audio_ctx_, n_, w.key, nullptr, ck, n_, pool);
    k::MatMulWeights(encoder_output, audio_ctx_, n_, w.value, w.value_bias.data(), cv, n_, pool);
  }
  length_ = 0;
}

void TextDecoder::Forward(const int* tokens, int n_seq, int n_new, float* logits,
                          k::ThreadPool* pool, const std::vector<int>* wanted,
                          std::vector<float>* cross_weights) {
  assert(n_seq <= max_seq_ && length_ + n_new <= ctx_);
  const DecoderWeights& w = model_.decoder();
  const int64_t rows = static_cast<int64_t>(n_seq) * n_new;
  Reserve(rows);
  const int dh = n_ / heads_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));

  for (int64_t r = 0; r < rows; ++r) {
    const int pos = length_ + static_cast<int>(r % n_new);
    const int64_t tok = tokens[r];
    const auto* row = static_cast<const uint8_t*>(w.token_embedding.data) +
                      tok * k::RowBytes(w.token_embedding.type, n_);
    k::DequantizeRow(row, w.token_embedding.type, n_, &x_[r * n_]);
    k::Add(&x_[r * n_], &w.positional[static_cast<size_t>(pos) * n_], n_);
  }
  if (cross_weights) {
    cross_weights->assign(w.layers.size() * heads_ * rows * audio_ctx_, 0.0f);
  }

  for (size_t l = 0; l < w.layers.size(); ++l) {
    const DecoderLayerWeights& layer = w.layers[l];
    // Self-attention over the cache.
    std::memcpy(h_.data(), x_.data(), sizeof(float) * rows * n_);
    k::LayerNorm(h_.data(), rows, n_, layer.attn_ln.gamma.data(), layer.attn_ln.beta.data(), 1e-5f,
                 pool);
    ProjectQkv(layer.attn, h_.data(), rows, n_, q_.data(), k_.data(), v_.data(), pool);
    for (int s = 0; s < n_seq; ++s) {
      float* ck = SelfK(static_cast<int>(l), s);
      float* cv = SelfV(static_cast<int>(l), s);
      std::memcpy(ck + static_cast<size_t>(length_) * n_, &k_[s * n_new * n_],
                  sizeof(float) * n_new * n_);
      std::memcpy(cv + static_cast<size_t>(length_) * n_, &v_[s * n_new * n_],
                  sizeof(float) * n_new * n_);
      k::Attention(&q_[s * n_new * n_], n_, ck, n_, cv, n_, n_new, length_ + n_new, heads_, dh,
                   scale, /*causal=*/true, &att_[s * n_new * n_], n_, nullptr, pool);
    }
    AddProjection(x_.data(), att_.data(), rows, layer.attn.out, layer.attn.out_bias, h_.data(),
                  pool);

    // Cross-attention: every row of every sequence attends to the same audio keys/values.
    std::memcpy(h_.data(), x_.data(), sizeof(float) * rows * n_);
    k::LayerNorm(h_.data(), rows, n_, layer.cross_attn_ln.gamma.data(),
                 layer.cross_attn_ln.beta.data(), 1e-5f, pool);
    k::MatMulWeights(h_.data(), rows, n_, layer.cross_attn.query,
                     layer.cross_attn.query_bias.data(), q_.data(), n_, pool);
    float* wout = nullptr;
    if (cross_weights) {
      wout = cross_weights->data() + l * heads_ * rows * audio_ctx_;
    }
    k::Attention(q_.data(), n_, &cross_k_[l * audio_ctx_ * n_], n_,
                 &cross_v_[l * audio_ctx_ * n_], n_, rows, audio_ctx_, heads_, dh, scale,
                 /*causal=*/false, att_.data(), n_, wout, pool);
    AddProjection(x_.data(), att_.data(), rows, layer.cross_attn.out, layer.cross_attn.out_bias,
                  h_.data(), pool);

    AddMlp(x_.data(), rows, n_, layer.mlp_ln, layer.mlp, h_.data(), mlp_.data(), pool);
  }

  // Final norm and output projection (tied to the token embedding).
  std::vector<int> last;
  if (wanted == nullptr) {
    for (int s = 0; s < n_seq; ++s) last.push_back(s * n_new + n_new - 1);
    wanted = &last;
  }
  const int64_t m = static_cast<int64_t>(wanted->size());
  for (int64_t i = 0; i < m; ++i)
    std::memcpy(&h_[i * n_], &x_[static_cast<int64_t>((*wanted)[i]) * n_], sizeof(float) * n_);
  k::LayerNorm(h_.data(), m, n_, w.ln.gamma.data(), w.ln.beta.data(), 1e-5f, pool);
  k::MatMulWeights(h_.data(), m, n_, w.token_embedding, nullptr, logits, n_vocab_, pool);
  length_ += n_new;
}

void TextDecoder::Reorder(const std::vector<int>& sources) {
  const int layers = static_cast<int>(model_.decoder().layers.size());
  const size_t block = static_cast<size_t>(length_) * n_;
  if (block == 0) return;
  std::vector<int> moved;
  for (int s = 0; s < static_cast<int>(sources.size()); ++s)
    if (sources[s] != s) moved.push_back(s);
  if (moved.empty()) return;
  // Copy the sources aside first: a sequence may be both a source and a destination.
  scratch_.resize(moved.size() * 2 * layers * block);
  size_t at = 0;
  for (int s : moved) {
    for (int l = 0; l < layers; ++l) {
      std::memcpy(&scratch_[at], SelfK(l, sources[s]), sizeof(float) * block);
      at += block;
      std::memcpy(&scratch_[at], SelfV(l, sources[s]), sizeof(float) * block);
      at += block;
    }
  }
  at = 0;
  for (int s : moved) {
    for (int l = 0; l < layers; ++l) {
      std::memcpy(SelfK(l, s), &scratch_[at], sizeof(float) * block);
      at += block;
      std::memcpy(SelfV(l, s), &scratch_[at], sizeof(float) * block);
      at += block;
    }
  }
}

}  // namespace crm::asr::whisper
