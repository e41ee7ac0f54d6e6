// Speed of the kernels on the Whisper base shapes, each number next to a reference measured in
// the same run: the FMA peak of this machine, OpenBLAS sgemm, and the read bandwidth of memory.
//
//   kernels_bench [--quick] [--isa generic|avx2|avx512] [--threads N] [--only SECTION]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <ctime>
#include <vector>

#include "kernels/kernels.h"

#ifdef CRM_BENCH_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

namespace {

using crm::kernels::DType;
using crm::kernels::ThreadPool;
using crm::kernels::WeightView;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// With one thread, time is the thread's CPU time: a shared machine then disturbs the numbers
// much less (other processes' time slices are not counted).
bool g_thread_cpu_time = false;

double Now() {
  if (g_thread_cpu_time) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

// Fastest of repeated runs of fn lasting about `budget` seconds (at least 3 runs): the machine
// may be shared, and the best run is the one least disturbed.
double TimeIt(const std::function<void()>& fn, double budget = 0.5) {
  fn();  // warm-up
  std::vector<double> t;
  const auto start = Clock::now();
  while (t.size() < 3 || (Seconds(start, Clock::now()) < budget && t.size() < 2000)) {
    const double a = Now();
    fn();
    t.push_back(Now() - a);
  }
  return *std::min_element(t.begin(), t.end());
}

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// ---------------------------------------------------------------------------------------------
// References

__attribute__((target("avx512f"))) double FmaLoop512(int64_t iters) {
  __m512 a[12];
#pragma GCC unroll 12
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm512_fmadd_ps(a[i], b, c);
  }
  float s = 0;
#pragma GCC unroll 12
  for (int i = 0; i < 12; ++i) s += _mm512_cvtss_f32(a[i]);
  return s;
}

__attribute__((target("avx2,fma"))) double FmaLoop256(int64_t iters) {
  __m256 a[12];
#pragma GCC unroll 12
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (int64_t n = 0; n < iters; ++n) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], b, c);
  }
  float s = 0;
#pragma GCC unroll 12
  for (int i = 0; i < 12; ++i) s += _mm256_cvtss_f32(a[i]);
  return s;
}

// GFLOP/s of FMA loops on `threads` threads at once.
double FmaPeak(int threads, bool avx512) {
  const int64_t iters = 5'000'000;
  const double flops_per_iter = 12.0 * (avx512 ? 16 : 8) * 2;
  if (threads == 1) {
    const double a = Now();
    volatile double sink = avx512 ? FmaLoop512(iters) : FmaLoop256(iters);
    (void)sink;
    return flops_per_iter * iters / (Now() - a) / 1e9;
  }
  std::vector<std::thread> ts;
  std::vector<double> sink(threads);
  const auto a = Clock::now();
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] { sink[t] = avx512 ? FmaLoop512(iters) : FmaLoop256(iters); });
  }
  for (auto& t : ts) t.join();
  const double s = Seconds(a, Clock::now());
  return flops_per_iter * iters * threads / s / 1e9;
}

__attribute__((target("avx2"))) uint64_t SumBytes(const uint64_t* p, size_t n) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 16 <= n; i += 16) {
    a0 = _mm256_add_epi64(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    a1 = _mm256_add_epi64(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 4)));
    a2 = _mm256_add_epi64(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 8)));
    a3 = _mm256_add_epi64(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 12)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  return static_cast<uint64_t>(_mm256_extract_epi64(s, 0) + _mm256_extract_epi64(s, 1) +
                               _mm256_extract_epi64(s, 2) + _mm256_extract_epi64(s, 3));
}

// GB/s of reading a buffer much larger than the caches, split over the pool.
double ReadBandwidth(ThreadPool* pool, size_t bytes) {
  const size_t n = bytes / 8;
  uint64_t* buf = static_cast<uint64_t*>(std::aligned_alloc(64, n * 8));
  for (size_t i = 0; i < n; ++i) buf[i] = i;
  std::vector<uint64_t> sink(64);
  const int parts = pool->size();
  const double t = TimeIt([&] {
    pool->Run(parts, [&](int64_t p) {
      const size_t chunk = n / parts / 16 * 16;
      sink[p * 8] += SumBytes(buf + p * chunk, chunk);
    });
  }, 1.0);
  std::free(buf);
  return static_cast<double>(bytes) / t / 1e9;
}

// ---------------------------------------------------------------------------------------------

struct Args {
  bool quick = false;
  std::string only;  // run one section: gemm, attention, encoder, decoder
  bool hot = false;  // decoder weights stay in cache (compute-bound speed, for comparison)
  int threads = 2;
  std::string isa;
};

void GemmSection(ThreadPool* pool, double peak, const Args& args) {
  std::printf("\n== Encoder GEMM: y[M x N] = x[M x K] * W^T, W stored [N][K] (GFLOP/s, %% of peak)\n");
  std::printf("%-16s %14s %14s %14s %10s\n", "M x N x K", "ours f32", "ours f16", "OpenBLAS",
              "ours/BLAS");
  struct Shape { int64_t m, n, k; };
  const Shape shapes[] = {{1500, 512, 512}, {1500, 2048, 512}, {1500, 512, 2048}, {1500, 1536, 512}};
  for (const Shape& s : shapes) {
    const std::vector<float> x = Random(s.m * s.k, 1), w = Random(s.n * s.k, 2);
    std::vector<uint16_t> wh(w.size());
    crm::kernels::F32ToF16(w.data(), wh.data(), static_cast<int64_t>(w.size()));
    std::vector<float> y(s.m * s.n);
    const double flops = 2.0 * s.m * s.n * s.k;
    const WeightView wf{w.data(), DType::kF32, s.n, s.k}, wv{wh.data(), DType::kF16, s.n, s.k};
    const double t32 = TimeIt([&] { crm::kernels::MatMulWeights(x.data(), s.m, s.k, wf, nullptr, y.data(), s.n, pool); });
    const double t16 = TimeIt([&] { crm::kernels::MatMulWeights(x.data(), s.m, s.k, wv, nullptr, y.data(), s.n, pool); });
    double tb = 0;
#ifdef CRM_BENCH_OPENBLAS
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    tb = TimeIt([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.m, s.n, s.k, 1.0f, x.data(), s.k,
                  w.data(), s.k, 0.0f, y.data(), s.n);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
#endif
    char name[64];
    std::snprintf(name, sizeof name, "%lldx%lldx%lld", (long long)s.m, (long long)s.n, (long long)s.k);
    auto cell = [&](double t) {
      static char buf[8][32];
      static int slot = 0;
      char* b = buf[slot++ % 8];
      if (t <= 0) return (const char*)"-";
      std::snprintf(b, 32, "%6.1f (%3.0f%%)", flops / t / 1e9, 100.0 * flops / t / 1e9 / peak);
      return (const char*)b;
    };
    std::printf("%-16s %14s %14s %14s %9.2fx\n", name, cell(t32), cell(t16), cell(tb),
                tb > 0 ? tb / t32 : 0.0);
  }
}

void AttentionSection(ThreadPool* pool, double peak) {
  std::printf("\n== Encoder self-attention, 8 heads x 1500 x 1500 x 64 (GFLOP/s, %% of peak)\n");
  const int64_t t = 1500, heads = 8, dh = 64, width = heads * dh;
  const std::vector<float> q = Random(t * width, 3), k = Random(t * width, 4), v = Random(t * width, 5);
  std::vector<float> out(t * width);
  const double flops = 4.0 * t * t * dh * heads;
  const float scale = 1.0f / 8.0f;
  const double ours = TimeIt([&] {
    crm::kernels::Attention(q.data(), width, k.data(), width, v.data(), width, t, t, heads, dh,
                            scale, false, out.data(), width, nullptr, pool);
  });
  std::printf("ours (fused)               %7.1f GFLOP/s (%3.0f%%)  %7.2f ms\n", flops / ours / 1e9,
              100 * flops / ours / 1e9 / peak, ours * 1e3);
#ifdef CRM_BENCH_OPENBLAS
  std::vector<float> s(t * t);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double blas = TimeIt([&] {
    for (int h = 0; h < heads; ++h) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t, t, dh, scale, q.data() + h * dh,
                  width, k.data() + h * dh, width, 0.0f, s.data(), t);
      crm::kernels::Softmax(s.data(), t, t);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t, dh, t, 1.0f, s.data(), t,
                  v.data() + h * dh, width, 0.0f, out.data() + h * dh, width);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::printf("OpenBLAS sgemm+softmax+sgemm %5.1f GFLOP/s (%3.0f%%)  %7.2f ms   ours/BLAS %.2fx\n",
              flops / blas / 1e9, 100 * flops / blas / 1e9 / peak, blas * 1e3, blas / ours);
#endif
}

// A 30 s window of the base encoder: its products and attention, per layer x 6.
void EncoderEstimate(ThreadPool* pool) {
  const int64_t t = 1500, d = 512, ff = 2048;
  const std::vector<float> x = Random(t * ff, 6);
  std::vector<float> y(t * ff), y2(t * d * 3);
  auto weights = [](int64_t n, int64_t k, uint32_t seed) {
    const std::vector<float> w = Random(n * k, seed);
    std::vector<uint16_t> h(w.size());
    crm::kernels::F32ToF16(w.data(), h.data(), static_cast<int64_t>(w.size()));
    return h;
  };
  const auto wqkv = weights(3 * d, d, 7), wo = weights(d, d, 8), w1 = weights(ff, d, 9), w2 = weights(d, ff, 10);
  const std::vector<float> bias = Random(ff * 3, 11);
  const float scale = 0.125f;
  const double layer = TimeIt([&] {
    crm::kernels::LayerNorm(y2.data(), t, d, bias.data(), bias.data(), 1e-5f, pool);
    crm::kernels::MatMulWeights(x.data(), t, d, {wqkv.data(), DType::kF16, 3 * d, d}, bias.data(), y2.data(), 3 * d, pool);
    crm::kernels::Attention(y2.data(), 3 * d, y2.data() + d, 3 * d, y2.data() + 2 * d, 3 * d, t, t, 8, 64, scale, false, y.data(), d, nullptr, pool);
    crm::kernels::MatMulWeights(y.data(), t, d, {wo.data(), DType::kF16, d, d}, bias.data(), y2.data(), d, pool);
    crm::kernels::LayerNorm(y2.data(), t, d, bias.data(), bias.data(), 1e-5f, pool);
    crm::kernels::MatMulWeights(y2.data(), t, d, {w1.data(), DType::kF16, ff, d}, bias.data(), y.data(), ff, pool);
    crm::kernels::Gelu(y.data(), t * ff, pool);
    crm::kernels::MatMulWeights(y.data(), t, ff, {w2.data(), DType::kF16, d, ff}, bias.data(), y2.data(), d, pool);
  }, 2.0);
  std::printf("\n== Base encoder layer (f16 weights, 1500 frames): %.1f ms; x6 layers = %.3f s per 30 s window\n",
              layer * 1e3, 6 * layer);
  std::printf("   (whisper.cpp base f16 on this class of machine, 2 threads: 1.07-1.24 s per window)\n");
}

// Decoder attention per layer: self-attention of 1 new row over 224 cached positions, and
// cross-attention of 1 or 5 rows (greedy, beams) over the 1500 audio positions.
void DecoderAttentionSection(ThreadPool* pool) {
  const int64_t heads = 8, dh = 64, width = heads * dh, audio = 1500;
  const std::vector<float> q = Random(5 * width, 20), k = Random(audio * width, 21), v = Random(audio * width, 22);
  std::vector<float> out(5 * width), weights(5 * heads * audio);
  std::printf("\n== Decoder attention per layer (8 heads x 64)\n");
  for (int64_t rows : {1, 5}) {
    const double t = TimeIt([&] {
      crm::kernels::Attention(q.data(), width, k.data(), width, v.data(), width, rows, audio, heads, dh, 0.125f, false, out.data(), width, nullptr, pool);
    });
    const double tw = TimeIt([&] {
      crm::kernels::Attention(q.data(), width, k.data(), width, v.data(), width, rows, audio, heads, dh, 0.125f, false, out.data(), width, weights.data(), pool);
    });
    std::printf("cross-attention %lld x 1500: %7.1f us (%7.1f us with attention weights)\n", (long long)rows, t * 1e6, tw * 1e6);
  }
  // The base decoder's 6 layers of audio keys and values (37 MB in f32) do not stay in cache:
  // stream through as many copies, f32 against f16.
  const int layers = 6;
  std::vector<float> kl(layers * audio * width), vl(layers * audio * width);
  for (size_t i = 0; i < kl.size(); ++i) kl[i] = k[i % k.size()], vl[i] = v[i % v.size()];
  std::vector<uint16_t> klh(kl.size()), vlh(vl.size());
  crm::kernels::F32ToF16(kl.data(), klh.data(), static_cast<int64_t>(kl.size()));
  crm::kernels::F32ToF16(vl.data(), vlh.data(), static_cast<int64_t>(vl.size()));
  for (int64_t rows : {1, 5}) {
    const double t32 = TimeIt([&] {
      for (int l = 0; l < layers; ++l) {
        crm::kernels::Attention(q.data(), width, kl.data() + l * audio * width, width, vl.data() + l * audio * width, width, rows, audio, heads, dh, 0.125f, false, out.data(), width, nullptr, pool);
      }
    });
    const double t16 = TimeIt([&] {
      for (int l = 0; l < layers; ++l) {
        crm::kernels::AttentionHalfKV(q.data(), width, klh.data() + l * audio * width, width, vlh.data() + l * audio * width, width, rows, audio, heads, dh, 0.125f, false, out.data(), width, nullptr, pool);
      }
    });
    std::printf("cross-attention, all 6 layers per token, %lld row(s): f32 K/V %7.1f us, f16 K/V %7.1f us\n", (long long)rows, t32 * 1e6, t16 * 1e6);
  }
  const double ts = TimeIt([&] {
    crm::kernels::Attention(q.data(), width, k.data(), width, v.data(), width, 1, 224, heads, dh, 0.125f, true, out.data(), width, nullptr, pool);
  });
  std::printf("self-attention 1 x 224 (causal): %7.1f us\n", ts * 1e6);
}

void DecoderSection(ThreadPool* pool, double bandwidth, const Args& args) {
  std::printf("\n== Decoder products, x[m x K] * W^T from memory (us per call, GB/s of weights; read bandwidth %.1f GB/s)\n",
              bandwidth);
  std::printf("%-12s %-6s %22s %22s\n", "N x K", "type", "m=1", "m=5");
  struct Shape { int64_t n, k; };
  const Shape shapes[] = {{512, 512}, {2048, 512}, {512, 2048}, {51865, 512}};
  const DType types[] = {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_0};
  double token_us[2][4] = {};  // [m][type]: a base decoder token's weight products
  for (const Shape& s : shapes) {
    // Per token, the base decoder does per layer 6 products of 512x512 (self q,k,v,o; cross q,o),
    // one 2048x512 and one 512x2048; then the 51865x512 logits.
    const double per_token = s.n == 512 && s.k == 512 ? 36 : (s.n == 51865 ? 1 : 6);
    const std::vector<float> src = Random(s.n * s.k, 12);
    for (int ti = 0; ti < 4; ++ti) {
      const DType type = types[ti];
      const int64_t row_bytes = crm::kernels::RowBytes(type, s.k);
      const size_t bytes = static_cast<size_t>(row_bytes * s.n);
      // Enough copies to defeat the 32 MB L3: every call reads from memory, as in a real token.
      const size_t copies = args.hot ? 1 : std::max<size_t>(2, (256u << 20) / bytes);
      std::vector<uint8_t> w(bytes * copies);
      for (int64_t r = 0; r < s.n; ++r) crm::kernels::QuantizeRow(src.data() + r * s.k, type, s.k, w.data() + r * row_bytes);
      for (size_t c = 1; c < copies; ++c) std::memcpy(w.data() + c * bytes, w.data(), bytes);
      char cells[2][64];
      for (int mi = 0; mi < 2; ++mi) {
        const int64_t m = mi == 0 ? 1 : 5;
        const std::vector<float> x = Random(m * s.k, 13);
        std::vector<float> y(m * s.n);
        size_t c = 0;
        const double t = TimeIt([&] {
          const WeightView view{w.data() + (c++ % copies) * bytes, type, s.n, s.k};
          crm::kernels::MatMulWeights(x.data(), m, s.k, view, nullptr, y.data(), s.n, pool);
        }, args.quick ? 0.1 : 0.3);
        std::snprintf(cells[mi], 64, "%8.1f us %6.1f GB/s", t * 1e6, bytes / t / 1e9);
        token_us[mi][ti] += per_token * t * 1e6;
      }
      char name[32];
      std::snprintf(name, sizeof name, "%lldx%lld", (long long)s.n, (long long)s.k);
      std::printf("%-12s %-6s %22s %22s\n", name, crm::kernels::DTypeName(type), cells[0], cells[1]);
    }
  }
  std::printf("Base decoder token, weight products only (6 layers + logits):\n");
  for (int ti = 0; ti < 4; ++ti) {
    std::printf("  %-5s m=1 %7.2f ms   m=5 %7.2f ms\n", crm::kernels::DTypeName(types[ti]),
                token_us[0][ti] / 1e3, token_us[1][ti] / 1e3);
  }
}

void PoolSection(ThreadPool* pool) {
  std::vector<int> sink(64);
  const double t = TimeIt([&] {
    for (int i = 0; i < 1000; ++i) pool->Run(pool->size(), [&](int64_t j) { sink[j * 16]++; });
  });
  std::printf("\n== ThreadPool: %.2f us per Run of %d trivial tasks\n", t / 1000 * 1e6, pool->size());
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") args.quick = true;
    else if (a == "--isa" && i + 1 < argc) args.isa = argv[++i];
    else if (a == "--threads" && i + 1 < argc) args.threads = std::atoi(argv[++i]);
    else if (a == "--only" && i + 1 < argc) args.only = argv[++i];
    else if (a == "--hot") args.hot = true;
    else {
      std::fprintf(stderr, "usage: kernels_bench [--quick] [--isa generic|avx2|avx512] [--threads N]"
                           " [--only gemm|attention|encoder|decoder] [--hot]\n");
      return 2;
    }
  }
  if (!args.isa.empty()) {
    bool ok = false;
    for (auto isa : {crm::kernels::Isa::kGeneric, crm::kernels::Isa::kAvx2, crm::kernels::Isa::kAvx512}) {
      if (args.isa == crm::kernels::IsaName(isa)) ok = crm::kernels::SetIsaForTesting(isa);
    }
    if (!ok) {
      std::fprintf(stderr, "kernels_bench: instruction set '%s' is not available here\n", args.isa.c_str());
      return 2;
    }
  }
  g_thread_cpu_time = args.threads == 1;
#ifdef CRM_BENCH_OPENBLAS
  openblas_set_num_threads(args.threads);
#endif
  ThreadPool pool(args.threads);
  std::printf("CPU features: %s; %d threads\n", crm::kernels::CpuFeatures().c_str(), args.threads);
  const bool avx512 = __builtin_cpu_supports("avx512f");
  double peak1 = 0, peak = 0;
  for (int rep = 0; rep < 5; ++rep) {
    peak1 = std::max(peak1, FmaPeak(1, avx512));
    peak = std::max(peak, FmaPeak(args.threads, avx512));
  }
  std::printf("FMA peak (%s loop): %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d threads\n",
              avx512 ? "AVX-512" : "AVX2", peak1, peak, args.threads);
  const double bw = ReadBandwidth(&pool, args.quick ? (256u << 20) : (1024u << 20));
  std::printf("Memory read bandwidth (%d threads): %.1f GB/s\n", args.threads, bw);
  auto want = [&](const char* name) { return args.only.empty() || args.only == name; };
  if (want("pool")) PoolSection(&pool);
  if (want("gemm")) GemmSection(&pool, peak, args);
  if (want("attention")) AttentionSection(&pool, peak);
  if (want("encoder")) EncoderEstimate(&pool);
  if (want("decoder")) DecoderAttentionSection(&pool);
  if (want("decoder")) DecoderSection(&pool, bw, args);
  return 0;
}
