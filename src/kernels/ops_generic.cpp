// Portable leaf kernels: the reference path, and the one used on CPUs without AVX2.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/isa.h"

namespace crm::kernels::internal {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 16;

// a(i, p) = a[i*si + p*sp].
void Tile(int64_t kc, const float* a, int64_t si, int64_t sp, const float* b, float* c,
          int64_t ldc, int rows, int cols, bool accumulate) {
  float t[kMr][kNr] = {};
  for (int64_t p = 0; p < kc; ++p) {
    const float* bp = b + p * kNr;
    for (int i = 0; i < rows; ++i) {
      const float ai = a[i * si + p * sp];
      for (int j = 0; j < kNr; ++j) t[i][j] += ai * bp[j];
    }
  }
  for (int i = 0; i < rows; ++i) {
    float* ci = c + i * ldc;
    for (int j = 0; j < cols; ++j) ci[j] = accumulate ? ci[j] + t[i][j] : t[i][j];
  }
}

void GemmTile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows,
              int cols, bool accumulate) {
  Tile(kc, a, 1, kMr, b, c, ldc, rows, cols, accumulate);
}

void GemmTileRows(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
                  int rows, int cols, bool accumulate) {
  Tile(kc, a, lda, 1, b, c, ldc, rows, cols, accumulate);
}

void WeightRows(DType type, const float* x, int64_t m, int64_t ldx, const void* w, int64_t k,
                int64_t r0, int64_t r1, const float* bias, float* y, int64_t ldy,
                bool accumulate) {
  constexpr int64_t kChunk = 256;  // a multiple of every block size
  constexpr int kGroup = 8;
  float buf[kChunk];
  const int64_t row_bytes = RowBytes(type, k);
  for (int64_t r = r0; r < r1; ++r) {
    const auto* row = static_cast<const uint8_t*>(w) + r * row_bytes;
    for (int64_t i0 = 0; i0 < m; i0 += kGroup) {
      const int g = static_cast<int>(std::min<int64_t>(kGroup, m - i0));
      float acc[kGroup] = {};
      for (int64_t k0 = 0; k0 < k; k0 += kChunk) {
        const int64_t len = std::min(kChunk, k - k0);
        DequantizeRow(row + RowBytes(type, k0), type, len, buf);
        for (int i = 0; i < g; ++i) {
          const float* xi = x + (i0 + i) * ldx + k0;
          float s = 0.0f;
          for (int64_t p = 0; p < len; ++p) s += xi[p] * buf[p];
          acc[i] += s;
        }
      }
      for (int i = 0; i < g; ++i) {
        float* out = y + (i0 + i) * ldy + r;
        const float v = acc[i] + (bias ? bias[r] : 0.0f);
        *out = accumulate ? *out + v : v;
      }
    }
  }
}

void LayerNormRow(float* x, int64_t n, const float* gamma, const float* beta, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  double sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sq += static_cast<double>(x[i] - mean) * (x[i] - mean);
  const float inv = 1.0f / std::sqrt(static_cast<float>(sq / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) {
    const float v = (x[i] - mean) * inv;
    x[i] = v * (gamma ? gamma[i] : 1.0f) + (beta ? beta[i] : 0.0f);
  }
}

void Gelu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

float Max(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

float ExpShiftSum(float* x, int64_t n, float m) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    s += x[i];
  }
  return s;
}

float ExpSum(const float* x, int64_t n, float m) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  return s;
}

void Scale(float* y, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) y[i] *= s;
}

void SoftmaxRow(float* x, int64_t n) {
  const float m = Max(x, n);
  Scale(x, n, 1.0f / ExpShiftSum(x, n, m));
}

void AddVec(float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) a[i] += b[i];
}

inline float ToFloat(float x) { return x; }
inline float ToFloat(uint16_t h) { return HalfToFloat(h); }

template <typename E>
void AttnScores(const float* q, int64_t ldq, int rows, const E* k, int64_t ldk, int64_t n,
                int dh, float scale, float* s, int64_t lds) {
  for (int64_t j = 0; j < n; ++j) {
    for (int i = 0; i < rows; ++i) {
      float d = 0.0f;
      for (int c = 0; c < dh; ++c) d += q[i * ldq + c] * ToFloat(k[j * ldk + c]);
      s[i * lds + j] = d * scale;
    }
  }
}

template <typename E>
void AttnValues(const float* p, int64_t ldp, int rows, const E* v, int64_t ldv, int64_t n,
                int dh, float* out, int64_t ldout) {
  for (int i = 0; i < rows; ++i) std::fill(out + i * ldout, out + i * ldout + dh, 0.0f);
  for (int64_t j = 0; j < n; ++j) {
    for (int i = 0; i < rows; ++i) {
      const float pij = p[i * ldp + j];
      for (int c = 0; c < dh; ++c) out[i * ldout + c] += pij * ToFloat(v[j * ldv + c]);
    }
  }
}

template <typename E>
void AttnValuesAllHeads(const float* s, int64_t lds, int heads, int rows, const E* v, int64_t ldv,
                        int64_t j0, int64_t j1, int dh, float* part, int64_t ldpart) {
  for (int64_t j = j0; j < j1; ++j) {
    for (int h = 0; h < heads; ++h) {
      for (int i = 0; i < rows; ++i) {
        const float a = s[(static_cast<int64_t>(h) * rows + i) * lds + j];
        float* o = part + i * ldpart + h * dh;
        for (int c = 0; c < dh; ++c) o[c] += a * ToFloat(v[j * ldv + h * dh + c]);
      }
    }
  }
}

void AttnScoresPacked(const float* q, int64_t ldq, int rows, const uint16_t* k, int64_t n, int dh,
                      float scale, float* s, int64_t lds) {
  for (int64_t j = 0; j < n; ++j) {
    const uint16_t* kb = k + (j / kPackedKeyBlock) * dh * kPackedKeyBlock + j % kPackedKeyBlock;
    for (int i = 0; i < rows; ++i) {
      float d = 0.0f;
      for (int c = 0; c < dh; ++c) d += q[i * ldq + c] * HalfToFloat(kb[c * kPackedKeyBlock]);
      s[i * lds + j] = d * scale;
    }
  }
}

constexpr IsaOps kGenericOps = {
    Isa::kGeneric, kMr,         kNr,         GemmTile,    GemmTileRows, WeightRows,
    F16ToF32Generic, F32ToF16Generic, LayerNormRow, Gelu,  SoftmaxRow,   AddVec,
    Max,           ExpShiftSum, ExpSum,      Scale,       AttnScores<float>, AttnValues<float>,
    AttnValuesAllHeads<float>, AttnValuesAllHeads<uint16_t>, AttnScores<uint16_t>,
    AttnValues<uint16_t>, AttnScoresPacked,
};

}  // namespace

const IsaOps* GenericOps() { return &kGenericOps; }

}  // namespace crm::kernels::internal
