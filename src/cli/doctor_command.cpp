// `crm-ai doctor`: one line per check — ok, warn or fail, name, detail, what to do.
#include <iostream>

#include "cli/args.h"
#include "cli/bootstrap.h"
#include "cli/commands.h"
#include "audio/vad.h"
#include "storage/migrations/migrations.h"

extern "C" {
#include <libavcodec/avcodec.h>
}

#include <filesystem>

namespace crm::cli {

namespace {

// The decoders the recordings users send need (phones, browsers, dictaphones, video calls).
api::Check CodecCheck() {
  std::string missing;
  for (const char* name : {"mp3float", "aac", "opus", "vorbis", "flac", "amrnb", "pcm_s16le", "h264"})
    if (!avcodec_find_decoder_by_name(name)) missing += std::string(missing.empty() ? "" : ", ") + name;
  if (missing.empty()) return {"ffmpeg", "ok", std::string("libavcodec ") + av_version_info() + ": mp3, aac, opus, vorbis, flac, amr, pcm, h264", ""};
  return {"ffmpeg", "warn", "missing decoders: " + missing, "install Debian's libavcodec59 (full build)"};
}

api::Check SpeechModelCheck(const config::Config& c) {
  if (c.transcription_mode == "openai")
    return {"speech", "ok", "TRANSCRIPTION_MODE=openai via " + c.openai_base_url, ""};
  std::error_code ec;
  if (std::filesystem::is_regular_file(c.whisper_model, ec))
    return {"speech", "ok", "whisper model " + c.whisper_model + " (" +
                                std::to_string(std::filesystem::file_size(c.whisper_model, ec) >> 20) + " MiB)", ""};
  return {"speech", "warn", "speech model file not found: " + c.whisper_model,
          "put a ggml model there (crm-ai models pull base), set WHISPER_MODEL, or use TRANSCRIPTION_MODE=openai"};
}

api::Check VadCheck(const config::Config& c) {
  auto d = audio::DescribeVoiceActivityDetector({c.vad, c.vad_model});
  return {"vad", d.degraded ? "warn" : "ok", d.detail, d.degraded ? "reinstall (scripts/setup.sh) or set VAD_MODEL" : ""};
}

}  // namespace

int RunDoctor(const std::vector<std::string>& argv) {
  auto args = ParseArgs(argv, {}, {"strict"});
  if (!args.ok()) return Fail(args.error().message);
  std::vector<api::Check> checks;
  auto app = OpenFromEnvironment(false);
  if (!app.ok()) {
    checks.push_back({"configuration", "fail", app.error().message, "fix the variable named above"});
  } else {
    auto& a = **app;
    checks.push_back({"configuration", "ok", "APP_ENV=" + a.config.app_env + " DATA_DIR=" + a.config.data_dir, ""});
    auto st = storage::MigrationStatus(*a.store);
    if (st.ok()) {
      int pending = 0;
      for (auto& m : *st) pending += m.applied_at.empty();
      checks.push_back(pending ? api::Check{"migrations", "warn", std::to_string(pending) + " pending", "run crm-ai migrate (serve does it at start)"}
                               : api::Check{"migrations", "ok", std::to_string(st->size()) + " applied", ""});
    }
    for (auto& c : api::RunChecks(a)) checks.push_back(c);
    checks.push_back(CodecCheck());
    checks.push_back(SpeechModelCheck(a.config));
    checks.push_back(VadCheck(a.config));
  }
  bool fail = false, warn = false;
  for (auto& c : checks) {
    std::cout << c.level << "\t" << c.name << "\t" << c.detail << (c.action.empty() ? "" : "\t→ " + c.action) << "\n";
    fail |= c.level == "fail";
    warn |= c.level == "warn";
  }
  return fail || (warn && args->Flag("strict")) ? 1 : 0;
}

}  // namespace crm::cli
