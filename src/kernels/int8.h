// Internal: the integer path of encoder-sized products against q8_0 weights.
//
// A q8_0 weight is exactly an int8 times its block's scale, so a product of x by such a matrix is
// a sum over blocks of 32 of (scale_x * scale_w) * (integer dot of 32 int8 pairs) once x is
// quantized the same way: per row and block of 32, scale = max|x| / 127 and q = x / scale rounded
// to nearest-even (ggml's quantizer for activations, with the scale kept in f32). The integer
// dots are exact; what differs from the f32 product is the quantization of x alone.
//
// Only CPUs with AVX-512 VNNI (VPDPBUSD: 64 int8 products per instruction against 16 fp32 FMAs)
// get a table; elsewhere q8_0 weights go through the f32 packed GEMM.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace crm::kernels::internal {

// Packed layout of the weights, per panel of kInt8Nr output columns and block of 32 depths:
// kInt8Nr int32 corrections (-128 * sum of the block's weights of each column), kInt8Nr f32
// scales, then 8 groups of 4 depths, each kInt8Nr columns x 4 int8 (the VPDPBUSD operand).
inline constexpr int kInt8Nr = 32;
inline constexpr int kInt8Mr = 4;
inline constexpr int64_t kInt8PanelBlockBytes = kInt8Nr * 4 + kInt8Nr * 4 + 8 * kInt8Nr * 4;

struct Int8Ops {
  // Rows [0, rows) of x (row i at x + i*ldx, k a multiple of 32): xq[i*k + p] = q + 128 (the
  // unsigned operand of VPDPBUSD), dx[i*(k/32) + b] = the scale of block b of row i.
  void (*quantize_rows)(const float* x, int64_t rows, int64_t ldx, int64_t k, uint8_t* xq,
                        float* dx);
  // c[i*ldc + j] (accumulate ? += : =) sum over blocks of dx * dw * dot, for i < rows <= kInt8Mr
  // and j < cols <= kInt8Nr; xq/dx as above (rows of k bytes / k/32 scales), panel as packed.
  void (*tile)(int64_t blocks, const uint8_t* xq, const float* dx, const uint8_t* panel, float* c,
               int64_t ldc, int rows, int cols, bool accumulate);
};

// y (overwrite ? = : +=) x * W^T through the integer path (gemm_int8.cpp); false, with nothing
// done, when it does not apply (no table, not q8_0).
bool MatMulQ8Int8(const float* x, int64_t m, int64_t ldx, const WeightView& w, float* y,
                  int64_t ldy, bool overwrite, ThreadPool* pool);

// The table when the active path is AVX-512 and the CPU has VNNI; nullptr otherwise.
const Int8Ops* Int8Path();
const Int8Ops* Avx512VnniOps();  // nullptr when not compiled in

}  // namespace crm::kernels::internal
