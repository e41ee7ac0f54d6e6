// Long-form transcription with Whisper, following the reference transcribe():
// 30 s windows advanced by `seek` to the last complete timestamp, conditioning on the previous
// text, temperature fallback (compression ratio and average log-probability thresholds),
// no-speech skipping, and optional word timestamps (alignment.h).
//
// Additions for long recordings:
// - Voice-activity gating: given speech regions, a window never starts inside a stretch without
//   speech (seek jumps to the next speech); the audio inside a decoded window is never edited.
// - Repetition guard: a window still too repetitive after every temperature resets the prompt,
//   so a loop does not feed on itself, and seek always advances.
// - Bounded memory: audio is read from an audio::SampleSource one window at a time (plus one
//   streaming pass for the mel's global maximum), so a recording is never held whole; the mel of
//   one window, fixed-size encoder and decoder buffers; progress and cancellation per window.
//
// One Transcriber per job; the model is shared. The thread pool is the job's share of the
// cores (see ThreadsPerJob).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "asr/transcript.h"
#include "asr/whisper/decoder.h"
#include "asr/whisper/decoding.h"
#include "asr/whisper/encoder.h"
#include "asr/whisper/model.h"
#include "audio/sample_source.h"
#include "common/progress.h"
#include "common/result.h"
#include "kernels/kernels.h"

namespace crm::asr::whisper {

struct SpeechRegion {
  double start = 0;  // seconds
  double end = 0;
};

struct TranscribeOptions {
  std::string language = "auto";  // ISO code, or "auto"/"" to detect on the first window
  bool translate = false;         // task "translate" (to English) instead of "transcribe"
  // Decoding defaults of the reference transcribe().
  std::vector<float> temperatures = {0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f};
  int beam_size = 5;  // at temperature 0; <= 1: greedy
  float patience = 1.0f;
  int best_of = 5;                           // at temperature > 0
  float compression_ratio_threshold = 2.4f;  // <= 0 disables
  float logprob_threshold = -1.0f;           // NaN disables
  float no_speech_threshold = 0.6f;          // NaN disables
  bool condition_on_previous_text = true;
  std::string initial_prompt;
  float max_initial_timestamp = 1.0f;
  bool suppress_blank = true;
  bool suppress_non_speech = true;
  bool without_timestamps = false;
  bool word_timestamps = false;
  int sample_len = 0;                 // 0: n_text_ctx / 2
  bool stop_repetition_loops = true;  // end a sequence stuck in a loop (decoding.h)
  // Voice-activity gating: when `gate_with_speech` is true, only windows starting at or before
  // speech are decoded; stretches of `speech`'s complement are skipped whole.
  bool gate_with_speech = false;
  std::vector<SpeechRegion> speech;
  uint64_t seed = 0;
};

// Threads each of `jobs` concurrent jobs may use so that jobs x threads <= cores (at least 1).
int ThreadsPerJob(int cores, int jobs);

class Transcriber {
 public:
  // max_sequences: the largest beam_size / best_of Run() will be asked for (decoder caches are
  // sized for it).
  Transcriber(std::shared_ptr<const WhisperModel> model, kernels::ThreadPool* pool,
              int max_sequences = 5);

  // Transcribes a 16 kHz mono recording, reading from `audio` only the samples each window
  // needs. kCancelled when progress.Cancelled() turns true; the source's read errors are
  // returned; kInvalidArgument when the source is not at 16 kHz.
  Result<Transcript> Run(const audio::SampleSource& audio, const TranscribeOptions& options,
                         const ProgressSink& progress = {});
  // The same over samples in memory.
  Result<Transcript> Run(const float* pcm, size_t n, const TranscribeOptions& options,
                         const ProgressSink& progress = {});

  // Windows decoded in the last Run (for tests and metrics).
  int windows_decoded() const { return windows_; }

 private:
  DecodingResult DecodeWithFallback(const TranscribeOptions& o, DecodingOptions d);

  std::shared_ptr<const WhisperModel> model_;
  kernels::ThreadPool* pool_;
  AudioEncoder encoder_;
  TextDecoder decoder_;
  WindowDecoder window_;
  int windows_ = 0;
};

}  // namespace crm::asr::whisper
