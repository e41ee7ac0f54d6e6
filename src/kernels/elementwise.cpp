// Element-wise transformer operations, dispatched to the active instruction set.
#include <algorithm>
#include <cmath>

#include "kernels/isa.h"
#include "kernels/kernels.h"

namespace crm::kernels {

void LayerNorm(float* x, int64_t rows, int64_t cols, const float* gamma, const float* beta,
               float eps, ThreadPool* pool) {
  if (rows <= 0 || cols <= 0) return;
  const auto& ops = internal::Ops();
  const int threads = pool ? pool->size() : 1;
  const int64_t chunk = std::max<int64_t>(1, (rows + 4 * threads - 1) / (4 * threads));
  auto task = [&](int64_t t) {
    const int64_t end = std::min(rows, (t + 1) * chunk);
    for (int64_t r = t * chunk; r < end; ++r)
      ops.layer_norm_row(x + r * cols, cols, gamma, beta, eps);
  };
  const int64_t tasks = (rows + chunk - 1) / chunk;
  if (pool != nullptr && rows * cols >= 16384) {
    pool->Run(tasks, task);
  } else {
    for (int64_t t = 0; t < tasks; ++t) task(t);
  }
}

void Gelu(float* x, int64_t n) {
  if (n > 0) internal::Ops().gelu(x, n);
}

void Gelu(float* x, int64_t n, ThreadPool* pool) {
  constexpr int64_t kChunk = 1 << 15;
  if (pool == nullptr || n <= kChunk) return Gelu(x, n);
  const auto& ops = internal::Ops();
  pool->Run((n + kChunk - 1) / kChunk,
            [&](int64_t t) { ops.gelu(x + t * kChunk, std::min(kChunk, n - t * kChunk)); });
}

void Softmax(float* x, int64_t rows, int64_t cols) {
  if (cols <= 0) return;
  const auto& ops = internal::Ops();
  for (int64_t r = 0; r < rows; ++r) ops.softmax_row(x + r * cols, cols);
}

void Add(float* a, const float* b, int64_t n) {
  if (n > 0) internal::Ops().add(a, b, n);
}

float Max(const float* x, int64_t n) { return n > 0 ? internal::Ops().max(x, n) : -INFINITY; }

float LogSumExp(const float* x, int64_t n) {
  if (n <= 0) return -INFINITY;
  const auto& ops = internal::Ops();
  const float m = ops.max(x, n);
  if (!std::isfinite(m)) return m;  // all -inf, or an infinite value dominates
  return m + std::log(ops.exp_sum(x, n, m));
}

int64_t ArgMax(const float* x, int64_t n) {
  if (n <= 0) return 0;
  // The vector maximum first, then the first position holding it: two passes over data that
  // stays in cache, both at full vector speed.
  const float m = internal::Ops().max(x, n);
  for (int64_t i = 0; i < n; ++i)
    if (x[i] == m) return i;
  return 0;  // only NaNs
}

}  // namespace crm::kernels
