// Word-level timestamps by cross-attention alignment, the method of Whisper's reference
// (timing.py): feed <|sot|> [lang task] <|notimestamps|> text <|eot|> through the decoder,
// take the cross-attention weights of the alignment heads (without a per-model head list:
// every head of the upper half of the decoder layers, the reference's own default),
// renormalise them over the frames that hold audio, standardise each frame over the tokens,
// median-filter (width 7) along time, average the heads, and find the monotonic path through
// the token x frame matrix by dynamic time warping. A word starts where the path enters its
// first token and ends where it enters the next word. Words are split on spaces (and on every
// character for languages written without spaces), with punctuation kept as its own word
// first and then merged into its neighbour, as the reference prints them.
#pragma once

#include <string>
#include <vector>

#include "asr/whisper/decoder.h"
#include "asr/whisper/model.h"
#include "kernels/kernels.h"

namespace crm::asr::whisper {

struct AlignedWord {
  std::string text;
  std::vector<int> tokens;
  double start = 0;  // seconds from the start of the window
  double end = 0;
  float probability = 0;
};

// Splits text tokens into words (tokens grouped so that each word decodes to whole characters).
std::vector<std::pair<std::string, std::vector<int>>> SplitWords(const Tokenizer& tok,
                                                                 const std::vector<int>& tokens,
                                                                 const std::string& language);

// Dynamic time warping over cost[rows][cols]; returns the path as (row, col) pairs.
std::vector<std::pair<int, int>> DynamicTimeWarp(const std::vector<float>& cost, int rows,
                                                 int cols);

// `decoder` must hold the window's audio (SetAudio); its self-attention cache is overwritten.
// `sot_sequence`: <|sot|> [language, task]; `num_frames`: mel frames of audio in the window.
std::vector<AlignedWord> AlignWords(const WhisperModel& model, TextDecoder* decoder,
                                    kernels::ThreadPool* pool,
                                    const std::vector<int>& sot_sequence,
                                    const std::vector<int>& text_tokens, int num_frames,
                                    const std::string& language);

}  // namespace crm::asr::whisper
