// Internal: the per-instruction-set leaf kernels behind kernels.h, and the dispatcher that picks
// one table of them at run time. Drivers (blocking, packing, threading) are portable code that
// call through this table; only the leaves are compiled for AVX2 or AVX-512.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace crm::kernels::internal {

struct IsaOps {
  Isa isa;
  // GEMM micro-kernel tile: mr rows x nr columns.
  int mr;
  int nr;
  // c[i*ldc + j] (accumulate ? += : =) sum_p a[p*mr + i] * b[p*nr + j], for i < rows <= mr and
  // j < cols <= nr. a and b are packed panels of kc steps.
  void (*gemm_tile)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows,
                    int cols, bool accumulate);
  // The same with A unpacked: row i of A at a + i*lda.
  void (*gemm_tile_rows)(int64_t kc, const float* a, int64_t lda, const float* b, float* c,
                         int64_t ldc, int rows, int cols, bool accumulate);
  // The small-m product against a weight matrix: for i < m and r in [r0, r1),
  // y[i*ldy + r] (accumulate ? += : =) dot(x[i*ldx ...], row r of w) (+ bias[r]).
  // k = columns of w.
  void (*weight_rows)(DType type, const float* x, int64_t m, int64_t ldx, const void* w, int64_t k,
                      int64_t r0, int64_t r1, const float* bias, float* y, int64_t ldy,
                      bool accumulate);
  void (*f16_to_f32)(const uint16_t* in, float* out, int64_t n);
  void (*f32_to_f16)(const float* in, uint16_t* out, int64_t n);
  void (*layer_norm_row)(float* x, int64_t n, const float* gamma, const float* beta, float eps);
  void (*gelu)(float* x, int64_t n);
  void (*softmax_row)(float* x, int64_t n);
  void (*add)(float* a, const float* b, int64_t n);
  // Largest element of x[0, n) (-inf when n == 0).
  float (*max)(const float* x, int64_t n);
  // x[j] = exp(x[j] - m) in place; returns the sum of the new values.
  float (*exp_shift_sum)(float* x, int64_t n, float m);
  // sum_j exp(x[j] - m), x unchanged (m >= every x[j], finite).
  float (*exp_sum)(const float* x, int64_t n, float m);
  // y[j] = y[j] * s for j < n.
  void (*scale)(float* y, int64_t n, float s);
  // Attention for a few query rows, keys and values read once for all of them:
  // s[i*lds + j] = scale * dot(q_i, k_j) for i < rows, j < n (vectors of dh floats).
  void (*attn_scores)(const float* q, int64_t ldq, int rows, const float* k, int64_t ldk, int64_t n,
                      int dh, float scale, float* s, int64_t lds);
  // out_i = sum_{j < n} p[i*ldp + j] * v_j for i < rows.
  void (*attn_values)(const float* p, int64_t ldp, int rows, const float* v, int64_t ldv, int64_t n,
                      int dh, float* out, int64_t ldout);
  // Every head at once, keys [j0, j1): for h < heads, i < rows,
  // part[i*ldpart + h*dh + c] += s[(h*rows + i)*lds + j] * v[j*ldv + h*dh + c]. Value rows are
  // then read whole, in order (a head's slice alone is a strided read of memory).
  void (*attn_values_all_heads)(const float* s, int64_t lds, int heads, int rows, const float* v,
                                int64_t ldv, int64_t j0, int64_t j1, int dh, float* part,
                                int64_t ldpart);
  void (*attn_values_all_heads_f16)(const float* s, int64_t lds, int heads, int rows,
                                    const uint16_t* v, int64_t ldv, int64_t j0, int64_t j1, int dh,
                                    float* part, int64_t ldpart);
  // The same with f16 keys / values.
  void (*attn_scores_f16)(const float* q, int64_t ldq, int rows, const uint16_t* k, int64_t ldk,
                          int64_t n, int dh, float scale, float* s, int64_t lds);
  void (*attn_values_f16)(const float* p, int64_t ldp, int rows, const uint16_t* v, int64_t ldv,
                          int64_t n, int dh, float* out, int64_t ldout);
  // Scores against one head's keys packed in blocks of kPackedKeyBlock positions, each block
  // [dh][kPackedKeyBlock] f16 (the layout of PackKeysHalf): s[i*lds + j] = scale * dot(q_i, k_j)
  // for i < rows, j < n.
  void (*attn_scores_packed_f16)(const float* q, int64_t ldq, int rows, const uint16_t* k,
                                 int64_t n, int dh, float scale, float* s, int64_t lds);
};

// The active table (chosen on first use, see SetIsaForTesting).
const IsaOps& Ops();

const IsaOps* GenericOps();
const IsaOps* Avx2Ops();    // nullptr when not compiled in
const IsaOps* Avx512Ops();  // nullptr when not compiled in

// Scalar f16 conversion shared by every path.
float HalfToFloat(uint16_t h);
uint16_t FloatToHalf(float f);
void F16ToF32Generic(const uint16_t* in, float* out, int64_t n);
void F32ToF16Generic(const float* in, uint16_t* out, int64_t n);

}  // namespace crm::kernels::internal
