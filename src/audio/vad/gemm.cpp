#include "audio/vad/gemm.h"

#include <immintrin.h>

#include <algorithm>

namespace crm::audio::vad {
namespace {

void GemmGeneric(const float* x, int64_t m, int64_t ldx, const float* wt, int64_t kdim, int64_t ldw,
                 const float* bias, int64_t n, float* y, int64_t ldy) {
  for (int64_t i = 0; i < m; ++i) {
    float* yi = y + i * ldy;
    for (int64_t j = 0; j < n; ++j) yi[j] = bias[j];
    for (int64_t k = 0; k < kdim; ++k) {
      const float a = x[i * ldx + k];
      const float* w = wt + k * ldw;
      for (int64_t j = 0; j < n; ++j) yi[j] += a * w[j];
    }
  }
}

// Rows in blocks of 4, columns in blocks of 16 (two registers): 8 accumulators per block.
__attribute__((target("avx2,fma"))) void GemmAvx2(const float* x, int64_t m, int64_t ldx,
                                                  const float* wt, int64_t kdim, int64_t ldw,
                                                  const float* bias, int64_t n, float* y,
                                                  int64_t ldy) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const float* x0 = x + i * ldx;
    const float* x1 = x0 + ldx;
    const float* x2 = x1 + ldx;
    const float* x3 = x2 + ldx;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
      __m256 b0 = _mm256_loadu_ps(bias + j), b1 = _mm256_loadu_ps(bias + j + 8);
      __m256 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
      const float* w = wt + j;
      for (int64_t k = 0; k < kdim; ++k, w += ldw) {
        const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
        __m256 v = _mm256_broadcast_ss(x0 + k);
        a00 = _mm256_fmadd_ps(v, w0, a00);
        a01 = _mm256_fmadd_ps(v, w1, a01);
        v = _mm256_broadcast_ss(x1 + k);
        a10 = _mm256_fmadd_ps(v, w0, a10);
        a11 = _mm256_fmadd_ps(v, w1, a11);
        v = _mm256_broadcast_ss(x2 + k);
        a20 = _mm256_fmadd_ps(v, w0, a20);
        a21 = _mm256_fmadd_ps(v, w1, a21);
        v = _mm256_broadcast_ss(x3 + k);
        a30 = _mm256_fmadd_ps(v, w0, a30);
        a31 = _mm256_fmadd_ps(v, w1, a31);
      }
      float* yr = y + i * ldy + j;
      _mm256_storeu_ps(yr, a00);
      _mm256_storeu_ps(yr + 8, a01);
      _mm256_storeu_ps(yr + ldy, a10);
      _mm256_storeu_ps(yr + ldy + 8, a11);
      _mm256_storeu_ps(yr + 2 * ldy, a20);
      _mm256_storeu_ps(yr + 2 * ldy + 8, a21);
      _mm256_storeu_ps(yr + 3 * ldy, a30);
      _mm256_storeu_ps(yr + 3 * ldy + 8, a31);
    }
    for (; j < n; j += 8) {
      __m256 a0 = _mm256_loadu_ps(bias + j), a1 = a0, a2 = a0, a3 = a0;
      const float* w = wt + j;
      for (int64_t k = 0; k < kdim; ++k, w += ldw) {
        const __m256 w0 = _mm256_loadu_ps(w);
        a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x0 + k), w0, a0);
        a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(x1 + k), w0, a1);
        a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(x2 + k), w0, a2);
        a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(x3 + k), w0, a3);
      }
      float* yr = y + i * ldy + j;
      _mm256_storeu_ps(yr, a0);
      _mm256_storeu_ps(yr + ldy, a1);
      _mm256_storeu_ps(yr + 2 * ldy, a2);
      _mm256_storeu_ps(yr + 3 * ldy, a3);
    }
  }
  for (; i < m; ++i) {
    const float* xi = x + i * ldx;
    for (int64_t j = 0; j < n; j += 8) {
      __m256 a = _mm256_loadu_ps(bias + j);
      const float* w = wt + j;
      for (int64_t k = 0; k < kdim; ++k, w += ldw)
        a = _mm256_fmadd_ps(_mm256_broadcast_ss(xi + k), _mm256_loadu_ps(w), a);
      _mm256_storeu_ps(y + i * ldy + j, a);
    }
  }
}

__attribute__((target("avx2,fma"))) void GemvAvx2(const float* x, int64_t kdim, const float* wt,
                                                  int64_t ldw, int64_t n, float* y) {
  for (int64_t j = 0; j < n; j += 64) {
    const int64_t blocks = std::min<int64_t>(8, (n - j) / 8);
    __m256 a[8];
    for (int b = 0; b < blocks; ++b) a[b] = _mm256_loadu_ps(y + j + 8 * b);
    const float* w = wt + j;
    for (int64_t k = 0; k < kdim; ++k, w += ldw) {
      const __m256 v = _mm256_broadcast_ss(x + k);
      for (int b = 0; b < blocks; ++b) a[b] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 8 * b), a[b]);
    }
    for (int b = 0; b < blocks; ++b) _mm256_storeu_ps(y + j + 8 * b, a[b]);
  }
}

// The same blocking with 16-float registers: rows in blocks of 4, columns in blocks of 32.
// Each output is accumulated in the same order as on the other paths (bias, then k = 0, 1, ...),
// so all paths give bit-identical results.
__attribute__((target("avx512f"))) void GemmAvx512(const float* x, int64_t m, int64_t ldx,
                                                   const float* wt, int64_t kdim, int64_t ldw,
                                                   const float* bias, int64_t n, float* y,
                                                   int64_t ldy) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) {
    const float* x0 = x + i * ldx;
    const float* x1 = x0 + ldx;
    const float* x2 = x1 + ldx;
    const float* x3 = x2 + ldx;
    int64_t j = 0;
    for (; j + 32 <= n; j += 32) {
      __m512 b0 = _mm512_loadu_ps(bias + j), b1 = _mm512_loadu_ps(bias + j + 16);
      __m512 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
      const float* w = wt + j;
      for (int64_t k = 0; k < kdim; ++k, w += ldw) {
        const __m512 w0 = _mm512_loadu_ps(w), w1 = _mm512_loadu_ps(w + 16);
        __m512 v = _mm512_set1_ps(x0[k]);
        a00 = _mm512_fmadd_ps(v, w0, a00);
        a01 = _mm512_fmadd_ps(v, w1, a01);
        v = _mm512_set1_ps(x1[k]);
        a10 = _mm512_fmadd_ps(v, w0, a10);
        a11 = _mm512_fmadd_ps(v, w1, a11);
        v = _mm512_set1_ps(x2[k]);
        a20 = _mm512_fmadd_ps(v, w0, a20);
        a21 = _mm512_fmadd_ps(v, w1, a21);
        v = _mm512_set1_ps(x3[k]);
        a30 = _mm512_fmadd_ps(v, w0, a30);
        a31 = _mm512_fmadd_ps(v, w1, a31);
      }
      float* yr = y + i * ldy + j;
      _mm512_storeu_ps(yr, a00);
      _mm512_storeu_ps(yr + 16, a01);
      _mm512_storeu_ps(yr + ldy, a10);
      _mm512_storeu_ps(yr + ldy + 16, a11);
      _mm512_storeu_ps(yr + 2 * ldy, a20);
      _mm512_storeu_ps(yr + 2 * ldy + 16, a21);
      _mm512_storeu_ps(yr + 3 * ldy, a30);
      _mm512_storeu_ps(yr + 3 * ldy + 16, a31);
    }
    for (; j < n; j += 16) {
      __m512 a0 = _mm512_loadu_ps(bias + j), a1 = a0, a2 = a0, a3 = a0;
      const float* w = wt + j;
      for (int64_t k = 0; k < kdim; ++k, w += ldw) {
        const __m512 w0 = _mm512_loadu_ps(w);
        a0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[k]), w0, a0);
        a1 = _mm512_fmadd_ps(_mm512_set1_ps(x1[k]), w0, a1);
        a2 = _mm512_fmadd_ps(_mm512_set1_ps(x2[k]), w0, a2);
        a3 = _mm512_fmadd_ps(_mm512_set1_ps(x3[k]), w0, a3);
      }
      float* yr = y + i * ldy + j;
      _mm512_storeu_ps(yr, a0);
      _mm512_storeu_ps(yr + ldy, a1);
      _mm512_storeu_ps(yr + 2 * ldy, a2);
      _mm512_storeu_ps(yr + 3 * ldy, a3);
    }
  }
  for (; i < m; ++i) {
    const float* xi = x + i * ldx;
    for (int64_t j = 0; j < n; j += 16) {
      __m512 a = _mm512_loadu_ps(bias + j);
      const float* w = wt + j;
      for (int64_t k = 0; k < kdim; ++k, w += ldw)
        a = _mm512_fmadd_ps(_mm512_set1_ps(xi[k]), _mm512_loadu_ps(w), a);
      _mm512_storeu_ps(y + i * ldy + j, a);
    }
  }
}

__attribute__((target("avx512f"))) void GemvAvx512(const float* x, int64_t kdim, const float* wt,
                                                   int64_t ldw, int64_t n, float* y) {
  for (int64_t j = 0; j < n; j += 128) {
    const int64_t blocks = std::min<int64_t>(8, (n - j) / 16);
    __m512 a[8];
    for (int b = 0; b < blocks; ++b) a[b] = _mm512_loadu_ps(y + j + 16 * b);
    const float* w = wt + j;
    for (int64_t k = 0; k < kdim; ++k, w += ldw) {
      const __m512 v = _mm512_set1_ps(x[k]);
      for (int b = 0; b < blocks; ++b) a[b] = _mm512_fmadd_ps(v, _mm512_loadu_ps(w + 16 * b), a[b]);
    }
    for (int b = 0; b < blocks; ++b) _mm512_storeu_ps(y + j + 16 * b, a[b]);
  }
}

void GemvGeneric(const float* x, int64_t kdim, const float* wt, int64_t ldw, int64_t n, float* y) {
  for (int64_t k = 0; k < kdim; ++k)
    for (int64_t j = 0; j < n; ++j) y[j] += x[k] * wt[k * ldw + j];
}

bool Supported(GemmIsa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case GemmIsa::kAvx512:
      return __builtin_cpu_supports("avx512f");
    case GemmIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default:
      return true;
  }
}

GemmIsa Active() {
  static const GemmIsa isa = Supported(GemmIsa::kAvx512) ? GemmIsa::kAvx512
                             : Supported(GemmIsa::kAvx2) ? GemmIsa::kAvx2
                                                         : GemmIsa::kGeneric;
  return isa;
}

}  // namespace

bool GemmBiasOn(GemmIsa isa, const float* x, int64_t m, int64_t ldx, const float* wt, int64_t kdim,
                int64_t ldw, const float* bias, int64_t n, float* y, int64_t ldy) {
  if (!Supported(isa)) return false;
  if (isa == GemmIsa::kAvx512 && n % 16 == 0)
    GemmAvx512(x, m, ldx, wt, kdim, ldw, bias, n, y, ldy);
  else if (isa != GemmIsa::kGeneric)
    GemmAvx2(x, m, ldx, wt, kdim, ldw, bias, n, y, ldy);
  else
    GemmGeneric(x, m, ldx, wt, kdim, ldw, bias, n, y, ldy);
  return true;
}

bool GemvAccumulateOn(GemmIsa isa, const float* x, int64_t kdim, const float* wt, int64_t ldw,
                      int64_t n, float* y) {
  if (!Supported(isa)) return false;
  if (isa == GemmIsa::kAvx512 && n % 16 == 0)
    GemvAvx512(x, kdim, wt, ldw, n, y);
  else if (isa != GemmIsa::kGeneric)
    GemvAvx2(x, kdim, wt, ldw, n, y);
  else
    GemvGeneric(x, kdim, wt, ldw, n, y);
  return true;
}

void GemmBias(const float* x, int64_t m, int64_t ldx, const float* wt, int64_t kdim, int64_t ldw,
              const float* bias, int64_t n, float* y, int64_t ldy) {
  GemmBiasOn(Active(), x, m, ldx, wt, kdim, ldw, bias, n, y, ldy);
}

void GemvAccumulate(const float* x, int64_t kdim, const float* wt, int64_t ldw, int64_t n,
                    float* y) {
  GemvAccumulateOn(Active(), x, kdim, wt, ldw, n, y);
}

const char* GemmPath() {
  switch (Active()) {
    case GemmIsa::kAvx512:
      return "avx512";
    case GemmIsa::kAvx2:
      return "avx2";
    default:
      return "generic";
  }
}

}  // namespace crm::audio::vad
