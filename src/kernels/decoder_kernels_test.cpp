// The kernels of a decoding step against plain double-precision references, on every
// instruction-set path this CPU offers: several weight products in one pass (with residual
// addition and GELU folded in), attention over packed f16 keys and values (appended in pieces,
// several sequences at once, causal or not), and the reductions over the vocabulary.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/test_util.h"

namespace crm::kernels {
namespace {

using namespace crm::kernels::testing;

double GeluRef(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

// ---------------------------------------------------------------------------------------------
// MatMulWeightsBatch

TEST_P(KernelsTest, BatchedProductsMatchSeparateReferences) {
  // The f32 products against f64 references; the int8 products of q8_0 weights (activations
  // quantised too) have their own exactness test in kernels_test.cpp.
  SetInt8ProductsForTesting(false);
  ThreadPool pool(3);
  uint32_t seed = 7;
  const int64_t k = 96;
  const int64_t ns[] = {37, 64, 100};  // odd counts of weight rows, a row chunk and a tail
  for (DType type : kAllTypes) {
    Weights w[3];
    std::vector<float> bias[3];
    for (int c = 0; c < 3; ++c) {
      w[c] = MakeWeights(type, ns[c], k, seed++);
      bias[c] = Random(static_cast<size_t>(ns[c]), seed++);
    }
    // 1..8 rows: one pass of the pool; 9 and 20: the packed GEMM, product after product.
    for (int64_t m : {1, 2, 5, 8, 9, 20}) {
      for (int variant = 0; variant < 2; ++variant) {
        ThreadPool* p = variant == 0 ? &pool : nullptr;
        const int64_t ldx = k + variant * 3;
        const std::vector<float> x = Random(static_cast<size_t>(m * ldx), seed++);
        // Product 0 plain without bias, 1 accumulates with bias, 2 applies GELU after its bias.
        std::vector<float> y[3], before[3];
        WeightProduct prods[3];
        for (int c = 0; c < 3; ++c) {
          const int64_t ldy = ns[c] + 2 * variant;
          y[c] = Random(static_cast<size_t>(m * ldy), seed++, -3, 3);
          before[c] = y[c];
          prods[c].w = w[c].view;
          prods[c].bias = c == 0 ? nullptr : bias[c].data();
          prods[c].y = y[c].data();
          prods[c].ldy = ldy;
          prods[c].accumulate = c == 1;
          prods[c].gelu = c == 2;
        }
        MatMulWeightsBatch(x.data(), m, ldx, prods, 3, p);
        for (int c = 0; c < 3; ++c) {
          const int64_t n = ns[c], ldy = prods[c].ldy;
          const std::string where = std::string(DTypeName(type)) + " m=" + std::to_string(m) +
                                    " product " + std::to_string(c);
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t r = 0; r < n; ++r) {
              double want = c == 0 ? 0.0 : bias[c][r], scale = std::fabs(want);
              for (int64_t j = 0; j < k; ++j) {
                const double t = static_cast<double>(x[i * ldx + j]) * w[c].values[r * k + j];
                want += t;
                scale += std::fabs(t);
              }
              if (c == 1) {
                want += before[c][i * ldy + r];
                scale += std::fabs(before[c][i * ldy + r]);
              }
              if (c == 2) want = GeluRef(want);
              ExpectNear(y[c][i * ldy + r], want, scale, 1e-5, where);
            }
            for (int64_t r = n; r < ldy; ++r) ASSERT_EQ(y[c][i * ldy + r], before[c][i * ldy + r]);
          }
        }
      }
    }
  }
}

TEST_P(KernelsTest, BatchedProductsHandleManyMatricesAndSingleOnes) {
  // More products than one pass takes at once (8), and a batch of one equals MatMulWeights.
  ThreadPool pool(2);
  const int64_t m = 3, k = 64;
  std::vector<Weights> w;
  std::vector<std::vector<float>> y(11), y_ref(11);
  std::vector<WeightProduct> prods(11);
  const std::vector<float> x = Random(static_cast<size_t>(m * k), 99);
  for (int c = 0; c < 11; ++c) w.push_back(MakeWeights(DType::kF16, 16 + c, k, 100 + c));
  for (int c = 0; c < 11; ++c) {
    y[c].assign(static_cast<size_t>(m * (16 + c)), 0.0f);
    y_ref[c] = y[c];
    prods[c].w = w[c].view;
    prods[c].y = y[c].data();
    prods[c].ldy = 16 + c;
    MatMulWeights(x.data(), m, k, w[c].view, nullptr, y_ref[c].data(), 16 + c, nullptr);
  }
  MatMulWeightsBatch(x.data(), m, k, prods.data(), 11, &pool);
  for (int c = 0; c < 11; ++c) {
    for (size_t i = 0; i < y[c].size(); ++i) ASSERT_EQ(y[c][i], y_ref[c][i]) << "product " << c;
  }
}

// ---------------------------------------------------------------------------------------------
// Packed f16 attention

struct PackedCase {
  int64_t tq, tk;
  int heads, dh, sequences;
  bool causal, weights;
};

// Attention over packed keys/values equals Attention over f32 keys/values holding the same
// (f16-rounded) numbers, the cache being packed in two pieces (a prompt, then the rest).
void CheckPacked(const PackedCase& c, ThreadPool* pool, uint32_t seed) {
  const int64_t width = static_cast<int64_t>(c.heads) * c.dh, ld = width + 3;
  const int64_t cap = (c.tk + kPackedKeyBlock - 1) / kPackedKeyBlock * kPackedKeyBlock +
                      kPackedKeyBlock;  // room past the end, as a cache has
  const int64_t rows = c.tq * c.sequences, ldo = width + 1;
  const std::vector<float> q = Random(static_cast<size_t>(rows * width), seed, -2, 2);
  std::vector<std::vector<float>> k(c.sequences), v(c.sequences);
  std::vector<std::vector<uint16_t>> kp(c.sequences), vp(c.sequences);
  std::vector<const uint16_t*> kptr(c.sequences), vptr(c.sequences);
  for (int s = 0; s < c.sequences; ++s) {
    k[s] = Random(static_cast<size_t>(c.tk * ld), seed + 10 + s, -2, 2);
    v[s] = Random(static_cast<size_t>(c.tk * ld), seed + 20 + s);
    // The values the packed f16 buffers hold.
    for (auto* t : {&k[s], &v[s]}) {
      std::vector<uint16_t> h(t->size());
      F32ToF16(t->data(), h.data(), static_cast<int64_t>(t->size()));
      F16ToF32(h.data(), t->data(), static_cast<int64_t>(t->size()));
    }
    kp[s].assign(static_cast<size_t>(PackedKVSize(cap, c.heads, c.dh)), 0xffff);  // NaN filler
    vp[s].assign(kp[s].size(), 0xffff);
    const int64_t first = c.tk / 3;
    for (auto [j0, count] : {std::pair<int64_t, int64_t>{0, first}, {first, c.tk - first}}) {
      PackKeysHalf(k[s].data() + j0 * ld, ld, j0, count, c.heads, c.dh, cap, kp[s].data());
      PackValuesHalf(v[s].data() + j0 * ld, ld, j0, count, c.heads, c.dh, cap, vp[s].data());
    }
    kptr[s] = kp[s].data();
    vptr[s] = vp[s].data();
  }
  std::vector<float> out(static_cast<size_t>(rows * ldo), 777.0f);
  const size_t nw = c.weights ? static_cast<size_t>(c.heads * rows * c.tk) : 0;
  std::vector<float> w(nw, 555.0f);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.dh));
  AttentionPacked(q.data(), width, c.tq, c.sequences, kptr.data(), vptr.data(), cap, c.tk, c.heads,
                  c.dh, scale, c.causal, out.data(), ldo, c.weights ? w.data() : nullptr, pool);
  const std::string where = "tq=" + std::to_string(c.tq) + " tk=" + std::to_string(c.tk) +
                            " heads=" + std::to_string(c.heads) + " dh=" + std::to_string(c.dh) +
                            " seqs=" + std::to_string(c.sequences) + (c.causal ? " causal" : "");
  for (int s = 0; s < c.sequences; ++s) {
    std::vector<float> ref(static_cast<size_t>(c.tq * width)),
        wref(c.weights ? c.heads * c.tq * c.tk : 0);
    Attention(q.data() + s * c.tq * width, width, k[s].data(), ld, v[s].data(), ld, c.tq, c.tk,
              c.heads, c.dh, scale, c.causal, ref.data(), width, c.weights ? wref.data() : nullptr,
              nullptr);
    for (int64_t i = 0; i < c.tq; ++i) {
      const int64_t row = s * c.tq + i;
      for (int64_t col = 0; col < width; ++col) {
        ASSERT_NEAR(out[row * ldo + col], ref[i * width + col], 1e-5) << where;
      }
      ASSERT_EQ(out[row * ldo + width], 777.0f) << where;
      for (int h = 0; h < c.heads && c.weights; ++h) {
        for (int64_t j = 0; j < c.tk; ++j) {
          ASSERT_NEAR(w[(h * rows + row) * c.tk + j], wref[(h * c.tq + i) * c.tk + j], 1e-6)
              << where;
        }
      }
    }
  }
}

TEST_P(KernelsTest, PackedHalfAttentionMatchesAttention) {
  ThreadPool pool(2);
  const PackedCase cases[] = {
      // one token, the cross-attention of a step (1500 audio positions), beams sharing keys
      {1, 1, 1, 64, 1, false, false},
      {1, 1500, 8, 64, 1, false, true},
      {5, 300, 8, 64, 1, false, true},
      {7, 65, 2, 64, 1, false, false},
      // self-attention: beams with their own caches, a prompt with several row blocks
      {1, 64, 2, 64, 5, true, false},
      {1, 129, 3, 64, 3, true, true},
      {40, 40, 2, 64, 1, true, true},
      {13, 20, 2, 64, 2, true, false},
      // head sizes that are not whole vectors, keys fewer than a block
      {3, 37, 2, 24, 1, false, true},
      {2, 63, 3, 5, 2, true, false}};
  uint32_t seed = 4000;
  for (const PackedCase& c : cases) {
    CheckPacked(c, &pool, seed);
    CheckPacked(c, nullptr, seed + 1);
    seed += 50;
  }
}

// ---------------------------------------------------------------------------------------------
// Reductions over the vocabulary

TEST_P(KernelsTest, LogSumExpMaxAndArgMaxMatchReference) {
  const float kInf = std::numeric_limits<float>::infinity();
  uint32_t seed = 300;
  for (int64_t n : {1, 2, 15, 16, 17, 31, 33, 100, 51865}) {
    for (int variant = 0; variant < 3; ++variant) {
      std::vector<float> x = Random(static_cast<size_t>(n), seed++, -30, 30);
      if (variant == 1) {  // suppressed entries, as the logit filters leave them
        for (int64_t i = 0; i < n; i += 3) x[i] = -kInf;
      }
      if (variant == 2) x[n - 1] = 100.0f;  // the maximum in the last (tail) lane
      const std::string where = "n=" + std::to_string(n) + " variant " + std::to_string(variant);
      double mx = -kInf, sum = 0;
      int64_t arg = 0;
      for (int64_t i = 0; i < n; ++i) {
        if (x[i] > mx) mx = x[i], arg = i;
      }
      for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - mx);
      EXPECT_EQ(Max(x.data(), n), static_cast<float>(mx)) << where;
      EXPECT_EQ(ArgMax(x.data(), n), arg) << where;
      if (std::isinf(mx)) {
        EXPECT_EQ(LogSumExp(x.data(), n), -kInf) << where;
      } else {
        EXPECT_NEAR(LogSumExp(x.data(), n), mx + std::log(sum), 1e-5 * std::fabs(mx) + 1e-5)
            << where;
      }
    }
  }
  // Ties go to the first index; nothing at all, or only -inf.
  const std::vector<float> ties = {1, 5, 2, 5, 5};
  EXPECT_EQ(ArgMax(ties.data(), 5), 1);
  EXPECT_EQ(ArgMax(ties.data(), 0), 0);
  EXPECT_EQ(Max(ties.data(), 0), -kInf);
  EXPECT_EQ(LogSumExp(ties.data(), 0), -kInf);
  const std::vector<float> none(40, -kInf);
  EXPECT_EQ(LogSumExp(none.data(), 40), -kInf);
  EXPECT_EQ(ArgMax(none.data(), 40), 0);
  // exp of values far below the maximum underflows to 0, never to NaN.
  const std::vector<float> wide = {-1e30f, 0.0f, -200.0f};
  EXPECT_NEAR(LogSumExp(wide.data(), 3), 0.0f, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Isas, KernelsTest, ::testing::ValuesIn(AvailableIsas()), IsaParamName);

}  // namespace
}  // namespace crm::kernels
