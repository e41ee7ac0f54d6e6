#include "asr/whisper/decoder.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <numeric>

namespace crm::asr::whisper {

namespace k = crm::kernels;

namespace {

void RunTasks(k::ThreadPool* pool, int64_t n, const std::function<void(int64_t)>& fn) {
  if (pool != nullptr) {
    pool->Run(n, fn);
  } else {
    for (int64_t i = 0; i < n; ++i) fn(i);
  }
}

k::WeightProduct Product(const k::WeightView& w, const std::vector<float>& bias, float* y,
                         int64_t ldy) {
  k::WeightProduct p;
  p.w = w;
  p.bias = bias.empty() ? nullptr : bias.data();
  p.y = y;
  p.ldy = ldy;
  return p;
}

}  // namespace

TextDecoder::TextDecoder(const WhisperModel& model, int max_sequences)
    : model_(model),
      max_seq_(max_sequences),
      ctx_(model.hparams().n_text_ctx),
      n_(model.hparams().n_text_state),
      heads_(model.hparams().n_text_head),
      audio_ctx_(model.hparams().n_audio_ctx),
      n_vocab_(model.hparams().n_vocab) {
  const size_t layers = model.hparams().n_text_layer;
  const int dh = n_ / heads_;
  auto round_up = [](int64_t n) {
    return (n + k::kPackedKeyBlock - 1) / k::kPackedKeyBlock * k::kPackedKeyBlock;
  };
  text_cap_ = round_up(ctx_);
  audio_cap_ = round_up(audio_ctx_);
  slot_size_ = k::PackedKVSize(text_cap_, heads_, dh);
  self_k_.resize(layers * max_seq_ * slot_size_);
  self_v_.resize(self_k_.size());
  cross_k_.resize(layers * k::PackedKVSize(audio_cap_, heads_, dh));
  cross_v_.resize(cross_k_.size());
  slot_.resize(max_seq_);
  key_ptrs_.resize(max_seq_);
  value_ptrs_.resize(max_seq_);
  std::iota(slot_.begin(), slot_.end(), 0);
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

void TextDecoder::Reset() {
  length_ = 0;
  std::iota(slot_.begin(), slot_.end(), 0);
}

void TextDecoder::SetAudio(const float* encoder_output, k::ThreadPool* pool) {
  const auto& layers = model_.decoder().layers;
  const int dh = n_ / heads_;
  const int64_t count = static_cast<int64_t>(audio_ctx_) * n_;
  const size_t packed = k::PackedKVSize(audio_cap_, heads_, dh);
  audio_.resize(2 * count);
  for (size_t l = 0; l < layers.size(); ++l) {
    const AttentionWeights& w = layers[l].cross_attn;
    k::WeightProduct kv[2] = {Product(w.key, {}, audio_.data(), n_),
                              Product(w.value, w.value_bias, audio_.data() + count, n_)};
    k::MatMulWeightsBatch(encoder_output, audio_ctx_, n_, kv, 2, pool);
    // Packed by blocks of positions, each task writing its own blocks.
    const int64_t blocks = audio_cap_ / k::kPackedKeyBlock;
    RunTasks(pool, blocks, [&](int64_t b) {
      const int64_t j0 = b * k::kPackedKeyBlock;
      const int64_t len = std::min<int64_t>(k::kPackedKeyBlock, audio_ctx_ - j0);
      if (len <= 0) return;
      k::PackKeysHalf(audio_.data() + j0 * n_, n_, j0, len, heads_, dh, audio_cap_,
                      &cross_k_[l * packed]);
      k::PackValuesHalf(audio_.data() + count + j0 * n_, n_, j0, len, heads_, dh, audio_cap_,
                        &cross_v_[l * packed]);
    });
  }
  Reset();
}

void TextDecoder::SelfAttention(int layer, int n_seq, int n_new, k::ThreadPool* pool) {
  const int dh = n_ / heads_;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  const int64_t block = static_cast<int64_t>(n_new) * n_;
  std::vector<const uint16_t*>& keys = key_ptrs_;
  std::vector<const uint16_t*>& values = value_ptrs_;
  for (int s = 0; s < n_seq; ++s) {
    k::PackKeysHalf(&k_[s * block], n_, length_, n_new, heads_, dh, text_cap_, SelfK(layer, s));
    k::PackValuesHalf(&v_[s * block], n_, length_, n_new, heads_, dh, text_cap_, SelfV(layer, s));
    keys[s] = SelfK(layer, s);
    values[s] = SelfV(layer, s);
  }
  k::AttentionPacked(q_.data(), n_, n_new, n_seq, keys.data(), values.data(), text_cap_,
                     length_ + n_new, heads_, dh, scale, /*causal=*/true, att_.data(), n_, nullptr,
                     pool);
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
  auto norm = [&](const LayerNormWeights& ln) {
    std::memcpy(h_.data(), x_.data(), sizeof(float) * rows * n_);
    k::LayerNorm(h_.data(), rows, n_, ln.gamma.data(), ln.beta.data(), 1e-5f, pool);
  };
  // x += in * W^T + b: the residual connection folded into the product.
  auto add_product = [&](const float* in, int64_t ld_in, const k::WeightView& weights,
                         const std::vector<float>& bias) {
    k::WeightProduct p = Product(weights, bias, x_.data(), n_);
    p.accumulate = true;
    k::MatMulWeightsBatch(in, rows, ld_in, &p, 1, pool);
  };

  for (size_t l = 0; l < w.layers.size(); ++l) {
    const DecoderLayerWeights& layer = w.layers[l];
    // Self-attention over the cache.
    norm(layer.attn_ln);
    k::WeightProduct qkv[3] = {Product(layer.attn.query, layer.attn.query_bias, q_.data(), n_),
                               Product(layer.attn.key, {}, k_.data(), n_),
                               Product(layer.attn.value, layer.attn.value_bias, v_.data(), n_)};
    k::MatMulWeightsBatch(h_.data(), rows, n_, qkv, 3, pool);
    SelfAttention(static_cast<int>(l), n_seq, n_new, pool);
    add_product(att_.data(), n_, layer.attn.out, layer.attn.out_bias);

    // Cross-attention: every row of every sequence attends to the same audio keys/values.
    norm(layer.cross_attn_ln);
    k::WeightProduct q =
        Product(layer.cross_attn.query, layer.cross_attn.query_bias, q_.data(), n_);
    k::MatMulWeightsBatch(h_.data(), rows, n_, &q, 1, pool);
    float* wout = nullptr;
    if (cross_weights) {
      wout = cross_weights->data() + l * heads_ * rows * audio_ctx_;
    }
    const size_t at = l * k::PackedKVSize(audio_cap_, heads_, dh);
    const uint16_t* ck = &cross_k_[at];
    const uint16_t* cv = &cross_v_[at];
    k::AttentionPacked(q_.data(), n_, rows, 1, &ck, &cv, audio_cap_, audio_ctx_, heads_, dh, scale,
                       /*causal=*/false, att_.data(), n_, wout, pool);
    add_product(att_.data(), n_, layer.cross_attn.out, layer.cross_attn.out_bias);

    // MLP: GELU folded into the first product, the residual into the second.
    norm(layer.mlp_ln);
    k::WeightProduct fc1 = Product(layer.mlp.fc1, layer.mlp.fc1_bias, mlp_.data(), 4 * n_);
    fc1.gelu = true;
    k::MatMulWeightsBatch(h_.data(), rows, n_, &fc1, 1, pool);
    add_product(mlp_.data(), 4 * n_, layer.mlp.fc2, layer.mlp.fc2_bias);
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
  const int n = static_cast<int>(sources.size());
  assert(n <= max_seq_);
  // Each source's slot goes to the first sequence continuing it; a sequence continuing a source
  // already handed out gets a free slot and a copy of the cache.
  std::vector<int> next(max_seq_, -1);
  std::vector<char> taken(max_seq_, 0);
  for (int s = 0; s < n; ++s) {
    const int from = slot_[sources[s]];
    if (!taken[from]) next[s] = from, taken[from] = 1;
  }
  int free_slot = 0;
  auto take_free = [&] {
    while (taken[free_slot]) ++free_slot;
    taken[free_slot] = 1;
    return free_slot;
  };
  const int layers = static_cast<int>(model_.decoder().layers.size());
  // Per head, the key blocks and value rows holding the first length_ positions.
  const int dh = n_ / heads_;
  const size_t used = static_cast<size_t>((length_ + k::kPackedKeyBlock - 1) / k::kPackedKeyBlock *
                                          k::kPackedKeyBlock) *
                      dh;
  const size_t head_stride = static_cast<size_t>(text_cap_) * dh;
  for (int s = 0; s < n; ++s) {
    if (next[s] >= 0) continue;
    next[s] = take_free();
    // The source slot stays taken by its first continuation, so it is never overwritten here.
    const int from = slot_[sources[s]];
    for (int l = 0; l < layers && used > 0; ++l) {
      for (int h = 0; h < heads_; ++h) {
        const size_t dst = SlotOffset(l, next[s]) + h * head_stride;
        const size_t src = SlotOffset(l, from) + h * head_stride;
        std::memcpy(&self_k_[dst], &self_k_[src], sizeof(uint16_t) * used);
        std::memcpy(&self_v_[dst], &self_v_[src], sizeof(uint16_t) * used);
      }
    }
  }
  for (int s = n; s < max_seq_; ++s) next[s] = take_free();
  slot_ = std::move(next);
}

}  // namespace crm::asr::whisper
