// The one dense kernel the Silero network needs, with an AVX2+FMA path chosen at run time and a
// portable fallback. Results of the two paths agree to float32 rounding.
#pragma once

#include <cstdint>

namespace crm::audio::vad {

// y[i][j] = bias[j] + sum_k x[i][k] * wt[k][j] for i < m, j < n, k < kdim.
// x: row stride ldx; wt: the weights pre-transposed (k-major), row stride ldw; y: row stride ldy.
// n must be a multiple of 8 (weights and outputs padded with zeros); bias has n entries.
void GemmBias(const float* x, int64_t m, int64_t ldx, const float* wt, int64_t kdim, int64_t ldw,
              const float* bias, int64_t n, float* y, int64_t ldy);

// y[j] += sum_k x[k] * wt[k][j] for j < n (n a multiple of 8): the LSTM's recurrent product.
void GemvAccumulate(const float* x, int64_t kdim, const float* wt, int64_t ldw, int64_t n,
                    float* y);

// "avx2" or "generic": the path GemmBias takes on this machine.
const char* GemmPath();

}  // namespace crm::audio::vad
