// Whisper engine benchmark on random-weight models in the base layout (--layout tiny, small,
// large-v3-turbo; or a given model file),
// against whisper.cpp measured in the same run when its path is given:
// - the machine's fp32 FMA peak (measured here);
// - encoder time per 30 s window, its GFLOP/s and fraction of that peak;
// - decoder ms per token, greedy and beam 5 (5 sequences per step), per model type (f16, q8_0);
// - end to end, `crm-ai transcribe` and `whisper-cli` as child processes: wall time and peak
//   RSS (wait4) on jfk.wav and on a 10-minute recording made of the repository's speech
//   fixtures, its real-time factor.
// Both engines get the same threads and options: English, beam 5 (--beam), temperature
// fallback off. With random weights the two beam searches end their sequences at different
// lengths; greedy (--beam 1) makes both decode the same tokens.
//
//   whisper_bench [--types f16,q8_0] [--layout base] [--model-dir DIR] [--model M.bin]
//                 [--threads 2] [--minutes 10]
//                 [--whisper-cpp /path/whisper-cli] [--crm-ai PATH] [--audio FILE30]
//                 [--beam 5] [--skip-long] [--only-end-to-end]
//   whisper_bench --agreement --whisper-cpp /path/whisper-cli [--types f16] [--verbose]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "asr/whisper/decoding.h"
#include "asr/whisper/encoder.h"
#include "asr/whisper/model.h"
#include "asr/whisper/transcriber.h"
#include "audio/decoder.h"
#include "bench_support.h"
#include "kernels/kernels.h"

namespace {

using namespace crm::asr::whisper;
using crm::bench::ChildRun;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Seconds(Clock::time_point a) {
  return std::chrono::duration<double>(Clock::now() - a).count();
}

std::string Arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == "--" + name) return argv[i + 1];
  return def;
}
bool Flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i)
    if (argv[i] == "--" + name) return true;
  return false;
}

std::string Load() {
  double l[3] = {0, 0, 0};
  getloadavg(l, 3);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", l[0], l[1], l[2]);
  return buf;
}

double EncoderGflop(const HParams& hp) {
  const double n = hp.n_audio_state, ctx = hp.n_audio_ctx, mels = hp.n_mels;
  double f = 2 * ctx * 2 * (3 * mels) * n + 2 * ctx * (3 * n) * n;         // convolutions
  f += hp.n_audio_layer * (2 * ctx * 12 * n * n + 2 * 2 * ctx * ctx * n);  // blocks
  return f / 1e9;
}

// Text tokens (no special or timestamp tokens) among `ids`.
int TextTokens(const Tokenizer& tok, const std::vector<int>& ids) {
  return static_cast<int>(
      std::count_if(ids.begin(), ids.end(), [&](int t) { return tok.IsText(t); }));
}

// The engine alone in a child process (see --engine-child below): the CLI's decoding with the
// repetition guard off, which whisper.cpp does not have, so both decode the same token counts.
int EngineChild(int argc, char** argv) {
  auto model = WhisperModel::Load(Arg(argc, argv, "model", ""));
  auto pcm = crm::audio::DecodeFile(Arg(argc, argv, "audio", ""));
  if (!model.ok() || !pcm.ok()) return 1;
  crm::kernels::ThreadPool pool(std::stoi(Arg(argc, argv, "threads", "2")));
  const int beam = std::stoi(Arg(argc, argv, "beam", "5"));
  Transcriber transcriber(*model, &pool, std::max(beam, 5));  // best_of stays 5
  TranscribeOptions o;
  o.language = "en";
  o.beam_size = beam;
  o.temperatures = {0.0f};
  o.stop_repetition_loops = Arg(argc, argv, "guard", "on") == "on";
  auto tr = transcriber.Run(pcm->data(), pcm->size(), o);
  if (!tr.ok()) return 1;
  int tokens = 0;
  for (const auto& s : tr->segments) tokens += TextTokens((*model)->tokenizer(), s.tokens);
  std::printf("%d %d\n", tokens, transcriber.windows_decoded());
  return 0;
}

struct DecoderTimes {
  double greedy_ms = 0, greedy_cpu = 0, beam_ms = 0, beam_cpu = 0, search_ms = 0;
};

// Our decoder's ms per step with `n_seq` sequences, 64 steps after a 3-token prompt.
std::pair<double, double> StepTime(TextDecoder& decoder, const Tokenizer& tok, int n_seq,
                                   crm::kernels::ThreadPool* pool) {
  std::vector<float> logits(5 * static_cast<size_t>(tok.n_vocab()));
  const std::vector<int> prompt = {tok.sot(), tok.LanguageToken("en"), tok.transcribe()};
  decoder.Reset();
  decoder.Forward(prompt.data(), 1, 3, logits.data(), pool);
  decoder.Reorder(std::vector<int>(n_seq, 0));
  std::vector<int> next(n_seq, 440);
  const int steps = 64;
  const auto start = Clock::now();
  const double c0 = crm::bench::ProcessCpuSeconds();
  for (int s = 0; s < steps; ++s) decoder.Forward(next.data(), n_seq, 1, logits.data(), pool);
  const double cpu = (crm::bench::ProcessCpuSeconds() - c0) / pool->size();
  return {Seconds(start) * 1e3 / steps, cpu * 1e3 / steps};
}

DecoderTimes MeasureDecoder(const WhisperModel& model, const float* encoded,
                            crm::kernels::ThreadPool* pool) {
  const Tokenizer& tok = model.tokenizer();
  TextDecoder decoder(model, 5);
  decoder.SetAudio(encoded, pool);
  DecoderTimes t;
  StepTime(decoder, tok, 1, pool);  // warm-up
  // The best of three: other processes share the machine.
  t.greedy_ms = t.beam_ms = 1e9;
  for (int rep = 0; rep < 3; ++rep) {
    auto [g, gc] = StepTime(decoder, tok, 1, pool);
    auto [b, bc] = StepTime(decoder, tok, 5, pool);
    if (g < t.greedy_ms) t.greedy_ms = g, t.greedy_cpu = gc;
    if (b < t.beam_ms) t.beam_ms = b, t.beam_cpu = bc;
  }
  // The whole greedy search (filters and choice included) over 64 tokens.
  WindowDecoder window(model, &decoder, pool);
  DecodingOptions greedy;
  greedy.beam_size = 1;
  greedy.sample_len = 64;
  greedy.stop_repetition_loops = false;
  greedy.language_token = tok.LanguageToken("en");
  const auto t0 = Clock::now();
  auto res = window.Decode(greedy);
  t.search_ms = Seconds(t0) * 1e3 / std::max<size_t>(res.tokens.size() + 1, 1);
  return t;
}

std::vector<std::string> CppArgs(const std::string& cli, const std::string& model,
                                 const std::string& wav, int threads, int beam,
                                 const std::string& out_base) {
  return {cli,
          "-m",
          model,
          "-f",
          wav,
          "-t",
          std::to_string(threads),
          "-l",
          "en",
          "-bs",
          std::to_string(beam),
          "-bo",
          std::to_string(std::max(beam, 1)),
          "-nf",
          "-sns",
          "-ojf",
          "-of",
          out_base};
}

std::vector<std::string> CrmArgs(const std::string& crm, const std::string& model,
                                 const std::string& wav, int threads, int beam) {
  return {crm,
          "transcribe",
          wav,
          "--model",
          model,
          "--threads",
          std::to_string(threads),
          "--language",
          "en",
          "--beam-size",
          std::to_string(beam),
          "--no-fallback",
          "--vad",
          "off",
          "--format",
          "verbose_json"};
}

int CrmTokens(const Tokenizer& tok, const std::string& json_path) {
  auto doc = nlohmann::json::parse(crm::bench::ReadFile(json_path), nullptr, false);
  int n = 0;
  if (doc.is_discarded() || !doc.contains("segments")) return -1;
  for (const auto& s : doc["segments"]) n += TextTokens(tok, s["tokens"].get<std::vector<int>>());
  return n;
}

void PrintRun(const char* who, const ChildRun& r, double audio_seconds, int tokens,
              double model_mb) {
  const double rss = r.max_rss_bytes / 1048576.0;
  std::printf(
      "  %-34s %7.2f s wall (RTF %.3f), %7.2f s CPU, peak RSS %4.0f MB (model + %.0f MB), "
      "%d text tokens%s\n",
      who, r.wall_seconds, r.wall_seconds / audio_seconds, r.cpu_seconds, rss, rss - model_mb,
      tokens, r.exit_code == 0 ? "" : "  [FAILED]");
}

// A recording of `minutes` made of the repository's speech fixtures, one after the other,
// repeated as needed.
std::vector<float> LongRecording(const std::string& source, int minutes) {
  std::vector<std::string> files = {
      source + "/tests/data/asr/jfk.wav", source + "/tests/data/diarization/sample.wav",
      source + "/tests/data/diarization/dev00.wav", source + "/tests/data/diarization/dev01.wav"};
  for (int i = 1; i <= 9; ++i) {
    files.push_back(source + "/tests/data/diarization/trn0" + std::to_string(i) + ".wav");
  }
  std::vector<float> pieces;
  for (const auto& f : files) {
    auto pcm = crm::audio::DecodeFile(f);
    if (pcm.ok()) pieces.insert(pieces.end(), pcm->begin(), pcm->end());
  }
  const size_t want = static_cast<size_t>(minutes) * 60 * kSampleRate;
  std::vector<float> out;
  while (!pieces.empty() && out.size() < want) {
    out.insert(out.end(), pieces.begin(),
               pieces.begin() + std::min(pieces.size(), want - out.size()));
  }
  return out;
}

// `--agreement`: greedy text tokens without timestamps against whisper-cli -nt -sns on
// random-weight tiny models, seeds 1-3, on two 30 s inputs (jfk.wav padded with silence,
// sample.wav cut or padded). Both decode plain text after <|notimestamps|>, greedy, temperature
// 0 only, English; ours with the repetition guard off, which whisper.cpp does not have.
int Agreement(int argc, char** argv) {
  const std::string cpp = Arg(argc, argv, "whisper-cpp", "");
  if (cpp.empty()) {
    std::fprintf(stderr, "--agreement needs --whisper-cpp PATH/whisper-cli\n");
    return 2;
  }
  const std::string source = CRM_SOURCE_DIR;
  const std::string type = Arg(argc, argv, "types", "f16");
  const int threads = std::stoi(Arg(argc, argv, "threads", "2"));
  const fs::path tmp =
      fs::temp_directory_path() / ("crm-whisper-agreement-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  struct Input {
    std::string name;
    std::vector<float> pcm;
  };
  std::vector<Input> inputs;
  for (const auto& [name, path] : std::vector<std::pair<std::string, std::string>>{
           {"jfk.wav padded to 30 s", source + "/tests/data/asr/jfk.wav"},
           {"sample.wav cut to 30 s", source + "/tests/data/diarization/sample.wav"}}) {
    auto pcm = crm::audio::DecodeFile(path);
    if (!pcm.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), pcm.error().message.c_str());
      return 1;
    }
    pcm->resize(kChunkSamples, 0.0f);  // exactly one window: no seek rule involved
    inputs.push_back({name, std::move(pcm).value()});
  }
  crm::kernels::ThreadPool pool(threads);
  std::printf("agreement: greedy, no timestamps, %s tiny models (random weights), %d threads\n",
              type.c_str(), threads);
  std::printf("| seed | input | ours | whisper.cpp | identical prefix | verdict |\n");
  std::printf("| --- | --- | --- | --- | --- | --- |\n");
  int identical = 0, cases = 0;
  for (int seed = 1; seed <= 3; ++seed) {
    const std::string model_path = (tmp / ("tiny-" + std::to_string(seed) + ".bin")).string();
    const std::string cmd = "/usr/bin/python3 " + source +
                            "/tools/whisper_reference/make_model.py --vocab-from " + source +
                            "/tests/data/asr/for-tests-ggml-tiny.bin --layout tiny --type " +
                            type + " --seed " + std::to_string(seed) + " --out " + model_path;
    if (std::system(cmd.c_str()) != 0) return 1;
    auto model = WhisperModel::Load(model_path);
    if (!model.ok()) return 1;
    const Tokenizer& tok = (*model)->tokenizer();
    for (size_t in = 0; in < inputs.size(); ++in) {
      const std::string wav = (tmp / ("in" + std::to_string(in) + ".wav")).string();
      crm::bench::WriteWav(wav, inputs[in].pcm);
      const std::string base = (tmp / ("cpp-" + std::to_string(seed) + "-" + std::to_string(in)))
                                   .string();
      std::vector<std::string> args = CppArgs(cpp, model_path, wav, threads, 1, base);
      args.push_back("-nt");
      const ChildRun run = crm::bench::RunChild(args, "", base + ".log");
      std::vector<int> theirs;
      for (int t : crm::bench::WhisperCppTokens(base + ".json"))
        if (tok.IsText(t)) theirs.push_back(t);

      Transcriber tr(*model, &pool, 5);
      TranscribeOptions o;
      o.language = "en";
      o.beam_size = 1;
      o.temperatures = {0.0f};
      o.without_timestamps = true;
      o.stop_repetition_loops = false;
      // whisper.cpp samples at most n_text_ctx / 2 - 4 tokens per window (220), the reference 224.
      o.sample_len = (*model)->hparams().n_text_ctx / 2 - 4;
      auto ours = tr.Run(inputs[in].pcm.data(), inputs[in].pcm.size(), o);
      std::vector<int> mine;
      if (ours.ok())
        for (const auto& seg : ours->segments)
          for (int t : seg.tokens)
            if (tok.IsText(t)) mine.push_back(t);
      size_t same = 0;
      while (same < mine.size() && same < theirs.size() && mine[same] == theirs[same]) ++same;
      const bool ok = run.exit_code == 0 && !theirs.empty() && mine == theirs;
      identical += ok;
      ++cases;
      std::printf("| %d | %s | %zu tokens | %zu tokens%s | %zu | %s |\n", seed,
                  inputs[in].name.c_str(), mine.size(), theirs.size(),
                  run.exit_code == 0 ? "" : " (FAILED)", same, ok ? "identical" : "DIFFERENT");
      if (!ok && Flag(argc, argv, "verbose")) {
        for (size_t i = same; i < std::min<size_t>(same + 5, std::max(mine.size(), theirs.size()));
             ++i)
          std::printf("    at %zu: ours %d, whisper.cpp %d\n", i,
                      i < mine.size() ? mine[i] : -1, i < theirs.size() ? theirs[i] : -1);
      }
    }
  }
  std::printf("identical greedy text tokens in %d of %d cases\n", identical, cases);
  fs::remove_all(tmp);
  return identical == cases ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  if (Flag(argc, argv, "engine-child")) return EngineChild(argc, argv);
  if (Flag(argc, argv, "agreement")) return Agreement(argc, argv);
  const int threads = std::stoi(Arg(argc, argv, "threads", "2"));
  const std::string cpp = Arg(argc, argv, "whisper-cpp", "");
  const std::string crm_ai = Arg(argc, argv, "crm-ai", CRM_BINARY_DIR "/crm-ai");
  const int minutes = std::stoi(Arg(argc, argv, "minutes", "10"));
  const int beam = std::stoi(Arg(argc, argv, "beam", "5"));
  const std::string source = CRM_SOURCE_DIR;
  const std::string audio30 =
      Arg(argc, argv, "audio", source + "/tests/data/diarization/dev00.wav");
  const fs::path tmp =
      fs::temp_directory_path() / ("crm-whisper-bench-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  const std::string self = fs::read_symlink("/proc/self/exe").string();

  // The model files: generated (random weights, --layout, base by default) or the one given.
  const std::string layout = Arg(argc, argv, "layout", "base");
  std::vector<std::pair<std::string, std::string>> models;  // type, path
  if (!Arg(argc, argv, "model", "").empty()) {
    models.push_back({"given", Arg(argc, argv, "model", "")});
  } else {
    std::string types = Arg(argc, argv, "types", "f16,q8_0") + ",";
    for (size_t at; (at = types.find(',')) != std::string::npos; types.erase(0, at + 1)) {
      const std::string type = types.substr(0, at);
      if (type.empty()) continue;
      // --model-dir keeps the generated files for later runs (large-v3-turbo is 1.6 GB in f16).
      const std::string dir = Arg(argc, argv, "model-dir", tmp.string());
      const std::string path = dir + "/" + layout + "-" + type + ".bin";
      const std::string cmd = "/usr/bin/python3 " + source +
                              "/tools/whisper_reference/make_model.py --vocab-from " + source +
                              "/tests/data/asr/for-tests-ggml-tiny.bin --layout " + layout +
                              " --type " + type + " --seed 5 --out " + path + ".part && mv " +
                              path + ".part " + path;
      if (!fs::exists(path) && std::system(cmd.c_str()) != 0) return 1;
      models.push_back({type, path});
    }
  }
  std::printf("whisper bench: %d threads, kernels %s; load average %s (2 cores shared)\n", threads,
              crm::kernels::CpuFeatures().c_str(), Load().c_str());

  const bool wide = crm::kernels::ActiveIsa() == crm::kernels::Isa::kAvx512;
  const double peak = crm::bench::FmaPeakGflops(threads, wide);
  std::printf("reference  fp32 FMA peak: %.1f GFLOP/s (%d threads, %s, per CPU second)\n", peak,
              threads, wide ? "avx512" : "avx2");

  auto pcm30 = crm::audio::DecodeFile(audio30);
  if (!pcm30.ok()) {
    std::fprintf(stderr, "%s: %s\n", audio30.c_str(), pcm30.error().message.c_str());
    return 1;
  }
  pcm30->resize(kChunkSamples, 0.0f);
  crm::kernels::ThreadPool pool(threads);
  double f16_greedy_cpp = -1;  // whisper.cpp's greedy ms/token on the first model (f16)

  for (size_t mi = 0; mi < models.size() && !Flag(argc, argv, "only-end-to-end"); ++mi) {
    const auto& [type, path] = models[mi];
    auto loaded = WhisperModel::Load(path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
      return 1;
    }
    const WhisperModel& model = **loaded;
    std::printf("\n== %s model (%s, %.0f MB)\n", type.c_str(), path.c_str(),
                fs::file_size(path) / 1048576.0);

    // Encoder, on the 30 s recording.
    const float gmax = model.mel().GlobalMax(pcm30->data(), pcm30->size(), kChunkSamples);
    std::vector<float> mel;
    model.mel().Window(pcm30->data(), pcm30->size(), kChunkSamples, 0, gmax, &mel);
    AudioEncoder encoder(model);
    encoder.Run(mel.data(), &pool);  // warm-up
    double enc = 1e9, enc_cpu = 1e9;
    for (int i = 0; i < 3; ++i) {
      const auto t0 = Clock::now();
      const double c0 = crm::bench::ProcessCpuSeconds();
      encoder.Run(mel.data(), &pool);
      enc = std::min(enc, Seconds(t0));
      enc_cpu = std::min(enc_cpu, crm::bench::ProcessCpuSeconds() - c0);
    }
    const double gflop = EncoderGflop(model.hparams());
    // CPU time over the threads: the wall time the window would take on otherwise idle cores.
    const double enc_idle = enc_cpu / threads;
    std::printf(
        "ours       encoder %.0f ms per 30 s window wall, %.0f ms CPU/thread; %.1f GFLOP "
        "-> %.1f GFLOP/s wall (%.0f%% of peak), %.1f GFLOP/s per CPU (%.0f%%)\n",
        enc * 1e3, enc_idle * 1e3, gflop, gflop / enc, 100 * gflop / enc / peak, gflop / enc_idle,
        100 * gflop / enc_idle / peak);

    if (type == "q8_0" && crm::kernels::Int8ProductsAvailable()) {
      // The same window through the f32 products (weights dequantized while packed).
      crm::kernels::SetInt8ProductsForTesting(false);
      double f32 = 1e9;
      for (int i = 0; i < 3; ++i) {
        const auto t0 = Clock::now();
        encoder.Run(mel.data(), &pool);
        f32 = std::min(f32, Seconds(t0));
      }
      crm::kernels::SetInt8ProductsForTesting(true);
      std::printf("ours       encoder q8_0 through the int8 (VNNI) path %.0f ms, through f32 "
                  "products %.0f ms per window: %.2fx\n",
                  enc * 1e3, f32 * 1e3, f32 / enc);
    }

    const DecoderTimes d = MeasureDecoder(model, encoder.output(), &pool);
    std::printf(
        "ours       decoder greedy %.2f ms/token wall (%.2f CPU/thread; %.2f with the "
        "search); beam 5 %.2f ms/step wall = %.2f ms/token (%.2f CPU/thread per step)\n",
        d.greedy_ms, d.greedy_cpu, d.search_ms, d.beam_ms, d.beam_ms / 5, d.beam_cpu);
    // Peak RSS of a whole greedy transcription of the 30 s recording in a child process.
    const std::string wav = (tmp / "audio30.wav").string();
    crm::bench::WriteWav(wav, *pcm30);
    const ChildRun child = crm::bench::RunChild(
        {self, "--engine-child", "--model", path, "--audio", wav, "--threads",
         std::to_string(threads), "--beam", "1", "--guard", "off"},
        "", "");
    const double model_mb = fs::file_size(path) / 1048576.0;
    std::printf("ours       peak RSS %.0f MB (model %.0f MB + %.0f MB), greedy, 30 s, %.1f s wall\n",
                child.max_rss_bytes / 1048576.0, model_mb,
                child.max_rss_bytes / 1048576.0 - model_mb, child.wall_seconds);
    if (cpp.empty()) continue;

    // whisper.cpp on the same model and recording: greedy, then beam 5; fallback off.
    const std::string base = (tmp / ("cpp-" + type)).string();
    const ChildRun g =
        crm::bench::RunChild(CppArgs(cpp, path, wav, threads, 1, base + "-g"), "", base + "-g.log");
    const ChildRun b =
        crm::bench::RunChild(CppArgs(cpp, path, wav, threads, 5, base + "-b"), "", base + "-b.log");
    const auto tg = crm::bench::ParseWhisperCppLog(base + "-g.log");
    const auto tb = crm::bench::ParseWhisperCppLog(base + "-b.log");
    if (g.exit_code != 0 || b.exit_code != 0)
      std::printf("whisper.cpp FAILED (see %s)\n", base.c_str());
    std::printf(
        "whisper.cpp encoder %.0f ms per window; decoder greedy %.2f ms/token (%d "
        "calls), beam 5 %.2f ms/token = %.2f ms/step (%d tokens in batches)\n",
        tg.encode_ms, tg.decode_ms, tg.decode_runs, tb.batchd_ms, tb.batchd_ms * 5, tb.batchd_runs);
    std::printf("whisper.cpp peak RSS %.0f MB (model + %.0f MB), greedy, 30 s, %.1f s wall\n",
                g.max_rss_bytes / 1048576.0, g.max_rss_bytes / 1048576.0 - model_mb,
                g.wall_seconds);
    std::printf(
        "ratios     encoder %.2fx faster (target >= 1.5); greedy %.2fx of whisper.cpp's "
        "ms/token; beam 5 %.2fx\n",
        tg.encode_ms / (enc * 1e3), d.greedy_ms / tg.decode_ms, d.beam_ms / (tb.batchd_ms * 5));
    if (mi == 0) {
      f16_greedy_cpp = tg.decode_ms;
    } else if (f16_greedy_cpp > 0) {
      std::printf("ratios     %s greedy against whisper.cpp's %s greedy: %.2fx\n", type.c_str(),
                  models[0].first.c_str(), d.greedy_ms / f16_greedy_cpp);
    }
    // Agreement of the greedy text tokens on the same recording (a check that both engines
    // compute the same model).
    Transcriber tr(*loaded, &pool, 5);
    TranscribeOptions o;
    o.language = "en";
    o.beam_size = 1;
    o.temperatures = {0.0f};
    o.stop_repetition_loops = false;
    auto ours = tr.Run(pcm30->data(), pcm30->size(), o);
    std::vector<int> mine, theirs;
    if (ours.ok())
      for (const auto& s : ours->segments)
        for (int t : s.tokens)
          if (model.tokenizer().IsText(t)) mine.push_back(t);
    for (int t : crm::bench::WhisperCppTokens(base + "-g.json"))
      if (model.tokenizer().IsText(t)) theirs.push_back(t);
    size_t same = 0;
    while (same < mine.size() && same < theirs.size() && mine[same] == theirs[same]) ++same;
    std::printf("agreement  greedy text tokens: %zu ours, %zu whisper.cpp, first %zu identical\n",
                mine.size(), theirs.size(), same);
  }

  // End to end, the first model (f16 by default), as separate processes.
  if (!Flag(argc, argv, "skip-long")) {
    const auto& [type, path] = models[0];
    auto model = WhisperModel::Load(path);
    const Tokenizer& tok = (*model)->tokenizer();
    const double model_mb = fs::file_size(path) / 1048576.0;
    const std::string jfk = source + "/tests/data/asr/jfk.wav";
    const std::string long_wav = (tmp / "long.wav").string();
    crm::bench::WriteWav(long_wav, LongRecording(source, minutes));
    const bool have_crm = access(crm_ai.c_str(), X_OK) == 0;
    if (!have_crm)
      std::printf("\n(no %s: build the crm-ai target for end-to-end runs)\n", crm_ai.c_str());
    struct Input {
      std::string name, wav;
      double seconds;
      int reps;
    };
    for (const Input& in :
         {Input{"jfk.wav", jfk, 11.0, 2},
          Input{std::to_string(minutes) + "-minute file", long_wav, minutes * 60.0, 1}}) {
      std::printf("\n== end to end, %s (%s model; beam %d, fallback off, %d threads; load %s)\n",
                  in.name.c_str(), type.c_str(), beam, threads, Load().c_str());
      ChildRun best_crm, best_engine, best_cpp;
      best_crm.wall_seconds = best_engine.wall_seconds = best_cpp.wall_seconds = 1e9;
      int crm_tokens = -1, engine_tokens = -1, cpp_tokens = -1;
      // Interleaved repetitions, the best of each kept.
      for (int rep = 0; rep < in.reps; ++rep) {
        if (have_crm) {
          const std::string out = (tmp / "crm.json").string();
          ChildRun r = crm::bench::RunChild(CrmArgs(crm_ai, path, in.wav, threads, beam), out,
                                            (tmp / "crm.log").string());
          if (r.wall_seconds < best_crm.wall_seconds) best_crm = r;
          crm_tokens = CrmTokens(tok, out);
        }
        const std::string out = (tmp / "engine.txt").string();
        ChildRun r = crm::bench::RunChild(
            {self, "--engine-child", "--model", path, "--audio", in.wav, "--threads",
             std::to_string(threads), "--beam", std::to_string(beam), "--guard", "off"},
            out, "");
        if (r.wall_seconds < best_engine.wall_seconds) best_engine = r;
        engine_tokens = std::atoi(crm::bench::ReadFile(out).c_str());
        if (!cpp.empty()) {
          const std::string base = (tmp / "cpp-e2e").string();
          ChildRun c = crm::bench::RunChild(CppArgs(cpp, path, in.wav, threads, beam, base), "",
                                            base + ".log");
          if (c.wall_seconds < best_cpp.wall_seconds) best_cpp = c;
          cpp_tokens = TextTokens(tok, crm::bench::WhisperCppTokens(base + ".json"));
        }
      }
      if (have_crm) PrintRun("crm-ai transcribe", best_crm, in.seconds, crm_tokens, model_mb);
      PrintRun("engine, repetition guard off", best_engine, in.seconds, engine_tokens, model_mb);
      if (!cpp.empty()) {
        PrintRun("whisper-cli", best_cpp, in.seconds, cpp_tokens, model_mb);
        std::printf(
            "ratios     whisper-cli wall / ours: crm-ai %.2fx, engine (guard off) %.2fx "
            "(target >= 1.5)\n",
            best_cpp.wall_seconds / best_crm.wall_seconds,
            best_cpp.wall_seconds / best_engine.wall_seconds);
      }
      if (have_crm) {
        std::printf("memory     crm-ai peak RSS - model = %.0f MB (target <= 200)\n",
                    best_crm.max_rss_bytes / 1048576.0 - model_mb);
      }
    }
  }
  std::printf("\nload average at the end: %s\n", Load().c_str());
  fs::remove_all(tmp);
  return 0;
}
