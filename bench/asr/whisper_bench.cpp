// Whisper engine benchmark on a random-weight model in the base layout (or any model file):
// encoder time per 30 s window, its GFLOP/s and fraction of the machine's fp32 FMA peak
// (measured in the same run), decoder ms per token (greedy and beam 5), real-time factor on a
// 10-minute recording, peak RSS against the model size. With --whisper-cpp PATH (whisper-cli of
// whisper.cpp) the same model and audio go through whisper.cpp with the same threads, and the
// ratios and greedy token agreement on 30 s inputs are printed.
//
//   whisper_bench [--model M.bin] [--type f16] [--threads 2] [--whisper-cpp /path/whisper-cli]
//                 [--minutes 10] [--skip-rtf]
#include <immintrin.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "asr/whisper/decoding.h"
#include "asr/whisper/encoder.h"
#include "asr/whisper/model.h"
#include "asr/whisper/transcriber.h"
#include "audio/decoder.h"
#include "kernels/kernels.h"

namespace {

using namespace crm::asr::whisper;
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

// Peak fp32 FMA throughput: 12 independent FMA chains per thread, kept in registers.
#define CRM_FMA_CHAINS(FMADD, T, SET1, REDUCE)                                                  \
  T a0 = SET1(1.0f), a1 = SET1(1.001f), a2 = SET1(1.002f), a3 = SET1(1.003f);              \
  T a4 = SET1(1.004f), a5 = SET1(1.005f), a6 = SET1(1.006f), a7 = SET1(1.007f);            \
  T a8 = SET1(1.008f), a9 = SET1(1.009f), a10 = SET1(1.01f), a11 = SET1(1.011f);           \
  const T m = SET1(0.999999f), b = SET1(1e-7f);                                            \
  for (int64_t it = 0; it < iters; ++it) {                                                  \
    a0 = FMADD(a0, m, b); a1 = FMADD(a1, m, b); a2 = FMADD(a2, m, b);                       \
    a3 = FMADD(a3, m, b); a4 = FMADD(a4, m, b); a5 = FMADD(a5, m, b);                       \
    a6 = FMADD(a6, m, b); a7 = FMADD(a7, m, b); a8 = FMADD(a8, m, b);                       \
    a9 = FMADD(a9, m, b); a10 = FMADD(a10, m, b); a11 = FMADD(a11, m, b);                   \
  }                                                                                         \
  return REDUCE(a0) + REDUCE(a1) + REDUCE(a2) + REDUCE(a3) + REDUCE(a4) + REDUCE(a5) +      \
         REDUCE(a6) + REDUCE(a7) + REDUCE(a8) + REDUCE(a9) + REDUCE(a10) + REDUCE(a11);

__attribute__((target("avx2,fma"))) double FmaLoop(int64_t iters) {
  CRM_FMA_CHAINS(_mm256_fmadd_ps, __m256, _mm256_set1_ps, _mm256_cvtss_f32)
}

__attribute__((target("avx512f"))) double FmaLoop512(int64_t iters) {
  CRM_FMA_CHAINS(_mm512_fmadd_ps, __m512, _mm512_set1_ps, _mm512_reduce_add_ps)
}

double CpuSeconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// The peak at the vector width the kernels use, per second of CPU time of each thread (so
// other processes sharing the cores do not lower it), summed over the threads.
double FmaPeakGflops(int threads, bool wide) {
  const int64_t iters = 20'000'000;
  std::vector<std::thread> pool;
  std::vector<double> rate(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const double c0 = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
      volatile double sink = wide ? FmaLoop512(iters) : FmaLoop(iters);
      (void)sink;
      rate[t] = iters * 12.0 * (wide ? 16 : 8) * 2 / (CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - c0);
    });
  }
  for (auto& th : pool) th.join();
  double total = 0;
  for (double r : rate) total += r;
  return total / 1e9;
}

double EncoderGflop(const HParams& hp) {
  const double n = hp.n_audio_state, ctx = hp.n_audio_ctx, mels = hp.n_mels;
  double f = 2 * ctx * 2 * (3 * mels) * n + 2 * ctx * (3 * n) * n;          // convolutions
  f += hp.n_audio_layer * (2 * ctx * 12 * n * n + 2 * 2 * ctx * ctx * n);  // blocks
  return f / 1e9;
}

int64_t PeakRssBytes() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;
}

std::vector<float> Speechlike(size_t seconds, uint32_t seed) {
  // Voiced bursts (harmonics with a wandering pitch) separated by pauses, over faint noise.
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.003f);
  std::vector<float> pcm(seconds * kSampleRate);
  double phase = 0;
  for (size_t i = 0; i < pcm.size(); ++i) {
    const double t = static_cast<double>(i) / kSampleRate;
    const double on = std::fmod(t, 7.0) < 5.0 ? 1.0 : 0.0;
    const double f0 = 120 + 30 * std::sin(0.7 * t) + 10 * std::sin(5.3 * t);
    phase += 2 * M_PI * f0 / kSampleRate;
    double v = 0;
    for (int h = 1; h <= 6; ++h) v += std::sin(h * phase) / h;
    pcm[i] = static_cast<float>(0.1 * on * v * (0.6 + 0.4 * std::sin(3 * t))) + noise(rng);
  }
  return pcm;
}

void WriteWav(const std::string& path, const std::vector<float>& pcm) {
  std::ofstream f(path, std::ios::binary);
  const uint32_t data = static_cast<uint32_t>(pcm.size() * 2), riff = 36 + data;
  const uint32_t fmt_size = 16, rate = kSampleRate, byte_rate = kSampleRate * 2;
  const uint16_t pcm_tag = 1, channels = 1, align = 2, bits = 16;
  f.write("RIFF", 4).write(reinterpret_cast<const char*>(&riff), 4).write("WAVEfmt ", 8);
  f.write(reinterpret_cast<const char*>(&fmt_size), 4);
  f.write(reinterpret_cast<const char*>(&pcm_tag), 2).write(reinterpret_cast<const char*>(&channels), 2);
  f.write(reinterpret_cast<const char*>(&rate), 4).write(reinterpret_cast<const char*>(&byte_rate), 4);
  f.write(reinterpret_cast<const char*>(&align), 2).write(reinterpret_cast<const char*>(&bits), 2);
  f.write("data", 4).write(reinterpret_cast<const char*>(&data), 4);
  for (float x : pcm) {
    const int16_t s = static_cast<int16_t>(std::clamp(x, -1.0f, 1.0f) * 32767);
    f.write(reinterpret_cast<const char*>(&s), 2);
  }
}

struct CppResult {
  double encode_ms = -1, decode_ms_per_token = -1;
  std::vector<int> tokens;
};

// Runs whisper-cli and reads its timings (stderr) and tokens (-ojf JSON).
CppResult RunWhisperCpp(const std::string& cli, const std::string& model, const std::string& wav,
                        int threads, const std::string& out_base) {
  CppResult r;
  const std::string log = out_base + ".log";
  const std::string cmd = cli + " -m " + model + " -f " + wav + " -t " + std::to_string(threads) +
                          " -l en -nf -bs 1 -bo 1 -sns -ojf -of " + out_base + " > " + log +
                          " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "whisper.cpp failed: %s\n", cmd.c_str());
    return r;
  }
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    double ms = 0, per = 0;
    int runs = 0;
    if (line.find("encode time") != std::string::npos &&
        std::sscanf(line.c_str() + line.find('=') + 1, "%lf ms / %d runs", &ms, &runs) == 2)
      r.encode_ms = ms / std::max(runs, 1);
    if (line.find("decode time") != std::string::npos &&
        std::sscanf(line.c_str() + line.find('=') + 1, "%lf ms / %d runs ( %lf", &ms, &runs,
                    &per) == 3)
      r.decode_ms_per_token = per;
  }
  std::ifstream j(out_base + ".json");
  if (j) {
    auto doc = nlohmann::json::parse(j, nullptr, false);
    if (!doc.is_discarded()) {
      for (const auto& seg : doc["transcription"])
        for (const auto& t : seg["tokens"]) r.tokens.push_back(t["id"].get<int>());
    }
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = std::stoi(Arg(argc, argv, "threads", "2"));
  const std::string type = Arg(argc, argv, "type", "f16");
  const std::string cpp = Arg(argc, argv, "whisper-cpp", "");
  const int minutes = std::stoi(Arg(argc, argv, "minutes", "10"));
  std::string model_path = Arg(argc, argv, "model", "");
  const std::string source = CRM_SOURCE_DIR;
  const fs::path tmp = fs::temp_directory_path() / ("crm-whisper-bench-" + std::to_string(getpid()));
  fs::create_directories(tmp);
  if (model_path.empty()) {
    model_path = (tmp / ("base-" + type + ".bin")).string();
    const std::string cmd = "/usr/bin/python3 " + source +
                            "/tools/whisper_reference/make_model.py --vocab-from " + source +
                            "/tests/data/asr/for-tests-ggml-tiny.bin --layout base --type " +
                            type + " --seed 5 --out " + model_path;
    if (std::system(cmd.c_str()) != 0) return 1;
  }
  std::printf("whisper bench: model %s, %d threads, kernels %s\n", model_path.c_str(), threads,
              crm::kernels::CpuFeatures().c_str());

  const bool wide = crm::kernels::ActiveIsa() == crm::kernels::Isa::kAvx512;
  const double peak = FmaPeakGflops(threads, wide);
  std::printf("reference  fp32 FMA peak: %.1f GFLOP/s (%d threads, %s)\n", peak, threads,
              wide ? "avx512" : "avx2");

  auto loaded = WhisperModel::Load(model_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.error().message.c_str());
    return 1;
  }
  auto model = *loaded;
  const HParams& hp = model->hparams();
  crm::kernels::ThreadPool pool(threads);

  // Encoder.
  const auto pcm30 = Speechlike(30, 1);
  const float gmax = model->mel().GlobalMax(pcm30.data(), pcm30.size(), kChunkSamples);
  std::vector<float> mel;
  auto t0 = Clock::now();
  model->mel().Window(pcm30.data(), pcm30.size(), kChunkSamples, 0, gmax, &mel);
  const double mel_ms = Seconds(t0) * 1e3;
  AudioEncoder encoder(*model);
  encoder.Run(mel.data(), &pool);  // warm-up
  double enc = 1e9, enc_cpu = 1e9;
  for (int i = 0; i < 3; ++i) {
    t0 = Clock::now();
    const double c0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    encoder.Run(mel.data(), &pool);
    enc = std::min(enc, Seconds(t0));
    enc_cpu = std::min(enc_cpu, CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - c0);
  }
  const double gflop = EncoderGflop(hp);
  // CPU time over the threads: the wall time the window would take on otherwise idle cores.
  const double enc_idle = enc_cpu / threads;
  std::printf("encoder    %.0f ms per 30 s window wall, %.0f ms CPU/thread (mel %.0f ms), "
              "%.1f GFLOP -> %.1f GFLOP/s = %.0f%% of FMA peak\n",
              enc * 1e3, enc_idle * 1e3, mel_ms, gflop, gflop / enc_idle,
              100 * gflop / enc_idle / peak);

  // Decoder: ms per token, greedy (1 sequence) and beam 5 (5 sequences per step).
  const Tokenizer& tok = model->tokenizer();
  TextDecoder decoder(*model, 5);
  decoder.SetAudio(encoder.output(), &pool);
  std::vector<float> logits(5 * static_cast<size_t>(hp.n_vocab));
  const std::vector<int> prompt = {tok.sot(), tok.LanguageToken("en"), tok.transcribe()};
  auto per_token = [&](int n_seq) {
    decoder.Reset();
    decoder.Forward(prompt.data(), 1, 3, logits.data(), &pool);
    decoder.Reorder(std::vector<int>(n_seq, 0));
    std::vector<int> next(n_seq, 440);
    const int steps = 64;
    const auto start = Clock::now();
    const double c0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    for (int s = 0; s < steps; ++s) decoder.Forward(next.data(), n_seq, 1, logits.data(), &pool);
    const double cpu = (CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / threads;
    return std::make_pair(Seconds(start) * 1e3 / steps, cpu * 1e3 / steps);
  };
  per_token(1);
  const auto [greedy_ms, greedy_cpu] = per_token(1);
  const auto [beam_ms, beam_cpu] = per_token(5);
  // The whole greedy search (filters and choice included) over 64 tokens.
  WindowDecoder window(*model, &decoder, &pool);
  DecodingOptions greedy;
  greedy.beam_size = 1;
  greedy.sample_len = 64;
  greedy.language_token = tok.LanguageToken("en");
  t0 = Clock::now();
  auto res = window.Decode(greedy);
  const double search_ms = Seconds(t0) * 1e3 / std::max<size_t>(res.tokens.size() + 1, 1);
  std::printf("decoder    greedy %.2f ms/token wall, %.2f CPU/thread (%.2f wall with search); "
              "beam 5 %.2f ms/step wall, %.2f CPU/thread (5 tokens)\n",
              greedy_ms, greedy_cpu, search_ms, beam_ms, beam_cpu);

  // Real-time factor on a long recording, default decoding.
  if (!Flag(argc, argv, "skip-rtf")) {
    const auto pcm = Speechlike(static_cast<size_t>(minutes) * 60, 2);
    Transcriber transcriber(model, &pool, 5);
    TranscribeOptions o;
    o.language = "en";
    t0 = Clock::now();
    const double c0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    auto tr = transcriber.Run(pcm.data(), pcm.size(), o);
    const double s = Seconds(t0), cpu = (CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / threads;
    std::printf("long-form  %d min, default decoding: %.1f s wall (RTF %.3f), %.1f s CPU/thread "
                "(RTF %.3f); %d windows, %zu segments\n",
                minutes, s, s / (minutes * 60.0), cpu, cpu / (minutes * 60.0),
                transcriber.windows_decoded(), tr.ok() ? tr->segments.size() : 0);
  }
  const double model_mb = static_cast<double>(fs::file_size(model_path)) / (1 << 20);
  const double rss_mb = static_cast<double>(PeakRssBytes()) / (1 << 20);
  std::printf("memory     peak RSS %.0f MB, model file %.0f MB, RSS - model = %.0f MB\n", rss_mb,
              model_mb, rss_mb - model_mb);

  if (!cpp.empty()) {
    // Same model, same 30 s audio, same threads; greedy without fallback.
    // --audio FILE: a recording of exactly 30 s to compare on (default: the synthetic one).
    std::string wav = Arg(argc, argv, "audio", "");
    std::vector<float> pcm_read = pcm30;
    if (wav.empty()) {
      wav = (tmp / "speech30.wav").string();
      WriteWav(wav, pcm30);
    } else {
      auto decoded = crm::audio::DecodeFile(wav);
      if (!decoded.ok()) {
        std::fprintf(stderr, "%s\n", decoded.error().message.c_str());
        return 1;
      }
      pcm_read = *decoded;
    }
    auto c = RunWhisperCpp(cpp, model_path, wav, threads, (tmp / "cpp").string());
    std::printf("whisper.cpp encoder %.0f ms per window -> ours is %.2fx faster\n", c.encode_ms,
                c.encode_ms / (enc * 1e3));
    std::printf("whisper.cpp decoder %.2f ms/token -> ours is %.2fx of it\n",
                c.decode_ms_per_token, greedy_ms / c.decode_ms_per_token);
    // Our greedy tokens on the same audio, as the CLI computes the window.
    Transcriber tr(model, &pool, 5);
    TranscribeOptions o;
    o.language = "en";
    o.beam_size = 1;
    o.temperatures = {0.0f};
    o.no_speech_threshold = NAN;
    o.stop_repetition_loops = false;  // whisper.cpp has no such guard
    auto ours = tr.Run(pcm_read.data(), pcm_read.size(), o);
    // whisper.cpp's JSON lists text tokens only: compare those.
    std::vector<int> our_tokens;
    if (ours.ok())
      for (const auto& s : ours->segments)
        for (int t : s.tokens)
          if (tok.IsText(t)) our_tokens.push_back(t);
    size_t same = 0;
    std::vector<int> theirs;
    for (int t : c.tokens)
      if (tok.IsText(t)) theirs.push_back(t);
    while (same < our_tokens.size() && same < theirs.size() && our_tokens[same] == theirs[same])
      ++same;
    std::printf("whisper.cpp text tokens: %zu ours, %zu theirs, first %zu identical\n",
                our_tokens.size(), theirs.size(), same);
    auto head = [](const std::vector<int>& v) {
      std::string s;
      for (size_t i = 0; i < std::min<size_t>(v.size(), 12); ++i) s += std::to_string(v[i]) + " ";
      return s;
    };
    std::printf("  ours:   %s\n  theirs: %s\n", head(our_tokens).c_str(), head(theirs).c_str());
  }
  fs::remove_all(tmp);
  return 0;
}
