// Transcription by any OpenAI-compatible server (POST {base_url}/audio/transcriptions), the
// engine behind TRANSCRIPTION_MODE=openai.
//
// The recording is checked locally first (a file that is not audio never leaves the machine).
// A file the server accepts as it is (a format OpenAI reads, under max_upload_bytes, no longer
// than max_chunk_seconds) is uploaded untouched; any other is decoded, re-encoded to Ogg/Opus and,
// when still too large or too long, split at quiet moments into overlapping chunks whose
// transcripts are stitched back with times of the whole recording. Each upload asks for
// verbose_json with word and segment timestamps. 429 and 5xx answers, timeouts and network
// failures are retried with exponential backoff, honouring Retry-After. The API key is sent in
// the Authorization header only and never logged or put in an error message.
#pragma once

#include <string>

#include "asr/transcript.h"
#include "common/progress.h"
#include "common/result.h"

namespace crm::asr::remote {

struct OpenAiOptions {
  std::string base_url = "https://api.openai.com/v1";  // includes /v1 (OPENAI_BASE_URL)
  std::string api_key;                                 // OPENAI_API_KEY; never logged
  std::string model = "whisper-1";                     // OPENAI_TRANSCRIPTION_MODEL
  std::string language;          // "fr", "en", ...; empty or "auto" lets the server detect it
  std::string prompt;            // context for the model (names, vocabulary); may be empty
  double temperature = -1;       // < 0: not sent (the server's default)
  double timeout_seconds = 600;  // per request, upload included
  double connect_timeout_seconds = 30;
  int max_retries = 4;                   // after the first attempt
  double initial_backoff_seconds = 1.0;  // doubled after each failure, with jitter
  double max_backoff_seconds = 60;       // also the longest Retry-After honoured
  // OpenAI refuses files over 25 MB (26,214,400 bytes); lower it for servers with less.
  int64_t max_upload_bytes = 25LL * 1024 * 1024;
  // Longest audio per request: some OpenAI models refuse more than ~23 minutes, and a chunk is
  // held in memory as 16 kHz floats (20 min = 77 MB).
  double max_chunk_seconds = 1200;
  double chunk_overlap_seconds = 1.0;  // audio sent in both neighbouring chunks
  int opus_bitrate = 32000;            // for re-encoded uploads
  ProgressSink progress;               // fraction of the recording transcribed; cancellation
};

class OpenAiTranscriber {
 public:
  explicit OpenAiTranscriber(OpenAiOptions options);

  // Transcribes the audio or video file at `path`. Errors: the decoder's (kNotFound,
  // kUnsupportedMediaType, kUndecodable) before any upload; kUnavailable when the server cannot
  // be reached, answers 5xx past the retries or refuses the API key (401/403, with a message
  // naming OPENAI_API_KEY); kRateLimited on 429 past the retries or an exhausted quota;
  // kBadRequest / kPayloadTooLarge with the server's message for other refusals; kTimeout;
  // kCancelled. details carry the HTTP status and OpenAI's error type, param and code.
  Result<Transcript> Transcribe(const std::string& path);

  const OpenAiOptions& options() const { return options_; }

 private:
  OpenAiOptions options_;
};

}  // namespace crm::asr::remote
