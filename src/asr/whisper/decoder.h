// Whisper's text decoder with its caches, for a batch of sequences that advance together
// (greedy: 1; beam search and best-of sampling: several).
//
// Cross-attention keys and values are computed once per 30 s window (SetAudio) and shared by
// every sequence of the batch; self-attention keys and values are cached per sequence, laid out
// [layer][sequence][position][state] so a sequence's cache is contiguous and a beam reorder is
// a few block copies. One TextDecoder per job; the model is shared and read-only.
#pragma once

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
  void Reset() { length_ = 0; }
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
  float* SelfK(int layer, int seq) {
    return &self_k_[((static_cast<size_t>(layer) * max_seq_ + seq) * ctx_) * n_];
  }
  float* SelfV(int layer, int seq) {
    return &self_v_[((static_cast<size_t>(layer) * max_seq_ + seq) * ctx_) * n_];
  }
  void Reserve(int64_t rows);

  const WhisperModel& model_;
  int max_seq_, ctx_, n_, heads_, audio_ctx_, n_vocab_;
  int length_ = 0;
  std::vector<float> self_k_, self_v_;     // [layer][seq][ctx][n]
  std::vector<float> cross_k_, cross_v_;   // [layer][audio_ctx][n]
  std::vector<float> x_, h_, q_, k_, v_, att_, mlp_, scratch_;  // [rows][...]
  std::vector<float> weights_;             // cross-attention weights of one layer
};

}  // namespace crm::asr::whisper
