#include "pipeline/engine.h"

#include <sys/stat.h>

#include <mutex>

#include "asr/remote/openai_transcriber.h"
#include "asr/whisper/model.h"
#include "asr/whisper/transcriber.h"
#include "audio/decoder.h"
#include "audio/vad.h"
#include "common/log.h"
#include "kernels/kernels.h"

namespace crm::pipeline {

namespace {

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Error ModelMissing(const std::string& path) {
  return Error(ErrorCode::kNotFound, "speech model file not found: " + path,
               {{"retryable", false},
                {"action",
                 "put a whisper ggml model there (crm-ai models pull base) or set "
                 "WHISPER_MODEL"}});
}

class OpenAiEngine final : public TranscriptionEngine {
 public:
  explicit OpenAiEngine(EngineOptions o) : o_(std::move(o)) {}
  std::string name() const override { return "openai"; }
  Result<asr::Transcript> Transcribe(const std::string& path, const TranscriptionRequest& request,
                                     const ProgressSink& progress) override {
    asr::remote::OpenAiOptions ro;
    ro.base_url = o_.openai_base_url;
    ro.api_key = o_.openai_api_key;
    ro.model = o_.openai_model;
    ro.language = request.language == "auto" ? "" : request.language;
    ro.prompt = request.prompt;
    ro.temperature = request.temperature;
    ro.max_upload_bytes = o_.openai_max_upload_bytes;
    ro.progress = progress;
    asr::remote::OpenAiTranscriber client(ro);
    return client.Transcribe(path);
  }

 private:
  EngineOptions o_;
};

class WhisperLocalEngine final : public TranscriptionEngine {
 public:
  explicit WhisperLocalEngine(EngineOptions o) : o_(std::move(o)) {}
  std::string name() const override { return "whisper_local"; }
  Result<asr::Transcript> Transcribe(const std::string& path, const TranscriptionRequest& request,
                                     const ProgressSink& progress) override {
    if (!FileExists(o_.whisper_model)) return ModelMissing(o_.whisper_model);
    CRM_ASSIGN_OR_RETURN(auto model, models_.Get(o_.whisper_model));
    ProgressSink decode_progress{[&](double f) { progress.Report(0.1 * f); },
                                 progress.is_cancelled};
    CRM_ASSIGN_OR_RETURN(auto pcm, audio::DecodeFile(path, audio::kSampleRate, decode_progress));
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "transcription cancelled");

    asr::whisper::TranscribeOptions to;
    to.language = request.language.empty() ? "auto" : request.language;
    to.initial_prompt = request.prompt;
    to.word_timestamps = request.word_timestamps;
    if (request.temperature >= 0) to.temperatures = {static_cast<float>(request.temperature)};
    std::string warning;
    auto vad = audio::MakeVoiceActivityDetector({o_.vad, o_.vad_model}, &warning);
    if (!warning.empty()) log::Warn(warning);
    auto speech = vad->Detect(pcm.data(), pcm.size());
    if (speech.ok()) {
      to.gate_with_speech = true;
      for (const auto& s : *speech) to.speech.push_back({s.start, s.end});
    }
    kernels::ThreadPool pool(std::max(1, o_.whisper_threads));
    asr::whisper::Transcriber transcriber(model, &pool, std::max(to.beam_size, to.best_of));
    ProgressSink run_progress{[&](double f) { progress.Report(0.1 + 0.9 * f); },
                              progress.is_cancelled};
    return transcriber.Run(pcm.data(), pcm.size(), to, run_progress);
  }

 private:
  EngineOptions o_;
  asr::whisper::ModelCache models_;
};

}  // namespace

EngineOptions EngineOptionsFromConfig(const config::Config& c) {
  EngineOptions o;
  o.mode = c.transcription_mode;
  o.openai_base_url = c.openai_base_url;
  o.openai_api_key = c.openai_api_key;
  o.openai_model = c.openai_transcription_model;
  o.whisper_model = c.whisper_model;
  o.whisper_threads = c.whisper_threads;
  o.vad = c.vad;
  o.vad_model = c.vad_model;
  return o;
}

std::unique_ptr<TranscriptionEngine> MakeEngine(const EngineOptions& options) {
  if (options.mode == "openai") return std::make_unique<OpenAiEngine>(options);
  return std::make_unique<WhisperLocalEngine>(options);
}

EngineStatus SpeechModelStatus(const EngineOptions& o) {
  if (o.mode == "openai")
    return {"ok", "TRANSCRIPTION_MODE=openai, " + o.openai_base_url + " (" + o.openai_model + ")",
            ""};
  if (!FileExists(o.whisper_model))
    return {"warn", "speech model file not found: " + o.whisper_model,
            "crm-ai models pull base (or set WHISPER_MODEL); transcription jobs fail until then"};
  return {"ok", "whisper_local, model " + o.whisper_model, ""};
}

}  // namespace crm::pipeline
