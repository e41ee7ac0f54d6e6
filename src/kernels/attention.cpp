// Multi-head scaled dot-product attention, one sequence.
//
// Many query rows (the encoder: 1500): keys are packed per head as transposed micro-kernel panels
// and values as column panels, once per call. Each task takes one head and mr query rows: it
// computes their scores against every visible key with the GEMM micro-kernel (mr x tk floats, a
// few KB — never the tq x tk matrix), applies an exact softmax per row, and multiplies by the
// value panels with the micro-kernel reading the scores in place.
// Few query rows (the decoder): every key and value row is read once for all query rows.
#include <algorithm>
#include <cstring>

#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/scratch.h"

namespace crm::kernels {
namespace {

using internal::IsaOps;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Keys visible to query row i.
int64_t VisibleKeys(int64_t i, int64_t tq, int64_t tk, bool causal) {
  if (!causal) return tk;
  return std::clamp<int64_t>(i + (tk - tq) + 1, 0, tk);
}

void RunTasks(ThreadPool* pool, int64_t n, const std::function<void(int64_t)>& fn) {
  if (pool != nullptr) {
    pool->Run(n, fn);
  } else {
    for (int64_t i = 0; i < n; ++i) fn(i);
  }
}

// Softmax of row s over its `visible` entries, zero up to `width`.
void SoftmaxVisible(const IsaOps& ops, float* s, int64_t visible, int64_t width) {
  if (visible > 0) {
    const float m = ops.max(s, visible);
    ops.scale(s, visible, 1.0f / ops.exp_shift_sum(s, visible, m));
  }
  if (width > visible)
    std::memset(s + visible, 0, sizeof(float) * static_cast<size_t>(width - visible));
}

struct Problem {
  const float *q, *k, *v;
  const uint16_t *kh, *vh;  // f16 keys / values instead of k, v when set
  int64_t ldq, ldk, ldv, tq, tk;
  int heads, dh;
  float scale;
  bool causal;
  float* out;
  int64_t ldout;
  float* attn_weights;
};

void WriteWeights(const Problem& p, int h, int64_t i, const float* s, int64_t visible) {
  if (p.attn_weights == nullptr) return;
  float* w = p.attn_weights + (static_cast<int64_t>(h) * p.tq + i) * p.tk;
  std::memcpy(w, s, sizeof(float) * static_cast<size_t>(visible));
  std::fill(w + visible, w + p.tk, 0.0f);
}

// Few query rows: memory-bound on the keys and values, which are read whole and in order (a
// single head's slice of every row would be a strided read): scores for all heads by blocks of
// keys, softmax per head and row, then values for all heads over ranges of keys into private
// partial outputs that are summed at the end.
void FewRows(const Problem& p, ThreadPool* pool) {
  const IsaOps& ops = internal::Ops();
  const int rows = static_cast<int>(p.tq), heads = p.heads, dh = p.dh;
  const int64_t width = static_cast<int64_t>(heads) * dh;
  const int64_t n = VisibleKeys(p.tq - 1, p.tq, p.tk, p.causal);  // the last row sees the most
  const int64_t lds = std::max<int64_t>(n, 1);
  const int threads = pool ? pool->size() : 1;
  const int64_t parts = std::min<int64_t>(threads > 1 ? 2 * threads : 1, std::max<int64_t>(n, 1));
  float* s = internal::ThreadScratch(
      internal::kScratchAttn, static_cast<size_t>(heads * rows * lds + parts * rows * width));
  float* part = s + heads * rows * lds;

  constexpr int64_t kKeyBlock = 64;
  RunTasks(pool, CeilDiv(n, kKeyBlock), [&](int64_t t) {
    const int64_t j0 = t * kKeyBlock, len = std::min(kKeyBlock, n - j0);
    for (int h = 0; h < heads; ++h) {
      float* sh = s + static_cast<int64_t>(h) * rows * lds + j0;
      if (p.kh != nullptr) {
        ops.attn_scores_f16(p.q + h * dh, p.ldq, rows, p.kh + j0 * p.ldk + h * dh, p.ldk, len, dh,
                            p.scale, sh, lds);
      } else {
        ops.attn_scores(p.q + h * dh, p.ldq, rows, p.k + j0 * p.ldk + h * dh, p.ldk, len, dh,
                        p.scale, sh, lds);
      }
    }
  });
  RunTasks(pool, heads, [&](int64_t h) {
    for (int i = 0; i < rows; ++i) {
      float* row = s + (h * rows + i) * lds;
      const int64_t visible = VisibleKeys(i, p.tq, p.tk, p.causal);
      SoftmaxVisible(ops, row, visible, n);
      WriteWeights(p, static_cast<int>(h), i, row, visible);
    }
  });
  const int64_t span = CeilDiv(n, parts);
  RunTasks(pool, parts, [&](int64_t t) {
    float* pt = part + t * rows * width;
    std::memset(pt, 0, sizeof(float) * static_cast<size_t>(rows * width));
    const int64_t j0 = t * span, j1 = std::min(n, j0 + span);
    if (j0 >= j1) return;
    if (p.vh != nullptr) {
      ops.attn_values_all_heads_f16(s, lds, heads, rows, p.vh, p.ldv, j0, j1, dh, pt, width);
    } else {
      ops.attn_values_all_heads(s, lds, heads, rows, p.v, p.ldv, j0, j1, dh, pt, width);
    }
  });
  for (int i = 0; i < rows; ++i) {
    float* o = p.out + i * p.ldout;
    std::memcpy(o, part + i * width, sizeof(float) * static_cast<size_t>(width));
    for (int64_t t = 1; t < parts; ++t) ops.add(o, part + (t * rows + i) * width, width);
  }
}

void ManyRows(const Problem& p, ThreadPool* pool) {
  const IsaOps& ops = internal::Ops();
  const int mr = ops.mr, nr = ops.nr, dh = p.dh;
  const int64_t key_panels = CeilDiv(p.tk, nr);
  const int64_t lds = key_panels * nr;  // a score row, padded to whole panels
  const int64_t value_panels = CeilDiv(dh, nr);
  const int64_t k_size = key_panels * nr * dh;      // per head: [panel][p < dh][nr]
  const int64_t v_size = value_panels * p.tk * nr;  // per head: [panel][j < tk][nr]
  float* packed = internal::ThreadScratch(internal::kScratchPackB,
                                          static_cast<size_t>(p.heads * (k_size + v_size)));
  RunTasks(pool, p.heads, [&](int64_t h) {
    float* kp = packed + h * (k_size + v_size);
    float* vp = kp + k_size;
    for (int64_t jp = 0; jp < key_panels; ++jp) {
      float* panel = kp + jp * nr * dh;
      const int cols = static_cast<int>(std::min<int64_t>(nr, p.tk - jp * nr));
      if (cols < nr) std::memset(panel, 0, sizeof(float) * static_cast<size_t>(nr * dh));
      for (int jj = 0; jj < cols; ++jj) {
        const int64_t at = (jp * nr + jj) * p.ldk + h * dh;
        if (p.kh != nullptr) {
          for (int c = 0; c < dh; ++c) panel[c * nr + jj] = internal::HalfToFloat(p.kh[at + c]);
        } else {
          for (int c = 0; c < dh; ++c) panel[c * nr + jj] = p.k[at + c];
        }
      }
    }
    for (int64_t cp = 0; cp < value_panels; ++cp) {
      float* panel = vp + cp * p.tk * nr;
      const int cols = static_cast<int>(std::min<int64_t>(nr, dh - cp * nr));
      for (int64_t j = 0; j < p.tk; ++j) {
        float* dst = panel + j * nr;
        const int64_t at = j * p.ldv + h * dh + cp * nr;
        if (p.vh != nullptr) {
          ops.f16_to_f32(p.vh + at, dst, cols);
        } else {
          std::memcpy(dst, p.v + at, sizeof(float) * cols);
        }
        if (cols < nr) std::memset(dst + cols, 0, sizeof(float) * (nr - cols));
      }
    }
  });

  const int64_t row_blocks = CeilDiv(p.tq, mr);
  RunTasks(pool, p.heads * row_blocks, [&](int64_t t) {
    const int h = static_cast<int>(t / row_blocks);
    const int64_t i0 = (t % row_blocks) * mr;
    const int rows = static_cast<int>(std::min<int64_t>(mr, p.tq - i0));
    const float* kp = packed + h * (k_size + v_size);
    const float* vp = kp + k_size;
    float* qp = internal::ThreadScratch(internal::kScratchPackA, static_cast<size_t>(mr * dh));
    float* s = internal::ThreadScratch(internal::kScratchAttn, static_cast<size_t>(mr * lds));
    // Queries as one packed mr-row panel, with the scale folded in.
    for (int c = 0; c < dh; ++c) {
      for (int i = 0; i < mr; ++i) {
        qp[c * mr + i] = i < rows ? p.scale * p.q[(i0 + i) * p.ldq + h * dh + c] : 0.0f;
      }
    }
    const int64_t n = VisibleKeys(i0 + rows - 1, p.tq, p.tk, p.causal);
    if (n == 0) {
      for (int i = 0; i < rows; ++i) {
        std::memset(p.out + (i0 + i) * p.ldout + h * dh, 0, sizeof(float) * dh);
        WriteWeights(p, h, i0 + i, s, 0);
      }
      return;
    }
    for (int64_t jp = 0; jp < CeilDiv(n, nr); ++jp) {
      ops.gemm_tile(dh, qp, kp + jp * nr * dh, s + jp * nr, lds, rows, nr, false);
    }
    for (int i = 0; i < rows; ++i) {
      const int64_t visible = VisibleKeys(i0 + i, p.tq, p.tk, p.causal);
      SoftmaxVisible(ops, s + i * lds, visible, n);
      WriteWeights(p, h, i0 + i, s + i * lds, visible);
    }
    for (int64_t cp = 0; cp < value_panels; ++cp) {
      const int cols = static_cast<int>(std::min<int64_t>(nr, dh - cp * nr));
      ops.gemm_tile_rows(n, s, lds, vp + cp * p.tk * nr, p.out + i0 * p.ldout + h * dh + cp * nr,
                         p.ldout, rows, cols, false);
    }
  });
}

void Run(const Problem& p, ThreadPool* pool) {
  const int64_t tq = p.tq, tk = p.tk;
  if (tq <= 0 || p.heads <= 0 || p.dh <= 0) return;
  if (tk <= 0) {
    for (int64_t i = 0; i < tq; ++i) {
      std::memset(p.out + i * p.ldout, 0, sizeof(float) * p.heads * p.dh);
    }
    return;
  }
  if (tq < internal::Ops().mr) {
    FewRows(p, pool);
  } else {
    ManyRows(p, pool);
  }
}

}  // namespace

int64_t PackedKVSize(int64_t capacity, int heads, int dh) { return capacity * heads * dh; }

void PackKeysHalf(const float* k, int64_t ldk, int64_t j0, int64_t count, int heads, int dh,
                  int64_t capacity, uint16_t* packed) {
  const int64_t width = static_cast<int64_t>(heads) * dh;
  auto* row = reinterpret_cast<uint16_t*>(
      internal::ThreadScratch(internal::kScratchTile, static_cast<size_t>(width + 1) / 2));
  for (int64_t j = j0; j < j0 + count; ++j) {
    internal::Ops().f32_to_f16(k + (j - j0) * ldk, row, width);
    const int64_t block = j / kPackedKeyBlock, lane = j % kPackedKeyBlock;
    for (int h = 0; h < heads; ++h) {
      uint16_t* dst = packed + (h * capacity + block * kPackedKeyBlock) * dh + lane;
      const uint16_t* src = row + h * dh;
      for (int c = 0; c < dh; ++c) dst[c * kPackedKeyBlock] = src[c];
    }
  }
}

void PackValuesHalf(const float* v, int64_t ldv, int64_t j0, int64_t count, int heads, int dh,
                    int64_t capacity, uint16_t* packed) {
  for (int64_t j = j0; j < j0 + count; ++j) {
    for (int h = 0; h < heads; ++h) {
      internal::Ops().f32_to_f16(v + (j - j0) * ldv + h * dh, packed + (h * capacity + j) * dh, dh);
    }
  }
}

void AttentionPacked(const float* q, int64_t ldq, int64_t tq, int sequences,
                     const uint16_t* const* keys, const uint16_t* const* values, int64_t capacity,
                     int64_t tk, int heads, int dh, float scale, bool causal, float* out,
                     int64_t ldout, float* attn_weights, ThreadPool* pool) {
  if (tq <= 0 || sequences <= 0 || heads <= 0 || dh <= 0) return;
  const IsaOps& ops = internal::Ops();
  // Rows per task: all of them for the decoder's steps, blocks of 8 for a prompt.
  constexpr int64_t kRowBlock = 8;
  const int64_t row_blocks = CeilDiv(tq, kRowBlock);
  const int64_t rows_total = sequences * tq;
  RunTasks(pool, sequences * heads * row_blocks, [&](int64_t t) {
    const int64_t s = t / (heads * row_blocks);
    const int h = static_cast<int>(t / row_blocks % heads);
    const int64_t i0 = t % row_blocks * kRowBlock;
    const int rows = static_cast<int>(std::min(kRowBlock, tq - i0));
    const int64_t first = s * tq + i0;  // first row of the task among all rows
    const int64_t n = tk <= 0 ? 0 : VisibleKeys(i0 + rows - 1, tq, tk, causal);
    float* o = out + first * ldout + static_cast<int64_t>(h) * dh;
    if (n == 0) {
      for (int i = 0; i < rows; ++i) std::memset(o + i * ldout, 0, sizeof(float) * dh);
    }
    const int64_t lds = std::max<int64_t>(CeilDiv(n, 16) * 16, 16);
    float* sc = internal::ThreadScratch(internal::kScratchAttn, static_cast<size_t>(rows * lds));
    if (n > 0) {
      const uint16_t* kh = keys[s] + static_cast<int64_t>(h) * capacity * dh;
      const uint16_t* vh = values[s] + static_cast<int64_t>(h) * capacity * dh;
      ops.attn_scores_packed_f16(q + first * ldq + static_cast<int64_t>(h) * dh, ldq, rows, kh, n,
                                 dh, scale, sc, lds);
      for (int i = 0; i < rows; ++i) {
        SoftmaxVisible(ops, sc + i * lds, VisibleKeys(i0 + i, tq, tk, causal), n);
      }
      ops.attn_values_f16(sc, lds, rows, vh, dh, n, dh, o, ldout);
    }
    if (attn_weights != nullptr) {
      for (int i = 0; i < rows; ++i) {
        float* w = attn_weights + (static_cast<int64_t>(h) * rows_total + first + i) * tk;
        const int64_t visible = n == 0 ? 0 : VisibleKeys(i0 + i, tq, tk, causal);
        if (visible > 0) std::memcpy(w, sc + i * lds, sizeof(float) * static_cast<size_t>(visible));
        std::fill(w + visible, w + tk, 0.0f);
      }
    }
  });
}

void Attention(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v,
               int64_t ldv, int64_t tq, int64_t tk, int heads, int dh, float scale, bool causal,
               float* out, int64_t ldout, float* attn_weights, ThreadPool* pool) {
  Run({q, k, v, nullptr, nullptr, ldq, ldk, ldv, tq, tk, heads, dh, scale, causal, out, ldout,
       attn_weights},
      pool);
}

void AttentionHalfKV(const float* q, int64_t ldq, const uint16_t* k, int64_t ldk, const uint16_t* v,
                     int64_t ldv, int64_t tq, int64_t tk, int heads, int dh, float scale,
                     bool causal, float* out, int64_t ldout, float* attn_weights,
                     ThreadPool* pool) {
  Run({q, nullptr, nullptr, k, v, ldq, ldk, ldv, tq, tk, heads, dh, scale, causal, out, ldout,
       attn_weights},
      pool);
}

}  // namespace crm::kernels
