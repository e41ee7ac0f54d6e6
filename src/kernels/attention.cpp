// Multi-head scaled dot-product attention.
#include <algorithm>
#include <cstring>

#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/scratch.h"

namespace crm::kernels {
namespace {

constexpr int64_t kRowsPerTask = 16;

// Keys visible to query row i.
int64_t VisibleKeys(int64_t i, int64_t tq, int64_t tk, bool causal) {
  if (!causal) return tk;
  return std::clamp<int64_t>(i + (tk - tq) + 1, 0, tk);
}

// One query row against all its visible keys, scores materialised in `s` (tk floats).
void AttendRow(const float* q, const float* k, int64_t ldk, const float* v, int64_t ldv,
               int64_t visible, int dh, float scale, float* s, float* out) {
  const auto& ops = internal::Ops();
  std::fill(out, out + dh, 0.0f);
  if (visible == 0) return;
  for (int64_t j = 0; j < visible; ++j) {
    const float* kj = k + j * ldk;
    float d = 0.0f;
    for (int c = 0; c < dh; ++c) d += q[c] * kj[c];
    s[j] = d * scale;
  }
  const float m = ops.max(s, visible);
  const float inv = 1.0f / ops.exp_shift_sum(s, visible, m);
  ops.scale(s, visible, inv);
  for (int64_t j = 0; j < visible; ++j) {
    const float* vj = v + j * ldv;
    const float p = s[j];
    for (int c = 0; c < dh; ++c) out[c] += p * vj[c];
  }
}

}  // namespace

void Attention(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v,
               int64_t ldv, int64_t tq, int64_t tk, int heads, int dh, float scale, bool causal,
               float* out, int64_t ldout, float* attn_weights, ThreadPool* pool) {
  if (tq <= 0 || heads <= 0 || dh <= 0) return;
  const int64_t row_blocks = (tq + kRowsPerTask - 1) / kRowsPerTask;
  auto task = [&](int64_t t) {
    const int h = static_cast<int>(t / row_blocks);
    const int64_t i0 = (t % row_blocks) * kRowsPerTask;
    const int64_t i1 = std::min(tq, i0 + kRowsPerTask);
    float* s = internal::ThreadScratch(internal::kScratchAttn, static_cast<size_t>(std::max<int64_t>(tk, 1)));
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t visible = VisibleKeys(i, tq, tk, causal);
      AttendRow(q + i * ldq + h * dh, k + h * dh, ldk, v + h * dh, ldv, visible, dh, scale, s,
                out + i * ldout + h * dh);
      if (attn_weights != nullptr) {
        float* w = attn_weights + (static_cast<int64_t>(h) * tq + i) * tk;
        std::memcpy(w, s, sizeof(float) * visible);
        std::fill(w + visible, w + tk, 0.0f);
      }
    }
  };
  const int64_t tasks = row_blocks * heads;
  if (pool != nullptr) {
    pool->Run(tasks, task);
  } else {
    for (int64_t t = 0; t < tasks; ++t) task(t);
  }
}

}  // namespace crm::kernels
