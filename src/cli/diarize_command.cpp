// `crm-ai diarize FILE`: who spoke when, printed to stdout as RTTM or JSON.
//
// Options: --format rttm|json (default rttm), --num-speakers N, --min-speakers N,
// --max-speakers N, --vad silero|energy (default: the VAD variable, else silero). Needs no data
// directory and writes no file; logs go to stderr. Exit 0 on success, 2 for a bad option, 1 when
// the file cannot be read or diarization fails, always with one line on stderr. The audio is
// decoded into a temporary file of samples in $DATA_DIR/tmp when that exists (else $TMPDIR or /tmp)
// that has no name and disappears with the process; the diarizer reads it in pieces, so memory does
// not grow with the samples.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "audio/decoder.h"
#include "audio/sample_source.h"
#include "audio/vad.h"
#include "cli/engine_commands.h"
#include "config/config.h"
#include "common/log.h"
#include "diarization/diarization.h"
#include "diarization/rttm.h"

namespace crm::cli {
namespace {

constexpr const char* kUsage =
    "usage: crm-ai diarize FILE [--format rttm|json] [--num-speakers N] [--min-speakers N] "
    "[--max-speakers N] [--vad silero|energy] [--threads N (default: all cores)]";

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "crm-ai diarize: %s\n", message.c_str());
  return code;
}

bool ParseCount(const std::string& text, int* out) {
  if (text.empty() || text.size() > 3) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  *out = std::stoi(text);
  return *out >= 1;
}

std::string BaseName(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  size_t dot = name.find_last_of('.');
  if (dot != std::string::npos && dot > 0) name.resize(dot);
  return name.empty() ? "audio" : name;
}

}  // namespace

int RunDiarize(const std::vector<std::string>& args) {
  std::string file, format = "rttm";
  auto config = config::LoadFromProcess();
  if (!config.ok()) return Fail(2, config.error().message);
  std::string vad_kind = config->vad;
  diarization::DiarizationOptions options;
  options.threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 256u));
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i], value;
    bool has_value = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg.resize(eq);
        has_value = true;
      }
    }
    // The option's value: after '=' or the next argument.
    auto take = [&]() -> bool {
      if (has_value) return true;
      if (i + 1 >= args.size()) return false;
      value = args[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::printf("%s\n", kUsage);
      return 0;
    } else if (arg == "--format") {
      if (!take() || (value != "rttm" && value != "json")) {
        return Fail(2, "--format must be rttm or json");
      }
      format = value;
    } else if (arg == "--num-speakers" || arg == "--min-speakers" || arg == "--max-speakers") {
      int n = 0;
      if (!take() || !ParseCount(value, &n)) {
        return Fail(2, arg + " needs a whole number from 1 to 255, got '" + value + "'");
      }
      if (arg == "--num-speakers") options.num_speakers = n;
      if (arg == "--min-speakers") options.min_speakers = n;
      if (arg == "--max-speakers") options.max_speakers = n;
    } else if (arg == "--threads") {
      if (!take() || !ParseCount(value, &options.threads) || options.threads > 256) {
        return Fail(2, "--threads needs a whole number from 1 to 256, got '" + value + "'");
      }
    } else if (arg == "--vad") {
      if (!take() || (value != "silero" && value != "energy")) {
        return Fail(2, "--vad must be silero or energy");
      }
      vad_kind = value;
    } else if (arg.rfind("-", 0) == 0 && arg.size() > 1) {
      return Fail(2, "unknown option " + arg + "\n" + kUsage);
    } else if (file.empty()) {
      file = arg;
    } else {
      return Fail(2, "only one FILE may be given (got '" + file + "' and '" + arg + "')");
    }
  }
  if (file.empty()) return Fail(2, std::string("missing FILE\n") + kUsage);
  if (vad_kind != "silero" && vad_kind != "energy") {
    return Fail(2, "VAD must be silero or energy, got '" + vad_kind + "'");
  }
  if (options.num_speakers == 0 && options.min_speakers > options.max_speakers) {
    if (options.max_speakers == diarization::DiarizationOptions{}.max_speakers) {
      options.max_speakers = options.min_speakers;  // only --min-speakers was given
    }
  }
  if (auto valid = diarization::ValidateOptions(options); !valid.ok()) {
    return Fail(2, valid.error().message);
  }

  const auto started = std::chrono::steady_clock::now();
  auto samples = audio::DecodedFile::Decode(file, audio::ScratchDirectory(config->data_dir + "/tmp"));
  if (!samples.ok()) return Fail(1, "cannot read " + file + ": " + samples.error().message);
  std::string warning;
  auto vad = audio::MakeVoiceActivityDetector({vad_kind, config->vad_model}, &warning);
  if (!warning.empty()) log::Warn(warning);
  diarization::Diarizer diarizer(options);
  auto result = diarizer.Run(**samples, *vad);
  if (!result.ok()) return Fail(1, "diarization of " + file + " failed: " + result.error().message);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  log::Info("diarized", {{"file", file},
                         {"vad", vad->name()},
                         {"duration_seconds", result->duration},
                         {"speakers", result->num_speakers},
                         {"turns", result->turns.size()},
                         {"elapsed_seconds", elapsed}});
  if (format == "json") {
    std::cout << diarization::DiarizationToJson(*result).dump(2) << "\n";
  } else {
    std::cout << diarization::WriteRttm(diarization::NameTurns(result->turns), BaseName(file));
  }
  std::cout.flush();
  return std::cout.good() ? 0 : Fail(1, "cannot write to stdout");
}

}  // namespace crm::cli
