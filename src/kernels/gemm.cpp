// GEMM drivers: Sgemm and MatMulWeights.
//
// Large products use the classic packed scheme: a kc-deep slice of B is packed once into
// nr-column panels (converting f16 / quantized weights to f32 on the way), shared by all threads;
// each task packs an mc x kc block of A into mr-row panels and sweeps the micro-kernel over its
// columns. Products with few rows against a weight matrix (the decoder, one row per beam) are
// memory-bound instead: they stream every weight row once for all rows of x (weight_rows).
#include <algorithm>
#include <cstring>

#include "kernels/int8.h"
#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/scratch.h"

namespace crm::kernels {
namespace {

using internal::IsaOps;
using internal::Ops;
using internal::ThreadScratch;

// Depth of one packed slice (a multiple of 32, so quantized blocks are never split). Deep slices
// keep the C tile in registers longer; measured best on the encoder shapes (k = 512, 2048).
constexpr int64_t kKc = 1024;
// Columns per packed block of B (the encoder's products have at most 2048).
constexpr int64_t kNc = 4096;
// Target rows of A per task.
constexpr int64_t kMcTarget = 120;
// At most this many rows of x go through the streaming path of MatMulWeights.
constexpr int64_t kStreamRowsMax = 8;
// Tasks per thread of a streamed product: threads take tasks as they come, so a thread that
// starts late (woken, descheduled) costs at most one small task of imbalance.
constexpr int64_t kTasksPerThread = 8;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

void RunTasks(ThreadPool* pool, int64_t n, const std::function<void(int64_t)>& fn) {
  if (pool != nullptr) {
    pool->Run(n, fn);
  } else {
    for (int64_t i = 0; i < n; ++i) fn(i);
  }
}

// Where the B operand comes from: B(p, j0 + j) for p < k, j < n.
struct BSource {
  int64_t j0 = 0;            // first column
  const float* b = nullptr;  // dense f32
  int64_t ldb = 0;
  bool trans = false;             // B(p, j) = b[j*ldb + p] instead of b[p*ldb + j]
  const WeightView* w = nullptr;  // weights: B(p, j) = W[j][p]
};

// Packs B(p0 .. p0+kc, j0 .. j0+cols) as one nr-wide panel (p-major), zero-padding columns.
void PackBPanel(const BSource& src, int64_t p0, int64_t kc, int64_t j0, int cols, int nr,
                float* out, float* row_tmp) {
  if (cols < nr) std::memset(out, 0, sizeof(float) * static_cast<size_t>(kc * nr));
  if (src.w == nullptr && !src.trans) {
    for (int64_t p = 0; p < kc; ++p) {
      std::memcpy(out + p * nr, src.b + (p0 + p) * src.ldb + src.j0 + j0, sizeof(float) * cols);
    }
    return;
  }
  j0 += src.j0;
  for (int jj = 0; jj < cols; ++jj) {
    const float* row;
    if (src.w != nullptr) {
      const auto* base = static_cast<const uint8_t*>(src.w->data);
      const int64_t row_bytes = RowBytes(src.w->type, src.w->cols);
      DequantizeRow(base + (j0 + jj) * row_bytes + RowBytes(src.w->type, p0), src.w->type, kc,
                    row_tmp);
      row = row_tmp;
    } else {
      row = src.b + (j0 + jj) * src.ldb + p0;
    }
    for (int64_t p = 0; p < kc; ++p) out[p * nr + jj] = row[p];
  }
}

// Packs alpha * op(A)(i0 .. i0+rows, p0 .. p0+kc) as mr-row panels (p-major), zero-padding rows.
void PackABlock(const float* a, int64_t lda, bool trans, float alpha, int64_t i0, int64_t rows,
                int64_t p0, int64_t kc, int mr, float* out) {
  for (int64_t ir = 0; ir < rows; ir += mr) {
    const int r = static_cast<int>(std::min<int64_t>(mr, rows - ir));
    float* panel = out + ir * kc;
    if (r < mr) std::memset(panel, 0, sizeof(float) * static_cast<size_t>(kc * mr));
    for (int i = 0; i < r; ++i) {
      const int64_t row = i0 + ir + i;
      if (!trans) {
        const float* src = a + row * lda + p0;
        for (int64_t p = 0; p < kc; ++p) panel[p * mr + i] = alpha * src[p];
      } else {
        const float* src = a + p0 * lda + row;
        for (int64_t p = 0; p < kc; ++p) panel[p * mr + i] = alpha * src[p * lda];
      }
    }
  }
}

// C(m x n) (+)= alpha * op(A) * B for at most kNc columns.
void PackedGemmColumns(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                       bool trans_a, const BSource& b, float* c, int64_t ldc, bool first_overwrites,
                       ThreadPool* pool) {
  const IsaOps& ops = Ops();
  const int mr = ops.mr, nr = ops.nr;
  const int threads = pool ? pool->size() : 1;
  const int64_t panels = CeilDiv(n, nr);
  const int64_t kc_max = std::min(kKc, k);
  // The shared packed slice of B lives in the calling thread's scratch.
  float* packed_b =
      ThreadScratch(internal::kScratchPackB, static_cast<size_t>(panels * nr * kc_max));

  // Tasks: blocks of rows x blocks of panels, enough of them to keep every thread busy.
  const int64_t mc =
      std::max<int64_t>(mr, std::min(CeilDiv(kMcTarget, mr) * mr, CeilDiv(m, mr) * mr));
  const int64_t m_blocks = CeilDiv(m, mc);
  int64_t n_blocks = 1;
  if (threads > 1 && m_blocks < 4 * threads) {
    n_blocks = std::min(panels, CeilDiv(4 * threads, m_blocks));
  }
  const int64_t panels_per_block = CeilDiv(panels, n_blocks);
  n_blocks = CeilDiv(panels, panels_per_block);

  for (int64_t p0 = 0; p0 < k; p0 += kKc) {
    const int64_t kc = std::min(kKc, k - p0);
    const bool accumulate = !(first_overwrites && p0 == 0);
    const int64_t pack_chunk = std::max<int64_t>(1, CeilDiv(panels, 4 * threads));
    RunTasks(pool, CeilDiv(panels, pack_chunk), [&](int64_t t) {
      float* tmp = ThreadScratch(internal::kScratchTile, static_cast<size_t>(kc));
      const int64_t end = std::min(panels, (t + 1) * pack_chunk);
      for (int64_t jp = t * pack_chunk; jp < end; ++jp) {
        const int cols = static_cast<int>(std::min<int64_t>(nr, n - jp * nr));
        PackBPanel(b, p0, kc, jp * nr, cols, nr, packed_b + jp * nr * kc, tmp);
      }
    });
    RunTasks(pool, m_blocks * n_blocks, [&](int64_t t) {
      const int64_t mb = t / n_blocks, nb = t % n_blocks;
      const int64_t i0 = mb * mc, rows = std::min(mc, m - i0);
      // A row-major and unscaled is read in place, unless its rows are a multiple of 4 KB apart:
      // then the mr rows fall into the same L1 sets and evict one another, so it is packed.
      const bool in_place = !trans_a && alpha == 1.0f && (lda % 1024) != 0;
      float* packed_a = nullptr;
      if (!in_place) {
        packed_a = ThreadScratch(internal::kScratchPackA, static_cast<size_t>(mc * kc));
        PackABlock(a, lda, trans_a, alpha, i0, rows, p0, kc, mr, packed_a);
      }
      const int64_t jp_end = std::min(panels, (nb + 1) * panels_per_block);
      for (int64_t jp = nb * panels_per_block; jp < jp_end; ++jp) {
        const int cols = static_cast<int>(std::min<int64_t>(nr, n - jp * nr));
        const float* bp = packed_b + jp * nr * kc;
        for (int64_t ir = 0; ir < rows; ir += mr) {
          const int r = static_cast<int>(std::min<int64_t>(mr, rows - ir));
          float* ct = c + (i0 + ir) * ldc + jp * nr;
          if (in_place) {
            ops.gemm_tile_rows(kc, a + (i0 + ir) * lda + p0, lda, bp, ct, ldc, r, cols, accumulate);
          } else {
            ops.gemm_tile(kc, packed_a + ir * kc, bp, ct, ldc, r, cols, accumulate);
          }
        }
      }
    });
  }
}

// C(m x n) (+)= alpha * op(A) * B. first_overwrites: the first slice writes C instead of adding.
// Wide products (the vocabulary) go kNc columns at a time, bounding the packed slice of B.
void PackedGemm(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                bool trans_a, const BSource& b, float* c, int64_t ldc, bool first_overwrites,
                ThreadPool* pool) {
  for (int64_t j0 = 0; j0 < n; j0 += kNc) {
    BSource block = b;
    block.j0 = b.j0 + j0;
    PackedGemmColumns(m, std::min(kNc, n - j0), k, alpha, a, lda, trans_a, block, c + j0, ldc,
                      first_overwrites, pool);
  }
}

}  // namespace

void Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
           ThreadPool* pool) {
  if (m <= 0 || n <= 0) return;
  if (beta != 1.0f && !(beta == 0.0f && k > 0 && alpha != 0.0f)) {
    for (int64_t i = 0; i < m; ++i) {
      float* ci = c + i * ldc;
      if (beta == 0.0f) {
        std::fill(ci, ci + n, 0.0f);
      } else {
        for (int64_t j = 0; j < n; ++j) ci[j] *= beta;
      }
    }
  }
  if (k <= 0 || alpha == 0.0f) return;
  BSource src;
  src.b = b;
  src.ldb = ldb;
  src.trans = trans_b;
  PackedGemm(m, n, k, alpha, a, lda, trans_a, src, c, ldc, /*first_overwrites=*/beta == 0.0f, pool);
}

void MatMulWeightsBatch(const float* x, int64_t m, int64_t ldx, const WeightProduct* products,
                        int count, ThreadPool* pool) {
  if (m <= 0 || count <= 0) return;
  const IsaOps& ops = Ops();
  if (m <= kStreamRowsMax) {
    // Tasks of at least 16 weight rows, several per thread and matrix for balance, numbered
    // across all the matrices so one pass of the pool covers them.
    const int threads = pool ? pool->size() : 1;
    int64_t chunks[8], first[9] = {0};
    WeightProduct local[8];
    for (int done = 0; done < count; done += 8) {
      const int batch = std::min(8, count - done);
      for (int b = 0; b < batch; ++b) {
        local[b] = products[done + b];
        const int64_t n = local[b].w.rows;
        chunks[b] = std::max<int64_t>(16, CeilDiv(CeilDiv(n, kTasksPerThread * threads), 16) * 16);
        first[b + 1] = first[b] + CeilDiv(n, chunks[b]);
      }
      RunTasks(pool, first[batch], [&](int64_t t) {
        int b = 0;
        while (t >= first[b + 1]) ++b;
        const WeightProduct& p = local[b];
        const int64_t r0 = (t - first[b]) * chunks[b], r1 = std::min(p.w.rows, r0 + chunks[b]);
        ops.weight_rows(p.w.type, x, m, ldx, p.w.data, p.w.cols, r0, r1, p.bias, p.y, p.ldy,
                        p.accumulate);
        if (p.gelu) {
          for (int64_t i = 0; i < m; ++i) ops.gelu(p.y + i * p.ldy + r0, r1 - r0);
        }
      });
    }
    return;
  }
  for (int c = 0; c < count; ++c) {
    const WeightProduct& p = products[c];
    const int64_t n = p.w.rows, k = p.w.cols;
    if (n <= 0) continue;
    const bool overwrite = !p.accumulate && p.bias == nullptr;
    if (p.bias != nullptr) {
      for (int64_t i = 0; i < m; ++i) {
        float* yi = p.y + i * p.ldy;
        if (p.accumulate) {
          ops.add(yi, p.bias, n);
        } else {
          std::memcpy(yi, p.bias, sizeof(float) * n);
        }
      }
    }
    if (k > 0) {
      // q8_0 weights on a VNNI CPU: the integer path; otherwise the f32 packed GEMM.
      if (!internal::MatMulQ8Int8(x, m, ldx, p.w, p.y, p.ldy, overwrite, pool)) {
        BSource src;
        src.w = &p.w;
        PackedGemm(m, n, k, 1.0f, x, ldx, false, src, p.y, p.ldy, overwrite, pool);
      }
    } else if (overwrite) {
      for (int64_t i = 0; i < m; ++i) std::fill(p.y + i * p.ldy, p.y + i * p.ldy + n, 0.0f);
    }
    if (p.gelu) {
      for (int64_t i = 0; i < m; ++i) Gelu(p.y + i * p.ldy, n, pool);
    }
  }
}

void MatMulWeights(const float* x, int64_t m, int64_t ldx, const WeightView& w, const float* bias,
                   float* y, int64_t ldy, ThreadPool* pool) {
  WeightProduct p;
  p.w = w;
  p.bias = bias;
  p.y = y;
  p.ldy = ldy;
  MatMulWeightsBatch(x, m, ldx, &p, 1, pool);
}

}  // namespace crm::kernels
