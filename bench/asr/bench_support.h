// Measuring helpers of whisper_bench: the machine's fp32 FMA peak, child processes timed with
// their peak RSS (wait4), WAV files, and whisper.cpp's timing report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace crm::bench {

// Peak fp32 FMA throughput in GFLOP/s over `threads` threads, 12 independent FMA chains each,
// at the vector width the kernels use (AVX-512 when `wide`), per second of each thread's CPU
// time (so other processes sharing the cores do not lower it), summed over the threads.
double FmaPeakGflops(int threads, bool wide);

double ThreadCpuSeconds();
double ProcessCpuSeconds();

struct ChildRun {
  int exit_code = -1;
  double wall_seconds = 0;
  double cpu_seconds = 0;  // user + system, all threads
  int64_t max_rss_bytes = 0;
};

// Runs argv[0] with argv (no shell), stdout and stderr to the given files (empty: /dev/null),
// and waits for it with wait4 for its resource usage.
ChildRun RunChild(const std::vector<std::string>& argv, const std::string& stdout_path,
                  const std::string& stderr_path);

// 16 kHz mono 16-bit PCM.
bool WriteWav(const std::string& path, const std::vector<float>& pcm);

// What whisper-cli printed about its run (whisper_print_timings), -1 where absent.
struct WhisperCppTimings {
  double encode_ms = -1;  // per run (one run per 30 s window)
  int encode_runs = 0;
  double decode_ms = -1;  // per single-token decoder call (greedy)
  int decode_runs = 0;
  double batchd_ms = -1;  // per token of batched decoder calls (beams), per token
  int batchd_runs = 0;
  double total_ms = -1;
};
WhisperCppTimings ParseWhisperCppLog(const std::string& path);

// Text token ids of whisper-cli's full JSON output (-ojf), in order.
std::vector<int> WhisperCppTokens(const std::string& json_path);

std::string ReadFile(const std::string& path);

}  // namespace crm::bench
