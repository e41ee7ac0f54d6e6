#include "bench_support.h"

#include <fcntl.h>
#include <immintrin.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "audio/decoder.h"

namespace crm::bench {
namespace {

// 12 independent FMA chains kept in registers.
#define CRM_FMA_CHAINS(FMADD, T, SET1, REDUCE)                                         \
  T a0 = SET1(1.0f), a1 = SET1(1.001f), a2 = SET1(1.002f), a3 = SET1(1.003f);          \
  T a4 = SET1(1.004f), a5 = SET1(1.005f), a6 = SET1(1.006f), a7 = SET1(1.007f);        \
  T a8 = SET1(1.008f), a9 = SET1(1.009f), a10 = SET1(1.01f), a11 = SET1(1.011f);       \
  const T m = SET1(0.999999f), b = SET1(1e-7f);                                        \
  for (int64_t it = 0; it < iters; ++it) {                                             \
    a0 = FMADD(a0, m, b);                                                              \
    a1 = FMADD(a1, m, b);                                                              \
    a2 = FMADD(a2, m, b);                                                              \
    a3 = FMADD(a3, m, b);                                                              \
    a4 = FMADD(a4, m, b);                                                              \
    a5 = FMADD(a5, m, b);                                                              \
    a6 = FMADD(a6, m, b);                                                              \
    a7 = FMADD(a7, m, b);                                                              \
    a8 = FMADD(a8, m, b);                                                              \
    a9 = FMADD(a9, m, b);                                                              \
    a10 = FMADD(a10, m, b);                                                            \
    a11 = FMADD(a11, m, b);                                                            \
  }                                                                                    \
  return REDUCE(a0) + REDUCE(a1) + REDUCE(a2) + REDUCE(a3) + REDUCE(a4) + REDUCE(a5) + \
         REDUCE(a6) + REDUCE(a7) + REDUCE(a8) + REDUCE(a9) + REDUCE(a10) + REDUCE(a11);

__attribute__((target("avx2,fma"))) double FmaLoop(int64_t iters) {
  CRM_FMA_CHAINS(_mm256_fmadd_ps, __m256, _mm256_set1_ps, _mm256_cvtss_f32)
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
__attribute__((target("avx512f"))) double FmaLoop512(int64_t iters) {
  CRM_FMA_CHAINS(_mm512_fmadd_ps, __m512, _mm512_set1_ps, _mm512_reduce_add_ps)
}
#pragma GCC diagnostic pop

double Clock(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

}  // namespace

double ThreadCpuSeconds() { return Clock(CLOCK_THREAD_CPUTIME_ID); }
double ProcessCpuSeconds() { return Clock(CLOCK_PROCESS_CPUTIME_ID); }

double FmaPeakGflops(int threads, bool wide) {
  const int64_t iters = 20'000'000;
  std::vector<std::thread> pool;
  std::vector<double> rate(threads);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const double c0 = ThreadCpuSeconds();
      volatile double sink = wide ? FmaLoop512(iters) : FmaLoop(iters);
      (void)sink;
      rate[t] = iters * 12.0 * (wide ? 16 : 8) * 2 / (ThreadCpuSeconds() - c0);
    });
  }
  for (auto& th : pool) th.join();
  double total = 0;
  for (double r : rate) total += r;
  return total / 1e9;
}

ChildRun RunChild(const std::vector<std::string>& argv, const std::string& stdout_path,
                  const std::string& stderr_path) {
  ChildRun run;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) return run;
  if (pid == 0) {
    auto redirect = [](const std::string& path, int fd) {
      const int out =
          open(path.empty() ? "/dev/null" : path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out >= 0) dup2(out, fd);
    };
    redirect(stdout_path, 1);
    redirect(stderr_path, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  if (wait4(pid, &status, 0, &ru) != pid) return run;
  run.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.cpu_seconds = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
                    ru.ru_stime.tv_usec * 1e-6;
  run.max_rss_bytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  return run;
}

bool WriteWav(const std::string& path, const std::vector<float>& pcm) {
  std::ofstream f(path, std::ios::binary);
  f << audio::EncodeWav(pcm);
  return f.good();
}

WhisperCppTimings ParseWhisperCppLog(const std::string& path) {
  WhisperCppTimings t;
  std::ifstream in(path);
  std::string line;
  auto per_run = [&](const char* key, double* ms, int* runs) {
    const size_t at = line.find(key);
    if (at == std::string::npos) return;
    const size_t eq = line.find('=', at);
    double total = 0, per = 0;
    int n = 0;
    if (eq != std::string::npos &&
        std::sscanf(line.c_str() + eq + 1, "%lf ms / %d runs ( %lf", &total, &n, &per) == 3) {
      *ms = per;
      *runs = n;
    }
  };
  while (std::getline(in, line)) {
    per_run("encode time", &t.encode_ms, &t.encode_runs);
    per_run("decode time", &t.decode_ms, &t.decode_runs);
    per_run("batchd time", &t.batchd_ms, &t.batchd_runs);
    const size_t at = line.find("total time");
    if (at != std::string::npos) {
      std::sscanf(line.c_str() + line.find('=', at) + 1, "%lf", &t.total_ms);
    }
  }
  return t;
}

std::vector<int> WhisperCppTokens(const std::string& json_path) {
  std::vector<int> tokens;
  std::ifstream j(json_path);
  if (!j) return tokens;
  auto doc = nlohmann::json::parse(j, nullptr, false);
  if (doc.is_discarded() || !doc.contains("transcription")) return tokens;
  for (const auto& seg : doc["transcription"]) {
    if (!seg.contains("tokens")) continue;
    for (const auto& t : seg["tokens"]) tokens.push_back(t["id"].get<int>());
  }
  return tokens;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace crm::bench
