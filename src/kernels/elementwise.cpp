// Element-wise transformer operations, dispatched to the active instruction set.
#include <algorithm>

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
    for (int64_t r = t * chunk; r < end; ++r) ops.layer_norm_row(x + r * cols, cols, gamma, beta, eps);
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
  pool->Run((n + kChunk - 1) / kChunk, [&](int64_t t) {
    ops.gelu(x + t * kChunk, std::min(kChunk, n - t * kChunk));
  });
}

void Softmax(float* x, int64_t rows, int64_t cols) {
  if (cols <= 0) return;
  const auto& ops = internal::Ops();
  for (int64_t r = 0; r < rows; ++r) ops.softmax_row(x + r * cols, cols);
}

void Add(float* a, const float* b, int64_t n) {
  if (n > 0) internal::Ops().add(a, b, n);
}

}  // namespace crm::kernels
