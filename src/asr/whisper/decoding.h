// Decoding one 30 s window: the search strategies over TextDecoder's logits, as Whisper's
// reference DecodingTask does it.
//
// - Initial tokens: [<|startofprev|> + last 223 prompt tokens] + <|startoftranscript|>
//   [+ language + task] [+ <|notimestamps|>].
// - Logit filters, in order: suppress blank (" " and end-of-text at the first step), suppress
//   the configured tokens (the non-speech set and the task/special tokens), timestamp rules
//   (timestamps in pairs, non-decreasing, a timestamp first, the first one at most
//   max_initial_timestamp, and a timestamp forced when their total probability beats every
//   text token). Without timestamps, the timestamp tokens are suppressed instead (whisper.cpp's
//   rule; the reference leaves them possible, which only an untrained model uses).
// - Strategies: greedy (temperature 0), sampling with best_of candidates (temperature > 0),
//   beam search (beam_size, patience) at temperature 0. Candidates are ranked by sum of
//   log-probabilities over length.
// - The no-speech probability is read at the <|startoftranscript|> position of the first step.
// - Repetition guard (not in the reference): a sequence whose last 48 tokens repeat a pattern of
//   period <= 8 is ended there, as if it had sampled end-of-text.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "asr/whisper/decoder.h"
#include "asr/whisper/model.h"
#include "kernels/kernels.h"

namespace crm::asr::whisper {

struct DecodingOptions {
  bool translate = false;          // task: transcribe (false) or translate to English (true)
  int language_token = -1;         // -1: none (English-only models, or detection not wanted)
  float temperature = 0.0f;        // 0: greedy or beam search; > 0: sampling
  int beam_size = 5;               // used at temperature 0; <= 1 means greedy
  float patience = 1.0f;           // beam search: finished candidates wanted = beam_size*patience
  int best_of = 5;                 // used at temperature > 0: independent samples
  bool without_timestamps = false;
  float max_initial_timestamp = 1.0f;  // seconds; < 0 disables the rule
  bool suppress_blank = true;
  bool suppress_non_speech = true;     // Whisper's suppress_tokens = "-1"
  std::vector<int> prompt;             // previous text tokens (conditioning)
  int sample_len = 0;                  // 0: n_text_ctx / 2 (224)
  uint64_t seed = 0;                   // for sampling
  bool stop_repetition_loops = true;   // the repetition guard (see above)
  // Test and debugging hook: the filtered logits of sequence 0 before each choice.
  std::function<void(int step, const float* logits, int n_vocab)> on_step;
};

struct DecodingResult {
  std::vector<int> tokens;  // sampled tokens, without the final end-of-text
  std::string text;
  float sum_logprob = 0;
  float avg_logprob = 0;
  float no_speech_prob = 0;
  float temperature = 0;
  float compression_ratio = 0;
  int language_token = -1;
};

// The repetition guard's test: the last 48 tokens repeat one pattern of period <= 8.
bool EndsInRepetitionLoop(const std::vector<int>& tokens);

// len(utf8) / len(zlib.compress(utf8)), as Whisper's reference computes it.
float CompressionRatio(const std::string& text);

class WindowDecoder {
 public:
  // `decoder` must have had SetAudio() called for the window.
  WindowDecoder(const WhisperModel& model, TextDecoder* decoder, kernels::ThreadPool* pool);

  DecodingResult Decode(const DecodingOptions& options);

  // Language probabilities from the <|startoftranscript|> logits; returns the best token.
  int DetectLanguage(std::vector<std::pair<std::string, float>>* probabilities = nullptr);

  // The initial tokens Decode() would feed, and the index where sampling begins.
  std::vector<int> InitialTokens(const DecodingOptions& options, int* sot_index) const;
  // Applies the logit filters to `logits` for the sampled tokens so far.
  void ApplyFilters(const DecodingOptions& options, const std::vector<int>& sampled,
                    float* logits) const;

 private:
  DecodingResult Greedy(const DecodingOptions& o, const std::vector<int>& initial, int sot_index);
  DecodingResult Beam(const DecodingOptions& o, const std::vector<int>& initial, int sot_index);
  void Finish(DecodingResult* r) const;

  const WhisperModel& model_;
  const Tokenizer& tok_;
  TextDecoder* decoder_;
  kernels::ThreadPool* pool_;
  std::vector<int> suppress_;
  int n_vocab_;
};

}  // namespace crm::asr::whisper
