// The dense kernels the Silero network needs, with AVX-512 and AVX2+FMA paths chosen once at run
// time and a portable fallback. Every path accumulates each output in the same order, so they
// agree to float32 rounding (the vector paths bit for bit).
#pragma once

#include <cstdint>

namespace crm::audio::vad {

// y[i][j] = bias[j] + sum_k x[i][k] * wt[k][j] for i < m, j < n, k < kdim.
// x: row stride ldx; wt: the weights pre-transposed (k-major), row stride ldw; y: row stride ldy.
// n must be a multiple of 8 (weights and outputs padded with zeros; a multiple of 16 lets the
// AVX-512 path run); bias has n entries.
void GemmBias(const float* x, int64_t m, int64_t ldx, const float* wt, int64_t kdim, int64_t ldw,
              const float* bias, int64_t n, float* y, int64_t ldy);

// y[j] += sum_k x[k] * wt[k][j] for j < n (n a multiple of 8): the LSTM's recurrent product.
void GemvAccumulate(const float* x, int64_t kdim, const float* wt, int64_t ldw, int64_t n,
                    float* y);

// "avx512", "avx2" or "generic": the path taken on this machine.
const char* GemmPath();

// A given path, for tests comparing paths; false (and nothing done) when this CPU lacks it.
enum class GemmIsa { kGeneric, kAvx2, kAvx512 };
bool GemmBiasOn(GemmIsa isa, const float* x, int64_t m, int64_t ldx, const float* wt, int64_t kdim,
                int64_t ldw, const float* bias, int64_t n, float* y, int64_t ldy);
bool GemvAccumulateOn(GemmIsa isa, const float* x, int64_t kdim, const float* wt, int64_t ldw,
                      int64_t n, float* y);

}  // namespace crm::audio::vad
