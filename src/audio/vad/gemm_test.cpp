#include "audio/vad/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace crm::audio::vad {
namespace {

std::vector<float> Pseudo(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / 16777216.f - 0.5f;
  }
  return v;
}

// Shapes of the network's layers, with row counts that exercise the 4-row blocks and the
// remainder, and widths that exercise the 32/16-column blocks and the 8-column tail.
struct Shape {
  int64_t m, k, n;
};
const Shape kShapes[] = {{7, 256, 272}, {9, 387, 128}, {3, 192, 64}, {5, 128, 512}, {6, 40, 24}};

TEST(Gemm, EveryPathComputesTheSameProduct) {
  for (const auto& s : kShapes) {
    const auto x = Pseudo(s.m * s.k, 1), w = Pseudo(s.k * s.n, 2), b = Pseudo(s.n, 3);
    std::vector<float> want(s.m * s.n);
    // Double-precision reference.
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j) {
        double acc = b[j];
        for (int64_t k = 0; k < s.k; ++k) acc += double{x[i * s.k + k]} * w[k * s.n + j];
        want[i * s.n + j] = static_cast<float>(acc);
      }
    std::vector<float> vector_result;
    for (auto isa : {GemmIsa::kGeneric, GemmIsa::kAvx2, GemmIsa::kAvx512}) {
      std::vector<float> y(s.m * s.n, -1.f);
      if (!GemmBiasOn(isa, x.data(), s.m, s.k, w.data(), s.k, s.n, b.data(), s.n, y.data(), s.n))
        continue;
      for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], want[i], 1e-4f) << i;
      // The vector paths accumulate in the same order: bit-identical.
      if (isa != GemmIsa::kGeneric) {
        if (vector_result.empty())
          vector_result = y;
        else
          EXPECT_EQ(y, vector_result);
      }
    }
  }
}

TEST(Gemm, RecurrentProductAccumulatesOnEveryPath) {
  const int64_t k = 128, n = 512;
  const auto x = Pseudo(k, 4), w = Pseudo(k * n, 5), y0 = Pseudo(n, 6);
  for (auto isa : {GemmIsa::kGeneric, GemmIsa::kAvx2, GemmIsa::kAvx512}) {
    std::vector<float> y = y0;
    if (!GemvAccumulateOn(isa, x.data(), k, w.data(), n, n, y.data())) continue;
    for (int64_t j = 0; j < n; ++j) {
      double acc = y0[j];
      for (int64_t i = 0; i < k; ++i) acc += double{x[i]} * w[i * n + j];
      ASSERT_NEAR(y[j], acc, 1e-4) << j;
    }
  }
}

TEST(Gemm, ReportsThePathInUse) {
  const std::string path = GemmPath();
  EXPECT_TRUE(path == "avx512" || path == "avx2" || path == "generic") << path;
}

}  // namespace
}  // namespace crm::audio::vad
