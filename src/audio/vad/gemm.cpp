#include "audio/vad/gemm.h"

#include <immintrin.h>

namespace crm::audio::vad {
namespace {

void GemmGeneric(const float* x, int64_t m, int64_t ldx, const float* wt, int64_t kdim,
                 int64_t ldw, const float* bias, int64_t n, float* y, int64_t ldy) {
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
  for (int64_t j = 0; j < n; j += 32) {
    const int64_t blocks = (n - j) >= 32 ? 4 : (n - j) / 8;
    __m256 a[4];
    for (int b = 0; b < blocks; ++b) a[b] = _mm256_loadu_ps(y + j + 8 * b);
    const float* w = wt + j;
    for (int64_t k = 0; k < kdim; ++k, w += ldw) {
      const __m256 v = _mm256_broadcast_ss(x + k);
      for (int b = 0; b < blocks; ++b) a[b] = _mm256_fmadd_ps(v, _mm256_loadu_ps(w + 8 * b), a[b]);
    }
    for (int b = 0; b < blocks; ++b) _mm256_storeu_ps(y + j + 8 * b, a[b]);
  }
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

}  // namespace

void GemmBias(const float* x, int64_t m, int64_t ldx, const float* wt, int64_t kdim, int64_t ldw,
              const float* bias, int64_t n, float* y, int64_t ldy) {
  if (HasAvx2())
    GemmAvx2(x, m, ldx, wt, kdim, ldw, bias, n, y, ldy);
  else
    GemmGeneric(x, m, ldx, wt, kdim, ldw, bias, n, y, ldy);
}

void GemvAccumulate(const float* x, int64_t kdim, const float* wt, int64_t ldw, int64_t n,
                    float* y) {
  if (HasAvx2()) {
    GemvAvx2(x, kdim, wt, ldw, n, y);
    return;
  }
  for (int64_t k = 0; k < kdim; ++k)
    for (int64_t j = 0; j < n; ++j) y[j] += x[k] * wt[k * ldw + j];
}

const char* GemmPath() { return HasAvx2() ? "avx2" : "generic"; }

}  // namespace crm::audio::vad
