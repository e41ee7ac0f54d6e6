// Which speech engine transcribes: TRANSCRIPTION_MODE decides, this file builds it.
//
// - `openai`: the OpenAI-compatible client (asr/remote) against OPENAI_BASE_URL; the key is
//   passed through and never logged.
// - `whisper_local`: the native engine (asr/whisper) with the model file WHISPER_MODEL, voice
//   activity gating (VAD), WHISPER_THREADS threads. It reads decoded samples: a recording job
//   hands it the samples and speech it already has (RecordingAudio), so the file is decoded once
//   per job; called with a path alone, it decodes into a temporary file under `tmp_dir`, never
//   into memory. While the model file is missing every transcription fails at once with
//   "speech model file not found: PATH" (not retried) and SpeechModelStatus() reports a `warn`
//   for doctor and /health/ready.
//
// Both the recording jobs and POST /v1/audio/transcriptions use the same engine object; it is
// thread-safe (the native engine shares one loaded model between concurrent jobs).
#pragma once

#include <memory>
#include <string>

#include "asr/transcript.h"
#include "audio/sample_source.h"
#include "audio/vad.h"
#include "common/progress.h"
#include "common/result.h"
#include "config/config.h"

namespace crm::pipeline {

struct EngineOptions {
  std::string mode = "whisper_local";  // TRANSCRIPTION_MODE
  std::string openai_base_url = "https://api.openai.com/v1";
  std::string openai_api_key;
  std::string openai_model = "whisper-1";
  int64_t openai_max_upload_bytes = 25LL * 1024 * 1024;
  std::string whisper_model;   // WHISPER_MODEL (already defaulted by the config module)
  int whisper_threads = 1;     // per transcription
  std::string vad = "silero";  // VAD
  std::string vad_model;       // VAD_MODEL; empty: beside the executable
  // Where decoded samples are kept while a file is transcribed (DATA_DIR/tmp); empty: the
  // system's temporary directory.
  std::string tmp_dir;
};

EngineOptions EngineOptionsFromConfig(const config::Config& config);

struct TranscriptionRequest {
  std::string language = "auto";  // ISO code or "auto"
  std::string prompt;             // vocabulary / context; may be empty
  double temperature = -1;        // < 0: the engine's default schedule
  bool word_timestamps = true;
};

// What a caller already has of the file it asks to transcribe, so that it is not decoded or
// analysed again. Both may be null.
struct PreparedAudio {
  const audio::SampleSource* samples = nullptr;               // the file decoded (16 kHz mono)
  const std::vector<audio::SpeechSegment>* speech = nullptr;  // its speech (VAD)
};

class TranscriptionEngine {
 public:
  virtual ~TranscriptionEngine() = default;
  virtual std::string name() const = 0;  // "openai" or "whisper_local"
  // Whether Transcribe() works from decoded samples (the native engine) rather than from the
  // file itself (the remote one, which sends the file).
  virtual bool reads_samples() const = 0;
  // Transcribes the audio or video file at `path`, using `prepared` when the engine reads
  // samples. kCancelled when progress says so.
  virtual Result<asr::Transcript> Transcribe(const std::string& path, const PreparedAudio& prepared,
                                             const TranscriptionRequest& request,
                                             const ProgressSink& progress) = 0;
  Result<asr::Transcript> Transcribe(const std::string& path, const TranscriptionRequest& request,
                                     const ProgressSink& progress) {
    return Transcribe(path, PreparedAudio{}, request, progress);
  }
};

std::unique_ptr<TranscriptionEngine> MakeEngine(const EngineOptions& options);

// For doctor and /health/ready: "ok"/"warn" with a detail and what to do.
struct EngineStatus {
  std::string level;
  std::string detail;
  std::string action;
};
EngineStatus SpeechModelStatus(const EngineOptions& options);

}  // namespace crm::pipeline
