// Every kernel against a plain double-precision reference, on every instruction-set path this
// CPU offers (each test runs once per path).
#include "kernels/kernels.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <vector>

#include "kernels/test_util.h"

namespace crm::kernels {
namespace {

using namespace crm::kernels::testing;

// ---------------------------------------------------------------------------------------------
// ThreadPool

TEST(ThreadPoolTest, RunsEveryIndexExactlyOnceAcrossManyJobs) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 5, 64, 1000}) {
      for (int rep = 0; rep < 200; ++rep) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.Run(n, [&](int64_t i) { hits[static_cast<size_t>(i)].fetch_add(1); });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1);
      }
    }
  }
}

TEST(ThreadPoolTest, UsesTheWorkersAndWakesThemAfterSleeping) {
  ThreadPool pool(2);
  std::atomic<int> other_thread{0};
  const auto caller = std::this_thread::get_id();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // workers go to sleep
  pool.Run(64, [&](int64_t) {
    if (std::this_thread::get_id() != caller) other_thread.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  });
  EXPECT_GT(other_thread.load(), 0);
}

// ---------------------------------------------------------------------------------------------
// Element types

TEST(DTypeTest, SizesFollowTheGgmlFormat) {
  EXPECT_EQ(BlockBytes(DType::kQ8_0), 34);
  EXPECT_EQ(BlockBytes(DType::kQ4_0), 18);
  EXPECT_EQ(BlockBytes(DType::kQ4_1), 20);
  EXPECT_EQ(BlockBytes(DType::kQ5_0), 22);
  EXPECT_EQ(BlockBytes(DType::kQ5_1), 24);
  EXPECT_EQ(RowBytes(DType::kF16, 3), 6);
  EXPECT_EQ(RowBytes(DType::kQ8_0, 64), 68);
  EXPECT_EQ(BlockElements(DType::kQ5_1), 32);
  EXPECT_EQ(BlockElements(DType::kF32), 1);
  EXPECT_STREQ(DTypeName(DType::kQ5_0), "q5_0");
  EXPECT_TRUE(IsSupported(DType::kQ4_1));
  EXPECT_FALSE(IsSupported(static_cast<DType>(4)));
}

TEST_P(KernelsTest, HalfConversionIsExactAndRoundsToNearestEven) {
  std::vector<uint16_t> all(65536);
  for (int i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> f(65536);
  F16ToF32(all.data(), f.data(), 65536);
  EXPECT_EQ(f[0x3c00], 1.0f);
  EXPECT_EQ(f[0xc000], -2.0f);
  EXPECT_EQ(f[0x7bff], 65504.0f);
  EXPECT_EQ(f[0x0001], std::ldexp(1.0f, -24));
  EXPECT_EQ(f[0x0400], std::ldexp(1.0f, -14));
  EXPECT_TRUE(std::isinf(f[0x7c00]) && f[0x7c00] > 0);
  EXPECT_TRUE(std::isnan(f[0x7e00]));
  std::vector<uint16_t> back(65536);
  F32ToF16(f.data(), back.data(), 65536);
  for (int i = 0; i < 65536; ++i) {
    if (std::isnan(f[i])) {
      ASSERT_TRUE((back[i] & 0x7c00) == 0x7c00 && (back[i] & 0x3ff) != 0) << i;
    } else {
      ASSERT_EQ(back[i], all[i]) << i;
    }
  }
  // Midpoints between neighbours round to the even one; just above or below, to the nearest.
  std::vector<float> mids, above, below;
  for (uint32_t h = 0; h < 0x7bff; ++h) {
    const float m = static_cast<float>((static_cast<double>(f[h]) + f[h + 1]) / 2);
    mids.push_back(m);
    above.push_back(std::nextafter(m, 1e9f));
    below.push_back(std::nextafter(m, -1e9f));
  }
  std::vector<uint16_t> hm(mids.size()), ha(mids.size()), hb(mids.size());
  F32ToF16(mids.data(), hm.data(), static_cast<int64_t>(mids.size()));
  F32ToF16(above.data(), ha.data(), static_cast<int64_t>(mids.size()));
  F32ToF16(below.data(), hb.data(), static_cast<int64_t>(mids.size()));
  for (uint32_t h = 0; h < 0x7bff; ++h) {
    ASSERT_EQ(hm[h], (h & 1) ? h + 1 : h) << h;
    ASSERT_EQ(ha[h], h + 1) << h;
    ASSERT_EQ(hb[h], h) << h;
  }
  const float big[] = {65520.0f, 1e6f, -70000.0f};
  uint16_t hbig[3];
  F32ToF16(big, hbig, 3);
  EXPECT_EQ(hbig[0], 0x7c00);
  EXPECT_EQ(hbig[1], 0x7c00);
  EXPECT_EQ(hbig[2], 0xfc00);
}

// Blocks written by hand from the format description decode to the expected values.
TEST_P(KernelsTest, DequantizesHandBuiltBlocksOfEveryType) {
  const uint16_t half_two = 0x4000, half_half = 0x3800, half_minus_three = 0xc200;
  float out[32];
  {  // q8_0: d = 2, q = j - 16
    uint8_t b[34];
    std::memcpy(b, &half_two, 2);
    for (int j = 0; j < 32; ++j) b[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
    DequantizeRow(b, DType::kQ8_0, 32, out);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 2.0f * (j - 16)) << j;
  }
  // Nibble values: element j (< 16) = j, element j + 16 = 15 - j.
  uint8_t nib[16];
  for (int j = 0; j < 16; ++j) nib[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  auto q4 = [](int j) { return j < 16 ? j : 15 - (j - 16); };
  {  // q4_0: d = 0.5, x = d * (q - 8)
    uint8_t b[18];
    std::memcpy(b, &half_half, 2);
    std::memcpy(b + 2, nib, 16);
    DequantizeRow(b, DType::kQ4_0, 32, out);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 0.5f * (q4(j) - 8)) << j;
  }
  {  // q4_1: d = 2, m = -3, x = d * q + m
    uint8_t b[20];
    std::memcpy(b, &half_two, 2);
    std::memcpy(b + 2, &half_minus_three, 2);
    std::memcpy(b + 4, nib, 16);
    DequantizeRow(b, DType::kQ4_1, 32, out);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 2.0f * q4(j) - 3.0f) << j;
  }
  // Fifth bits: set for elements 1, 17 and 31.
  const uint32_t qh = (1u << 1) | (1u << 17) | (1u << 31);
  auto q5 = [&](int j) { return q4(j) | (((qh >> j) & 1) ? 16 : 0); };
  {  // q5_0: d = 0.5, x = d * (q - 16)
    uint8_t b[22];
    std::memcpy(b, &half_half, 2);
    std::memcpy(b + 2, &qh, 4);
    std::memcpy(b + 6, nib, 16);
    DequantizeRow(b, DType::kQ5_0, 32, out);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 0.5f * (q5(j) - 16)) << j;
  }
  {  // q5_1: d = 2, m = -3
    uint8_t b[24];
    std::memcpy(b, &half_two, 2);
    std::memcpy(b + 2, &half_minus_three, 2);
    std::memcpy(b + 4, &qh, 4);
    std::memcpy(b + 8, nib, 16);
    DequantizeRow(b, DType::kQ5_1, 32, out);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 2.0f * q5(j) - 3.0f) << j;
  }
}

// ggml's reference rounding on a block whose result is known: x = j - 16 gives q4_0 scale
// d = -16 / -8 = 2 and q = trunc(x / 2 + 8.5).
TEST(QuantizeTest, Q4_0MatchesGgmlReferenceRounding) {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  uint8_t b[18];
  QuantizeRow(x, DType::kQ4_0, 32, b);
  uint16_t d;
  std::memcpy(&d, b, 2);
  EXPECT_EQ(d, 0x4000);  // 2.0
  for (int j = 0; j < 16; ++j) {
    const int lo = std::min(15, static_cast<int>(x[j] / 2 + 8.5f));
    const int hi = std::min(15, static_cast<int>(x[j + 16] / 2 + 8.5f));
    EXPECT_EQ(b[2 + j], lo | (hi << 4)) << j;
  }
}

TEST_P(KernelsTest, EveryTypeRoundTripsWithinItsStep) {
  const int64_t cols = 32 * 9;
  for (DType type : kAllTypes) {
    std::vector<float> x = Random(cols, 7, -3.0f, 2.0f);
    x[5] = 0.0f;
    std::fill(x.begin() + 64, x.begin() + 96, 0.0f);  // an all-zero block
    std::vector<uint8_t> q(static_cast<size_t>(RowBytes(type, cols)));
    std::vector<float> y(cols);
    QuantizeRow(x.data(), type, cols, q.data());
    DequantizeRow(q.data(), type, cols, y.data());
    for (int64_t b = 0; b < cols / 32; ++b) {
      float lo = x[b * 32], hi = x[b * 32], amax = 0;
      for (int j = 0; j < 32; ++j) {
        lo = std::min(lo, x[b * 32 + j]);
        hi = std::max(hi, x[b * 32 + j]);
        amax = std::max(amax, std::fabs(x[b * 32 + j]));
      }
      float step = 0;
      switch (type) {
        case DType::kF32: step = 0; break;
        case DType::kF16: step = amax * 1e-3f; break;
        case DType::kQ8_0: step = amax / 127 * 0.6f; break;
        case DType::kQ4_0: step = amax / 8; break;
        case DType::kQ5_0: step = amax / 16; break;
        case DType::kQ4_1: step = (hi - lo) / 15 * 0.5f; break;
        case DType::kQ5_1: step = (hi - lo) / 31 * 0.5f; break;
      }
      const float tol = step * 1.01f + 2e-3f * amax;
      for (int j = 0; j < 32; ++j) {
        ASSERT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), tol)
            << DTypeName(type) << " block " << b << " element " << j;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Products

// x as the integer path sees it: per row and block of 32, d = max|x| / 127 and
// q = nearest-even(x * (1 / d)), given back as d * q (exact in double).
std::vector<float> QuantizedX(const std::vector<float>& x, int64_t m, int64_t ldx, int64_t k,
                              std::vector<int>* q_out = nullptr, std::vector<float>* d_out = nullptr) {
  std::vector<float> out = x;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t b = 0; b < k / 32; ++b) {
      const float* xb = &x[i * ldx + b * 32];
      float amax = 0.0f;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j]));
      const float d = amax / 127.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      if (d_out) d_out->push_back(d);
      for (int j = 0; j < 32; ++j) {
        const int q = static_cast<int>(std::nearbyint(xb[j] * id));
        EXPECT_LE(std::abs(q), 127);
        if (q_out) q_out->push_back(q);
        out[i * ldx + b * 32 + j] = static_cast<float>(static_cast<double>(d) * q);
      }
    }
  }
  return out;
}

TEST_P(KernelsTest, MatMulWeightsMatchesReferenceForEveryTypeAndShape) {
  struct Shape { int64_t n, k; };
  const Shape shapes[] = {{1, 32}, {7, 64}, {37, 96}, {100, 288}, {19, 544}};
  const Shape odd_shapes[] = {{3, 1}, {5, 17}, {40, 301}};
  ThreadPool pool(3);
  uint32_t seed = 1;
  for (DType type : kAllTypes) {
    std::vector<Shape> all(std::begin(shapes), std::end(shapes));
    if (type == DType::kF32 || type == DType::kF16) all.insert(all.end(), std::begin(odd_shapes), std::end(odd_shapes));
    for (const Shape& s : all) {
      const Weights w = MakeWeights(type, s.n, s.k, seed++);
      const std::vector<float> bias = Random(s.n, seed++);
      // 1..8 rows take the streaming path, more the packed GEMM (150: several row blocks).
      std::vector<int64_t> ms = {1, 2, 3, 5, 8, 9, 33};
      if (type == DType::kF32 || type == DType::kF16) ms.push_back(150);
      for (int64_t m : ms) {
        for (int variant = 0; variant < 2; ++variant) {
          const bool with_bias = variant == 0;
          ThreadPool* p = variant == 0 ? &pool : nullptr;
          const int64_t ldx = s.k + (variant ? 3 : 0), ldy = s.n + (variant ? 5 : 0);
          const std::vector<float> x = Random(static_cast<size_t>(m * ldx), seed++);
          std::vector<float> y(static_cast<size_t>(m * ldy), 12345.0f);
          MatMulWeights(x.data(), m, ldx, w.view, with_bias ? bias.data() : nullptr, y.data(), ldy, p);
          // The integer path multiplies x as quantized to q8_0 blocks (checked on its own below).
          const bool int8 = type == DType::kQ8_0 && m > 8 && Int8ProductsAvailable();
          const std::vector<float> xr = int8 ? QuantizedX(x, m, ldx, s.k) : x;
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t r = 0; r < s.n; ++r) {
              double want = with_bias ? bias[r] : 0.0, scale = std::fabs(want);
              for (int64_t c = 0; c < s.k; ++c) {
                const double t = static_cast<double>(xr[i * ldx + c]) * w.values[r * s.k + c];
                want += t;
                scale += std::fabs(t);
              }
              ExpectNear(y[i * ldy + r], want, scale, 1e-5,
                         std::string(DTypeName(type)) + " m=" + std::to_string(m) + " n=" +
                             std::to_string(s.n) + " k=" + std::to_string(s.k));
            }
            for (int64_t r = s.n; r < ldy; ++r) ASSERT_EQ(y[i * ldy + r], 12345.0f);
          }
        }
      }
    }
  }
}

TEST_P(KernelsTest, SgemmMatchesReferenceForAllTransposesAndScalings) {
  struct Shape { int64_t m, n, k; };
  const Shape shapes[] = {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {31, 101, 257}, {130, 70, 300}};
  ThreadPool pool(2);
  uint32_t seed = 100;
  for (const Shape& s : shapes) {
    for (int trans = 0; trans < 4; ++trans) {
      const bool ta = trans & 1, tb = trans & 2;
      for (float beta : {0.0f, 1.0f, -0.7f}) {
        const float alpha = beta == 1.0f ? 0.5f : 1.0f;
        const int64_t lda = (ta ? s.m : s.k) + 2, ldb = (tb ? s.k : s.n) + 1, ldc = s.n + 3;
        const std::vector<float> a = Random(static_cast<size_t>((ta ? s.k : s.m) * lda), seed++);
        const std::vector<float> b = Random(static_cast<size_t>((tb ? s.n : s.k) * ldb), seed++);
        std::vector<float> c = Random(static_cast<size_t>(s.m * ldc), seed++);
        if (beta == 0.0f) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());
        const std::vector<float> c0 = c;
        Sgemm(ta, tb, s.m, s.n, s.k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc,
              seed % 2 ? &pool : nullptr);
        for (int64_t i = 0; i < s.m; ++i) {
          for (int64_t j = 0; j < s.n; ++j) {
            double want = 0, scale = 0;
            for (int64_t p = 0; p < s.k; ++p) {
              const double t = static_cast<double>(ta ? a[p * lda + i] : a[i * lda + p]) *
                                (tb ? b[j * ldb + p] : b[p * ldb + j]);
              want += t;
              scale += std::fabs(t);
            }
            want = alpha * want + (beta == 0.0f ? 0.0 : beta * c0[i * ldc + j]);
            scale = std::fabs(alpha) * scale + std::fabs(want);
            ExpectNear(c[i * ldc + j], want, scale, 1e-5,
                       "trans=" + std::to_string(trans) + " m=" + std::to_string(s.m));
          }
          for (int64_t j = s.n; j < ldc; ++j) {
            if (beta != 0.0f) {
              ASSERT_EQ(c[i * ldc + j], c0[i * ldc + j]);
            }
          }
        }
      }
    }
  }
}

// Products wider than one packed block of B (the 51865-token vocabulary) are cut into column
// blocks; every column must still be right.
TEST_P(KernelsTest, WideProductsMatchReference) {
  const int64_t m = 20, n = 4096 + 4096 + 37, k = 64;
  ThreadPool pool(2);
  const Weights w = MakeWeights(DType::kF16, n, k, 77);
  const std::vector<float> x = Random(static_cast<size_t>(m * k), 78);
  std::vector<float> y(static_cast<size_t>(m * n)), c(static_cast<size_t>(m * n));
  MatMulWeights(x.data(), m, k, w.view, nullptr, y.data(), n, &pool);
  Sgemm(false, true, m, n, k, 1.0f, x.data(), k, w.values.data(), k, 0.0f, c.data(), n, &pool);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t r = 0; r < n; ++r) {
      double want = 0, scale = 0;
      for (int64_t p = 0; p < k; ++p) {
        const double t = static_cast<double>(x[i * k + p]) * w.values[r * k + p];
        want += t;
        scale += std::fabs(t);
      }
      ExpectNear(y[i * n + r], want, scale, 1e-5, "MatMulWeights column " + std::to_string(r));
      ExpectNear(c[i * n + r], want, scale, 1e-5, "Sgemm column " + std::to_string(r));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Element-wise

TEST_P(KernelsTest, LayerNormMatchesReference) {
  ThreadPool pool(2);
  for (int64_t cols : {1, 5, 64, 384, 515}) {
    const int64_t rows = 37;
    std::vector<float> x = Random(static_cast<size_t>(rows * cols), 3, -4.0f, 6.0f);
    const std::vector<float> g = Random(cols, 4), b = Random(cols, 5);
    const std::vector<float> x0 = x;
    LayerNorm(x.data(), rows, cols, g.data(), b.data(), 1e-5f, cols > 100 ? &pool : nullptr);
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t c = 0; c < cols; ++c) mean += x0[r * cols + c];
      mean /= cols;
      for (int64_t c = 0; c < cols; ++c) var += (x0[r * cols + c] - mean) * (x0[r * cols + c] - mean);
      var /= cols;
      for (int64_t c = 0; c < cols; ++c) {
        const double want = (x0[r * cols + c] - mean) / std::sqrt(var + 1e-5) * g[c] + b[c];
        ExpectNear(x[r * cols + c], want, 1.0 + std::fabs(want), 2e-5, "cols=" + std::to_string(cols));
      }
    }
  }
}

TEST_P(KernelsTest, GeluIsTheErfForm) {
  std::vector<float> x = Random(1003, 9, -12.0f, 12.0f);
  x[0] = 0.0f;
  x[1] = -30.0f;
  x[2] = 30.0f;
  const std::vector<float> x0 = x;
  Gelu(x.data(), static_cast<int64_t>(x.size()));
  std::vector<float> big = Random(100003, 10, -6.0f, 6.0f);
  const std::vector<float> big0 = big;
  ThreadPool pool(2);
  Gelu(big.data(), static_cast<int64_t>(big.size()), &pool);
  for (size_t i = 0; i < big.size(); i += 7) {
    const double v = big0[i];
    const double want = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    ExpectNear(big[i], want, 1.0 + std::fabs(want), 2e-6, "pool x=" + std::to_string(v));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x0[i];
    const double want = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    ExpectNear(x[i], want, 1.0 + std::fabs(want), 2e-6, "x=" + std::to_string(v));
  }
}

TEST_P(KernelsTest, SoftmaxIsStableAndNormalised) {
  for (int64_t cols : {1, 3, 16, 17, 100, 1500}) {
    const int64_t rows = 4;
    std::vector<float> x = Random(static_cast<size_t>(rows * cols), 11, -20.0f, 20.0f);
    for (int64_t c = 0; c < cols; ++c) x[cols + c] += 1000.0f;  // large values must not overflow
    x[0] = -std::numeric_limits<float>::infinity();
    if (cols == 1) x[0] = 3.0f;
    const std::vector<float> x0 = x;
    Softmax(x.data(), rows, cols);
    for (int64_t r = 0; r < rows; ++r) {
      double mx = -1e300, sum = 0;
      for (int64_t c = 0; c < cols; ++c) mx = std::max<double>(mx, x0[r * cols + c]);
      for (int64_t c = 0; c < cols; ++c) sum += std::exp(x0[r * cols + c] - mx);
      for (int64_t c = 0; c < cols; ++c) {
        const double want = std::exp(x0[r * cols + c] - mx) / sum;
        ExpectNear(x[r * cols + c], want, 1.0, 2e-6, "cols=" + std::to_string(cols));
      }
    }
  }
}

TEST_P(KernelsTest, AddIsElementWise) {
  std::vector<float> a = Random(37, 1), b = Random(37, 2);
  const std::vector<float> a0 = a;
  Add(a.data(), b.data(), 37);
  for (int i = 0; i < 37; ++i) EXPECT_EQ(a[i], a0[i] + b[i]);
}

// ---------------------------------------------------------------------------------------------
// Attention

void CheckAttention(int64_t tq, int64_t tk, int heads, int dh, bool causal, bool weights,
                    ThreadPool* pool, uint32_t seed) {
  const int64_t width = static_cast<int64_t>(heads) * dh;
  const int64_t ldq = width + 1, ldk = width + 3, ldv = width + 2, ldo = width + 5;
  const std::vector<float> q = Random(static_cast<size_t>(tq * ldq), seed, -2, 2);
  const std::vector<float> k = Random(static_cast<size_t>(tk * ldk), seed + 1, -2, 2);
  const std::vector<float> v = Random(static_cast<size_t>(tk * ldv), seed + 2);
  std::vector<float> out(static_cast<size_t>(tq * ldo), 777.0f);
  std::vector<float> w(weights ? static_cast<size_t>(heads * tq * tk) : 0, 555.0f);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  Attention(q.data(), ldq, k.data(), ldk, v.data(), ldv, tq, tk, heads, dh, scale, causal,
            out.data(), ldo, weights ? w.data() : nullptr, pool);
  const std::string where = "tq=" + std::to_string(tq) + " tk=" + std::to_string(tk) +
                            " heads=" + std::to_string(heads) + " dh=" + std::to_string(dh) +
                            (causal ? " causal" : "") + (weights ? " weights" : "");
  std::vector<double> p(static_cast<size_t>(tk));
  for (int h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < tq; ++i) {
      const int64_t visible = causal ? std::clamp<int64_t>(i + tk - tq + 1, 0, tk) : tk;
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < visible; ++j) {
        double d = 0;
        for (int c = 0; c < dh; ++c) d += static_cast<double>(q[i * ldq + h * dh + c]) * k[j * ldk + h * dh + c];
        p[j] = d * scale;
        mx = std::max(mx, p[j]);
      }
      for (int64_t j = 0; j < visible; ++j) sum += (p[j] = std::exp(p[j] - mx));
      for (int64_t j = 0; j < tk; ++j) {
        const double pj = j < visible ? p[j] / sum : 0.0;
        if (weights) ExpectNear(w[(h * tq + i) * tk + j], pj, 1.0, 2e-6, where);
      }
      for (int c = 0; c < dh; ++c) {
        double want = 0;
        for (int64_t j = 0; j < visible; ++j) want += p[j] / sum * v[j * ldv + h * dh + c];
        ExpectNear(out[i * ldo + h * dh + c], want, 1.0, 1e-5, where);
      }
    }
  }
  for (int64_t i = 0; i < tq; ++i) {
    for (int64_t c = width; c < ldo; ++c) ASSERT_EQ(out[i * ldo + c], 777.0f) << where;
  }
}

TEST_P(KernelsTest, AttentionMatchesReference) {
  ThreadPool pool(2);
  struct Case { int64_t tq, tk; int heads, dh; };
  const Case cases[] = {{1, 1, 1, 64},   {1, 37, 2, 64},  {5, 5, 3, 24},   {7, 19, 2, 5},
                        {70, 70, 2, 64}, {33, 150, 1, 64}, {150, 33, 2, 64}, {129, 257, 2, 64},
                        // decoder shapes: beams against the audio keys, few rows of any count
                        {5, 300, 8, 64}, {13, 100, 2, 64}, {3, 77, 2, 64}};
  uint32_t seed = 500;
  for (const Case& c : cases) {
    for (int mode = 0; mode < 4; ++mode) {
      CheckAttention(c.tq, c.tk, c.heads, c.dh, mode & 1, mode & 2, mode == 1 ? nullptr : &pool,
                     seed);
      seed += 3;
    }
  }
}

// f16 keys and values give what f32 keys and values holding the same numbers give.
TEST_P(KernelsTest, AttentionWithHalfKeysAndValuesMatchesF32) {
  ThreadPool pool(2);
  struct Case { int64_t tq, tk; int heads, dh; bool causal, weights; };
  const Case cases[] = {{1, 300, 8, 64, false, true}, {5, 300, 8, 64, false, false},
                        {5, 37, 2, 24, true, true},   {33, 70, 2, 64, false, true},
                        {40, 40, 3, 64, true, false}};
  uint32_t seed = 900;
  for (const Case& c : cases) {
    const int64_t width = static_cast<int64_t>(c.heads) * c.dh, ld = width + 3;
    const std::vector<float> q = Random(static_cast<size_t>(c.tq * width), seed++, -2, 2);
    std::vector<float> k = Random(static_cast<size_t>(c.tk * ld), seed++, -2, 2);
    std::vector<float> v = Random(static_cast<size_t>(c.tk * ld), seed++);
    std::vector<uint16_t> kh(k.size()), vh(v.size());
    F32ToF16(k.data(), kh.data(), static_cast<int64_t>(k.size()));
    F32ToF16(v.data(), vh.data(), static_cast<int64_t>(v.size()));
    F16ToF32(kh.data(), k.data(), static_cast<int64_t>(k.size()));
    F16ToF32(vh.data(), v.data(), static_cast<int64_t>(v.size()));
    const size_t nw = c.weights ? static_cast<size_t>(c.heads * c.tq * c.tk) : 0;
    std::vector<float> out(static_cast<size_t>(c.tq * width)), out_h(out.size()), w(nw), w_h(nw);
    Attention(q.data(), width, k.data(), ld, v.data(), ld, c.tq, c.tk, c.heads, c.dh, 0.125f,
              c.causal, out.data(), width, c.weights ? w.data() : nullptr, &pool);
    AttentionHalfKV(q.data(), width, kh.data(), ld, vh.data(), ld, c.tq, c.tk, c.heads, c.dh,
                    0.125f, c.causal, out_h.data(), width, c.weights ? w_h.data() : nullptr,
                    &pool);
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out_h[i], out[i], 1e-5) << "tq=" << c.tq;
    for (size_t i = 0; i < nw; ++i) ASSERT_NEAR(w_h[i], w[i], 1e-6) << "tq=" << c.tq;
  }
}

// ---------------------------------------------------------------------------------------------
// The paths agree with one another on the same inputs.

TEST(DispatchTest, PathsAgreeOnTheSameInputs) {
  const std::vector<Isa> isas = AvailableIsas();
  const Isa best = isas.back();
  ASSERT_EQ(ActiveIsa(), best);
  EXPECT_FALSE(CpuFeatures().empty());
  SetInt8ProductsForTesting(false);  // f32 products on every path; the integer one is below
  ThreadPool pool(2);
  const int64_t m = 45, n = 70, k = 320;
  for (DType type : kAllTypes) {
    const Weights w = MakeWeights(type, n, k, 42);
    const std::vector<float> x = Random(static_cast<size_t>(m * k), 43);
    std::vector<std::vector<float>> results;
    for (Isa isa : isas) {
      ASSERT_TRUE(SetIsaForTesting(isa));
      for (int64_t rows : {int64_t{3}, m}) {
        std::vector<float> y(static_cast<size_t>(rows * n));
        MatMulWeights(x.data(), rows, k, w.view, nullptr, y.data(), n, &pool);
        results.push_back(y);
      }
    }
    for (size_t r = 2; r < results.size(); ++r) {
      for (size_t i = 0; i < results[r].size(); ++i) {
        ASSERT_NEAR(results[r][i], results[r % 2][i], 1e-4) << DTypeName(type);
      }
    }
  }
  SetIsaForTesting(best);
}

bool CpuInfoHas(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    return (line + " ").find(" " + flag + " ") != std::string::npos;
  }
  return false;
}

// The integer path is chosen only on the AVX-512 path of a CPU with VNNI.
TEST(Int8ProductsTest, OnlyWhereTheCpuHasVnni) {
  SetInt8ProductsForTesting(true);  // off by default; turned on, only a VNNI CPU takes it
  const Isa best = AvailableIsas().back();
  EXPECT_EQ(Int8ProductsAvailable(), best == Isa::kAvx512 && CpuInfoHas("avx512_vnni"));
  for (Isa isa : AvailableIsas()) {
    ASSERT_TRUE(SetIsaForTesting(isa));
    if (isa != Isa::kAvx512) EXPECT_FALSE(Int8ProductsAvailable()) << IsaName(isa);
  }
  SetIsaForTesting(best);
  if (Int8ProductsAvailable()) {
    EXPECT_FALSE(SetInt8ProductsForTesting(false));
    EXPECT_TRUE(SetInt8ProductsForTesting(true));
    EXPECT_NE(CpuFeatures().find("int8"), std::string::npos);
  }
  SetInt8ProductsForTesting(false);
}

// Exactness of the integer path: against sum over blocks of d_x * d_w * (exact integer dot),
// in double, with x quantized as specified (QuantizedX). Odd row and column counts (tails of the
// 4 x 32 tile), leading dimensions, bias, accumulation into y, blocks of zeros and of large
// values, and encoder-sized depths.
TEST(Int8ProductsTest, ExactAgainstTheBlockDefinition) {
  if (!SetInt8ProductsForTesting(true)) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  struct Off {
    ~Off() { SetInt8ProductsForTesting(false); }
  } off;
  ThreadPool pool(3);
  struct Shape { int64_t m, n, k; };
  const Shape shapes[] = {{9, 1, 32},    {13, 31, 96},  {33, 33, 64},  {150, 100, 544},
                          {301, 64, 2048}, {10, 45, 320}, {1500, 40, 128}};
  uint32_t seed = 100;
  for (const Shape& s : shapes) {
    const Weights w = MakeWeights(DType::kQ8_0, s.n, s.k, seed++);
    const std::vector<float> bias = Random(s.n, seed++);
    for (int variant = 0; variant < 3; ++variant) {
      const int64_t ldx = s.k + (variant == 1 ? 7 : 0), ldy = s.n + (variant == 1 ? 3 : 0);
      std::vector<float> x = Random(static_cast<size_t>(s.m * ldx), seed++, -4.0f, 4.0f);
      for (int64_t j = 0; j < 32; ++j) x[j] = 0.0f;  // a block of zeros: scale 0
      if (s.k >= 64) {
        for (int64_t j = 32; j < 64; ++j) x[ldx + j] *= 1e4f;  // and one of large values
      }
      std::vector<int> q;
      std::vector<float> d;
      QuantizedX(x, s.m, ldx, s.k, &q, &d);
      std::vector<float> y0 = Random(static_cast<size_t>(s.m * ldy), seed++);
      std::vector<float> y = y0;
      WeightProduct p;
      p.w = w.view;
      p.y = y.data();
      p.ldy = ldy;
      p.bias = variant == 0 ? bias.data() : nullptr;
      p.accumulate = variant == 2;
      MatMulWeightsBatch(x.data(), s.m, ldx, &p, 1, variant == 1 ? nullptr : &pool);
      const int64_t blocks = s.k / 32, rb = RowBytes(DType::kQ8_0, s.k);
      for (int64_t i = 0; i < s.m; ++i) {
        for (int64_t r = 0; r < s.n; ++r) {
          double want = p.accumulate ? y0[i * ldy + r] : 0.0;
          if (p.bias) want += bias[r];
          double scale = std::fabs(want);
          for (int64_t b = 0; b < blocks; ++b) {
            const uint8_t* blk = w.bytes.data() + r * rb + b * 34;
            uint16_t h;
            std::memcpy(&h, blk, 2);
            float dw;
            F16ToF32(&h, &dw, 1);
            const auto* wq = reinterpret_cast<const int8_t*>(blk + 2);
            int64_t dot = 0, mag = 0;
            for (int j = 0; j < 32; ++j) {
              dot += static_cast<int64_t>(q[(i * blocks + b) * 32 + j]) * wq[j];
              mag += std::abs(static_cast<int64_t>(q[(i * blocks + b) * 32 + j]) * wq[j]);
            }
            const double f = static_cast<double>(d[i * blocks + b]) * dw;
            want += f * static_cast<double>(dot);
            scale += std::fabs(f) * static_cast<double>(mag);
          }
          ExpectNear(y[i * ldy + r], want, scale, 2e-6,
                     "m=" + std::to_string(s.m) + " n=" + std::to_string(s.n) +
                         " k=" + std::to_string(s.k) + " variant " + std::to_string(variant) +
                         " at " + std::to_string(i) + "," + std::to_string(r));
        }
        for (int64_t r = s.n; r < ldy; ++r) ASSERT_EQ(y[i * ldy + r], y0[i * ldy + r]);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, KernelsTest, ::testing::ValuesIn(AvailableIsas()), IsaParamName);

}  // namespace
}  // namespace crm::kernels
