#include "pipeline/engine.h"

#include <sys/stat.h>

#include <filesystem>
#include <mutex>

#include "asr/remote/openai_transcriber.h"
#include "asr/whisper/model.h"
#include "asr/whisper/transcriber.h"
#include "audio/vad.h"
#include "common/log.h"
#include "kernels/kernels.h"
#include "pipeline/recording_audio.h"

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
  bool reads_samples() const override { return false; }
  Result<asr::Transcript> Transcribe(const std::string& path, const PreparedAudio&,
                                     const TranscriptionRequest& request,
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
  bool reads_samples() const override { return true; }
  Result<asr::Transcript> Transcribe(const std::string& path, const PreparedAudio& prepared,
                                     const TranscriptionRequest& request,
                                     const ProgressSink& progress) override {
    if (!FileExists(o_.whisper_model)) return ModelMissing(o_.whisper_model);
    CRM_ASSIGN_OR_RETURN(auto model, models_.Get(o_.whisper_model));
    // What the caller did not prepare is prepared here, from the file, in bounded memory.
    RecordingAudio own(path, TemporaryDir(), {o_.vad, o_.vad_model});
    const audio::SampleSource* samples = prepared.samples;
    if (samples == nullptr) {
      CRM_ASSIGN_OR_RETURN(samples, own.Samples(progress.Part(0.0, 0.08)));
    }
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "transcription cancelled");

    asr::whisper::TranscribeOptions to;
    to.language = request.language.empty() ? "auto" : request.language;
    to.initial_prompt = request.prompt;
    to.word_timestamps = request.word_timestamps;
    if (request.temperature >= 0) to.temperatures = {static_cast<float>(request.temperature)};
    const std::vector<audio::SpeechSegment>* speech = prepared.speech;
    std::vector<audio::SpeechSegment> own_speech;
    if (speech == nullptr) {
      std::string warning;
      auto vad = audio::MakeVoiceActivityDetector({o_.vad, o_.vad_model}, &warning);
      if (!warning.empty()) log::Warn(warning);
      auto found = audio::DetectSpeech(*vad, *samples, progress.Part(0.08, 0.1));
      if (found.ok()) {
        own_speech = std::move(*found);
        speech = &own_speech;
      } else if (found.error().code == ErrorCode::kCancelled) {
        return found.take_error();
      } else {
        log::Warn("voice activity detection failed; every window is transcribed",
                  {{"error", found.error().message}});
      }
    }
    if (speech != nullptr) {
      to.gate_with_speech = true;
      for (const auto& s : *speech) to.speech.push_back({s.start, s.end});
    }
    kernels::ThreadPool pool(std::max(1, o_.whisper_threads));
    asr::whisper::Transcriber transcriber(model, &pool, std::max(to.beam_size, to.best_of));
    const double from = prepared.samples && prepared.speech ? 0.0 : 0.1;
    return transcriber.Run(*samples, to, progress.Part(from, 1.0));
  }

 private:
  std::string TemporaryDir() const {
    if (!o_.tmp_dir.empty()) return o_.tmp_dir;
    std::error_code ec;
    auto dir = std::filesystem::temp_directory_path(ec);
    return ec ? std::string("/tmp") : dir.string();
  }

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
  o.tmp_dir = c.data_dir + "/tmp";
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
