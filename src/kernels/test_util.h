// Helpers shared by the kernels' tests: the instruction-set paths of this CPU, random inputs,
// weight matrices in every stored type with the exact values they decode to.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace crm::kernels::testing {

inline std::vector<Isa> AvailableIsas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) {
    if (IsaAvailable(isa)) out.push_back(isa);
  }
  return out;
}

inline std::vector<float> Random(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline constexpr DType kAllTypes[] = {DType::kF32,  DType::kF16,  DType::kQ4_0, DType::kQ4_1,
                                      DType::kQ5_0, DType::kQ5_1, DType::kQ8_0};

// A weight matrix in `type`'s layout and its exact f32 values.
struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<float> values;  // rows x cols, what the stored weights decode to
  WeightView view;
};

inline Weights MakeWeights(DType type, int64_t rows, int64_t cols, uint32_t seed) {
  Weights w;
  const std::vector<float> src = Random(static_cast<size_t>(rows * cols), seed);
  const int64_t rb = RowBytes(type, cols);
  w.bytes.resize(static_cast<size_t>(rows * rb) + 1);
  w.values.resize(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    QuantizeRow(src.data() + r * cols, type, cols, w.bytes.data() + r * rb);
    DequantizeRow(w.bytes.data() + r * rb, type, cols, w.values.data() + r * cols);
  }
  w.view = {w.bytes.data(), type, rows, cols};
  return w;
}

// Runs each test once per instruction-set path, restoring the best one afterwards.
class KernelsTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override { ASSERT_TRUE(SetIsaForTesting(GetParam())); }
  void TearDown() override { SetIsaForTesting(AvailableIsas().back()); }
};

inline std::string IsaParamName(const ::testing::TestParamInfo<Isa>& info) {
  return IsaName(info.param);
}

inline void ExpectNear(double got, double want, double scale, double rel,
                       const std::string& where) {
  ASSERT_LE(std::fabs(got - want), rel * scale + 1e-6)
      << where << " got " << got << " want " << want;
}

}  // namespace crm::kernels::testing
