// A transcript as every engine produces it and every consumer reads it: segments with times,
// text, optional speaker, words with times and confidence. Times are seconds from the start of
// the audio. Shared by the native Whisper engine (asr/whisper), the OpenAI-compatible client
// (asr/remote), diarization's word-to-speaker assignment and the store.
#pragma once

#include <string>
#include <vector>

namespace crm::asr {

struct Word {
  double start = 0;
  double end = 0;
  std::string text;         // as decoded, usually with its leading space
  float probability = 0;    // 0..1
  std::string speaker;      // filled by diarization; empty when unknown
};

struct Segment {
  int id = 0;
  double start = 0;
  double end = 0;
  std::string text;
  std::string speaker;          // "SPEAKER_1"... after diarization; empty when unknown
  std::vector<Word> words;      // empty when word timestamps were not asked for
  std::vector<int> tokens;      // token ids (native engine), for verbose_json
  float avg_logprob = 0;
  float compression_ratio = 0;
  float no_speech_prob = 0;
  float temperature = 0;
};

struct Transcript {
  std::string language;         // ISO 639-1 ("fr", "en", ...)
  double duration = 0;          // seconds of audio
  std::vector<Segment> segments;

  // Segment texts joined, trimmed.
  std::string Text() const;
};

}  // namespace crm::asr
