// Leaf kernels of the integer q8_0 path (int8.h), compiled for AVX-512 with VNNI. Behind the
// target pragma and in an anonymous namespace like ops_avx512.cpp; Int8Path() hands the table out
// only when the CPU has avx512vnni.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/int8.h"

#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma")

namespace crm::kernels::internal {
namespace {

void QuantizeRows(const float* x, int64_t rows, int64_t ldx, int64_t k, uint8_t* xq, float* dx) {
  const int64_t blocks = k / 32;
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const __m512i offset = _mm512_set1_epi32(128);
  for (int64_t i = 0; i < rows; ++i) {
    const float* xi = x + i * ldx;
    uint8_t* qi = xq + i * k;
    float* di = dx + i * blocks;
    for (int64_t b = 0; b < blocks; ++b) {
      const __m512 v0 = _mm512_loadu_ps(xi + b * 32), v1 = _mm512_loadu_ps(xi + b * 32 + 16);
      const __m512 a = _mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1));
      const float amax = _mm512_reduce_max_ps(a);
      const float d = amax / 127.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      const __m512 s = _mm512_set1_ps(id);
      // Round to nearest-even (the default MXCSR mode), then shift into the unsigned range.
      const __m512i q0 = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v0, s)), offset);
      const __m512i q1 = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v1, s)), offset);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qi + b * 32), _mm512_cvtepi32_epi8(q0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qi + b * 32 + 16), _mm512_cvtepi32_epi8(q1));
      di[b] = d;
    }
  }
}

inline __m512i Broadcast4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// kInt8Mr (4) rows x kInt8Nr (32) columns: 8 fp32 accumulators, 8 int32 ones per block.
void Tile(int64_t blocks, const uint8_t* xq, const float* dx, const uint8_t* panel, float* c,
          int64_t ldc, int rows, int cols, bool accumulate) {
  const int64_t k = blocks * 32;
  const uint8_t* x0 = xq;
  const uint8_t* x1 = xq + std::min(1, rows - 1) * k;
  const uint8_t* x2 = xq + std::min(2, rows - 1) * k;
  const uint8_t* x3 = xq + std::min(3, rows - 1) * k;
  const float* d0 = dx;
  const float* d1 = dx + std::min(1, rows - 1) * blocks;
  const float* d2 = dx + std::min(2, rows - 1) * blocks;
  const float* d3 = dx + std::min(3, rows - 1) * blocks;
  __m512 f00 = _mm512_setzero_ps(), f01 = f00, f10 = f00, f11 = f00, f20 = f00, f21 = f00,
         f30 = f00, f31 = f00;
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* pb = panel + b * kInt8PanelBlockBytes;
    const __m512i c0 = _mm512_load_si512(pb), c1 = _mm512_load_si512(pb + 64);
    __m512i a00 = c0, a01 = c1, a10 = c0, a11 = c1, a20 = c0, a21 = c1, a30 = c0, a31 = c1;
    const uint8_t* q = pb + 4 * kInt8Nr * 2;
    const int64_t o = b * 32;
    for (int g = 0; g < 8; ++g) {
      const __m512i w0 = _mm512_load_si512(q + g * 128), w1 = _mm512_load_si512(q + g * 128 + 64);
      __m512i x = Broadcast4(x0 + o + 4 * g);
      a00 = _mm512_dpbusd_epi32(a00, x, w0);
      a01 = _mm512_dpbusd_epi32(a01, x, w1);
      x = Broadcast4(x1 + o + 4 * g);
      a10 = _mm512_dpbusd_epi32(a10, x, w0);
      a11 = _mm512_dpbusd_epi32(a11, x, w1);
      x = Broadcast4(x2 + o + 4 * g);
      a20 = _mm512_dpbusd_epi32(a20, x, w0);
      a21 = _mm512_dpbusd_epi32(a21, x, w1);
      x = Broadcast4(x3 + o + 4 * g);
      a30 = _mm512_dpbusd_epi32(a30, x, w0);
      a31 = _mm512_dpbusd_epi32(a31, x, w1);
    }
    const __m512 s0 = _mm512_load_ps(reinterpret_cast<const float*>(pb + 128));
    const __m512 s1 = _mm512_load_ps(reinterpret_cast<const float*>(pb + 192));
    __m512 r = _mm512_set1_ps(d0[b]);
    f00 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a00), _mm512_mul_ps(s0, r), f00);
    f01 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a01), _mm512_mul_ps(s1, r), f01);
    r = _mm512_set1_ps(d1[b]);
    f10 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a10), _mm512_mul_ps(s0, r), f10);
    f11 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a11), _mm512_mul_ps(s1, r), f11);
    r = _mm512_set1_ps(d2[b]);
    f20 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a20), _mm512_mul_ps(s0, r), f20);
    f21 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a21), _mm512_mul_ps(s1, r), f21);
    r = _mm512_set1_ps(d3[b]);
    f30 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a30), _mm512_mul_ps(s0, r), f30);
    f31 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a31), _mm512_mul_ps(s1, r), f31);
  }
  const __mmask16 m0 = cols >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << cols) - 1);
  const __mmask16 m1 =
      cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : static_cast<__mmask16>((1u << (cols - 16)) - 1);
  const __m512 acc[4][2] = {{f00, f01}, {f10, f11}, {f20, f21}, {f30, f31}};
  for (int i = 0; i < rows; ++i) {
    float* ci = c + i * ldc;
    __m512 v0 = acc[i][0], v1 = acc[i][1];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, ci));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, ci + 16));
    }
    _mm512_mask_storeu_ps(ci, m0, v0);
    _mm512_mask_storeu_ps(ci + 16, m1, v1);
  }
}

constexpr Int8Ops kOps = {QuantizeRows, Tile};

}  // namespace
}  // namespace crm::kernels::internal

#pragma GCC pop_options

namespace crm::kernels::internal {

const Int8Ops* Avx512VnniOps() { return &kOps; }

}  // namespace crm::kernels::internal
