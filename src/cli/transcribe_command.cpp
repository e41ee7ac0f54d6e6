// `crm-ai transcribe FILE`: offline transcription with the native Whisper engine, to stdout.
//
// Options: --format txt|text|srt|vtt|json|verbose_json (default txt), --language CODE|auto
// (default auto), --model PATH (default $WHISPER_MODEL, else $DATA_DIR/models/ggml-base.bin with
// DATA_DIR ./storage), --threads N (default: all cores), --beam-size N (default 5; 1 = greedy),
// --no-fallback (temperature 0 only), --prompt TEXT, --task transcribe|translate,
// --word-timestamps, --diarize (speaker labels; implies word timestamps), --vad on|off (default
// on: stretches without speech are skipped whole), --no-timestamps / --timestamps.
// Timestamps: --no-timestamps decodes plain text after <|notimestamps|> (OpenAI's
// without_timestamps, whisper.cpp's -nt): one segment per 30 s window, no timestamp tokens to
// decode. The formats that print no times (txt, text, json) decode that way unless --timestamps,
// --word-timestamps or --diarize (speaker turns need the segments' times) is given; --timestamps
// keeps the timestamped decoding and its sentence-sized segments (one txt line each). Needs no data directory and writes no file;
// logs go to stderr. The audio is decoded into a temporary file of samples in $DATA_DIR/tmp when
// that exists (else $TMPDIR or /tmp) that has no name and disappears with the process, and read one
// window at a time, so memory does not grow with the recording's length. Exit 0 on success, 2 for a
// bad option, 1 when the model or the audio cannot be used, always with one line on stderr.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "asr/format.h"
#include "asr/whisper/model.h"
#include "asr/whisper/transcriber.h"
#include "audio/decoder.h"
#include "audio/sample_source.h"
#include "cli/engine_commands.h"
#include "config/config.h"
#include "common/log.h"
#include "kernels/kernels.h"
#ifdef CRM_HAVE_VAD
#include "audio/vad.h"
#endif
#ifdef CRM_HAVE_DIARIZATION
#include "diarization/diarization.h"
#include "diarization/words.h"
#endif

namespace crm::cli {
namespace {

constexpr const char* kUsage =
    "usage: crm-ai transcribe FILE [--format txt|text|srt|vtt|json|verbose_json] "
    "[--language CODE|auto] [--model PATH] [--threads N] [--beam-size N] [--no-fallback] "
    "[--prompt TEXT] [--task transcribe|translate] [--word-timestamps] [--diarize] "
    "[--vad on|off] [--no-timestamps|--timestamps]";

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "crm-ai transcribe: %s\n", message.c_str());
  return code;
}

bool ParsePositive(const std::string& text, int max, int* out) {
  if (text.empty() || text.size() > 4) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  *out = std::stoi(text);
  return *out >= 1 && *out <= max;
}

struct Options {
  std::string file;
  std::string format = "txt";
  std::string model;
  int threads = 0;
  bool vad = true;
  bool diarize = false;
  int timestamps = -1;  // -1: from the format; 0: --no-timestamps; 1: --timestamps
  asr::whisper::TranscribeOptions transcribe;
};

// Returns 0 when parsed, -1 for --help, or the exit code of a bad option.
int Parse(const std::vector<std::string>& args, const config::Config& config, Options* o) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i], value;
    bool has_value = false;
    if (arg.rfind("--", 0) == 0) {
      const size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg.resize(eq);
        has_value = true;
      }
    }
    auto take = [&]() {
      if (has_value) return true;
      if (i + 1 >= args.size()) return false;
      value = args[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::printf("%s\n", kUsage);
      return -1;
    } else if (arg == "--format") {
      if (!take() || !asr::ParseOutputFormat(value).ok())
        return Fail(2, "--format must be txt, text, srt, vtt, json or verbose_json");
      o->format = value;
    } else if (arg == "--language") {
      if (!take() || value.empty()) return Fail(2, "--language needs a code such as fr, or auto");
      o->transcribe.language = value;
    } else if (arg == "--model") {
      if (!take() || value.empty()) return Fail(2, "--model needs a path");
      o->model = value;
    } else if (arg == "--threads") {
      if (!take() || !ParsePositive(value, 256, &o->threads))
        return Fail(2, "--threads needs a whole number from 1 to 256, got '" + value + "'");
    } else if (arg == "--beam-size") {
      int beam = 0;
      if (!take() || !ParsePositive(value, 16, &beam))
        return Fail(2, "--beam-size needs a whole number from 1 to 16, got '" + value + "'");
      o->transcribe.beam_size = beam;
    } else if (arg == "--no-fallback") {
      o->transcribe.temperatures = {0.0f};
    } else if (arg == "--prompt") {
      if (!take()) return Fail(2, "--prompt needs a text");
      o->transcribe.initial_prompt = value;
    } else if (arg == "--task") {
      if (!take() || (value != "transcribe" && value != "translate"))
        return Fail(2, "--task must be transcribe or translate");
      o->transcribe.translate = value == "translate";
    } else if (arg == "--word-timestamps") {
      o->transcribe.word_timestamps = true;
    } else if (arg == "--no-timestamps" || arg == "--timestamps") {
      const int wanted = arg == "--timestamps";
      if (o->timestamps >= 0 && o->timestamps != wanted)
        return Fail(2, "--no-timestamps and --timestamps cannot both be given");
      o->timestamps = wanted;
    } else if (arg == "--diarize") {
      o->diarize = true;
    } else if (arg == "--vad") {
      if (!take() || (value != "on" && value != "off")) return Fail(2, "--vad must be on or off");
      o->vad = value == "on";
    } else if (arg.rfind("-", 0) == 0 && arg.size() > 1) {
      return Fail(2, "unknown option " + arg + "\n" + kUsage);
    } else if (o->file.empty()) {
      o->file = arg;
    } else {
      return Fail(2, "only one FILE may be given (got '" + o->file + "' and '" + arg + "')");
    }
  }
  if (o->file.empty()) return Fail(2, std::string("missing FILE\n") + kUsage);
  if (o->model.empty()) o->model = config.whisper_model;  // WHISPER_MODEL or under DATA_DIR
  if (o->timestamps < 0) {
    const bool times_shown = o->format != "txt" && o->format != "text" && o->format != "json";
    o->timestamps = times_shown || o->diarize || o->transcribe.word_timestamps;
  }
  o->transcribe.without_timestamps = o->timestamps == 0;
  if (o->threads == 0) o->threads = std::max(1u, std::thread::hardware_concurrency());
  return 0;
}

}  // namespace

int RunTranscribe(const std::vector<std::string>& args) {
  auto config = config::LoadFromProcess();
  if (!config.ok()) return Fail(2, config.error().message);
  Options o;
  if (int rc = Parse(args, *config, &o); rc != 0) return rc < 0 ? 0 : rc;
  const auto format = asr::ParseOutputFormat(o.format).value();

  const auto started = std::chrono::steady_clock::now();
  auto model = asr::whisper::WhisperModel::Load(o.model);
  if (!model.ok()) return Fail(1, model.error().message);
  auto pcm = audio::DecodedFile::Decode(o.file, audio::ScratchDirectory(config->data_dir + "/tmp"));
  if (!pcm.ok()) return Fail(1, "cannot read " + o.file + ": " + pcm.error().message);
  const audio::SampleSource& samples = **pcm;

  std::vector<audio::SpeechSegment> speech;
  bool have_speech = false;
#ifdef CRM_HAVE_VAD
  std::unique_ptr<audio::VoiceActivityDetector> vad;
  if (o.vad || o.diarize) {
    std::string warning;
    vad = audio::MakeVoiceActivityDetector({config->vad, config->vad_model}, &warning);
    if (!warning.empty()) log::Warn(warning);
    // Read in pieces from the samples decoded once above, never the whole recording.
    auto found = audio::DetectSpeech(*vad, samples);
    if (!found.ok()) return Fail(1, "voice activity detection failed: " + found.error().message);
    speech = std::move(found).value();
    have_speech = true;
  }
#endif
  if (o.vad && have_speech) {
    o.transcribe.gate_with_speech = true;
    for (const auto& s : speech) o.transcribe.speech.push_back({s.start, s.end});
  }
  if (o.diarize) o.transcribe.word_timestamps = true;

  kernels::ThreadPool pool(o.threads);
  asr::whisper::Transcriber transcriber(*model, &pool,
                                        std::max(o.transcribe.beam_size, o.transcribe.best_of));
  ProgressSink progress;
  int last_percent = -10;
  progress.on_progress = [&](double f) {
    const int percent = static_cast<int>(f * 100);
    if (percent >= last_percent + 10) {
      last_percent = percent;
      log::Info("transcribing", {{"file", o.file}, {"percent", percent}});
    }
  };
  auto transcript = transcriber.Run(samples, o.transcribe, progress);
  if (!transcript.ok()) return Fail(1, "transcription failed: " + transcript.error().message);

  if (o.diarize) {
#if defined(CRM_HAVE_DIARIZATION) && defined(CRM_HAVE_VAD)
    diarization::DiarizationOptions diarization_options;
    diarization_options.threads = std::clamp(o.threads, 1, 256);
    diarization::Diarizer diarizer(diarization_options);
    auto turns = diarizer.Run(samples, speech);
    if (!turns.ok()) return Fail(1, "diarization failed: " + turns.error().message);
    diarization::AssignSpeakers(turns->exclusive_turns, &transcript.value());
#else
    return Fail(1, "--diarize: diarization is not part of this build");
#endif
  }

  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  log::Info("transcribed", {{"file", o.file},
                            {"model", o.model},
                            {"language", transcript->language},
                            {"duration_seconds", transcript->duration},
                            {"segments", transcript->segments.size()},
                            {"windows", transcriber.windows_decoded()},
                            {"threads", o.threads},
                            {"elapsed_seconds", elapsed}});
  std::cout << asr::Render(*transcript, format);
  std::cout.flush();
  return std::cout.good() ? 0 : Fail(1, "cannot write to stdout");
}

}  // namespace crm::cli
