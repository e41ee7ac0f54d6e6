// Whisper's text decoder with its caches, for a batch of sequences that advance together
// (greedy: 1; beam search and best-of sampling: several).
//
// A decoding step is memory-bound: every token reads all the decoder's weights (97 MB for base
// in f16, 53 MB of it the vocabulary projection) and every layer's audio keys and values. So:
// - cross-attention keys and values are computed once per 30 s window (SetAudio), stored in f16
//   (half the bytes read per token; whisper.cpp keeps them in f16 too) in the packed layout of
//   kernels::AttentionPacked (each head two sequential streams), and shared by every sequence;
// - self-attention keys and values are cached per sequence in the same f16 layout, in slots
//   [layer][slot]; a beam reorder permutes the slots and copies only the caches of sequences
//   that continue twice or more;
// - all sequences go through each weight matrix together, the products of one input (Q, K, V)
//   share one pass of the thread pool, and residual additions and GELU are folded into the
//   products: about ten passes of the pool per layer.
// One TextDecoder per job; the model is shared and read-only.
#pragma once

#include <cstdint>
#include <vector>

#include "asr/whisper/model.h"
#include "kernels/kernels.h"

namespace crm::asr::whisper {

class TextDecoder {
 public:
  TextDecoder(const WhisperModel& model, int max_sequences);

  // Cross-attention keys/values from the encoder output ([n_audio_ctx][n_audio_state]).
  void SetAudio(const float* encoder_output, kernels::ThreadPool* pool);

  // Forgets every cached position (a new window or a new attempt at the same window).
  void Reset();
  int length() const { return length_; }
  int max_sequences() const { return max_seq_; }

  // Feeds `n_new` tokens to each of `n_seq` sequences (tokens[s * n_new + i]) at positions
  // [length(), length() + n_new), then length() grows by n_new. Writes the logits of each
  // sequence's last position to logits[s * n_vocab ...]; when `rows` is given, the logits of
  // those rows of the batch (row = s * n_new + i) instead, in that order.
  // When cross_weights != nullptr, it receives the cross-attention weights of every layer:
  // [layer][head][s * n_new + i][n_audio_ctx].
  void Forward(const int* tokens, int n_seq, int n_new, float* logits, kernels::ThreadPool* pool,
               const std::vector<int>* rows = nullptr, std::vector<float>* cross_weights = nullptr);

  // Sequence s takes over the cached keys/values of sequence sources[s] (beam search), for
  // s < sources.size() (which may exceed the current batch: a single prompt fanned out).
  void Reorder(const std::vector<int>& sources);

 private:
  // The packed cache of sequence `seq` in `layer` (kernels::PackedKVSize(text_cap_, ...)).
  uint16_t* SelfK(int layer, int seq) { return &self_k_[SlotOffset(layer, slot_[seq])]; }
  uint16_t* SelfV(int layer, int seq) { return &self_v_[SlotOffset(layer, slot_[seq])]; }
  size_t SlotOffset(int layer, int slot) const {
    return (static_cast<size_t>(layer) * max_seq_ + slot) * slot_size_;
  }
  void Reserve(int64_t rows);
  void SelfAttention(int layer, int n_seq, int n_new, kernels::ThreadPool* pool);

  const WhisperModel& model_;
  int max_seq_, ctx_, n_, heads_, audio_ctx_, n_vocab_;
  int64_t text_cap_, audio_cap_;  // positions per packed buffer (multiples of 64)
  size_t slot_size_;              // f16 elements of one layer's keys (or values) of one slot
  int length_ = 0;
  std::vector<int> slot_;                                     // sequence -> cache slot
  std::vector<const uint16_t*> key_ptrs_, value_ptrs_;        // per sequence, for one layer
  std::vector<uint16_t> self_k_, self_v_;                     // [layer][slot][packed]
  std::vector<uint16_t> cross_k_, cross_v_;                   // [layer][packed]
  std::vector<float> x_, h_, q_, k_, v_, att_, mlp_, audio_;  // [rows][...]
};

}  // namespace crm::asr::whisper
