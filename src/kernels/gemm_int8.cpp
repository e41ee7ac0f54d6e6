// Driver of the integer q8_0 path (int8.h): x quantized once per call, the weights packed once
// per call into VNNI panels (both shared by every thread, one pass of the pool), then tasks of
// row blocks x panel ranges sweep the 4 x 32 micro-kernel over the whole depth.
#include <algorithm>
#include <cstring>

#include "kernels/int8.h"
#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "kernels/scratch.h"

namespace crm::kernels::internal {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Rows of x per quantization task, target rows per tile task.
constexpr int64_t kQuantRows = 64;
constexpr int64_t kMcTarget = 120;

void RunTasks(ThreadPool* pool, int64_t n, const std::function<void(int64_t)>& fn) {
  if (pool != nullptr) {
    pool->Run(n, fn);
  } else {
    for (int64_t i = 0; i < n; ++i) fn(i);
  }
}

// One panel of kInt8Nr weight rows (output columns) starting at row j0, every block of depth.
void PackPanel(const WeightView& w, int64_t j0, uint8_t* out) {
  const int64_t blocks = w.cols / 32, row_bytes = RowBytes(DType::kQ8_0, w.cols);
  const auto* base = static_cast<const uint8_t*>(w.data);
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t* dst = out + b * kInt8PanelBlockBytes;
    int32_t corr[kInt8Nr];
    float scale[kInt8Nr];
    uint8_t* q = dst + 2 * 4 * kInt8Nr;
    for (int c = 0; c < kInt8Nr; ++c) {
      const int64_t j = j0 + c;
      if (j >= w.rows) {
        corr[c] = 0;
        scale[c] = 0.0f;
        for (int g = 0; g < 8; ++g) std::memset(q + g * 4 * kInt8Nr + c * 4, 0, 4);
        continue;
      }
      const uint8_t* block = base + j * row_bytes + b * 34;
      uint16_t h;
      std::memcpy(&h, block, 2);
      scale[c] = HalfToFloat(h);
      const auto* wq = reinterpret_cast<const int8_t*>(block + 2);
      int32_t sum = 0;
      for (int p = 0; p < 32; ++p) sum += wq[p];
      corr[c] = -128 * sum;
      for (int g = 0; g < 8; ++g) std::memcpy(q + g * 4 * kInt8Nr + c * 4, wq + 4 * g, 4);
    }
    std::memcpy(dst, corr, sizeof corr);
    std::memcpy(dst + 4 * kInt8Nr, scale, sizeof scale);
  }
}

}  // namespace

// y (overwrite ? = : +=) x * W^T for q8_0 weights through the integer path. False (nothing
// done) when the path does not apply: no VNNI, another type, or a depth not made of blocks.
bool MatMulQ8Int8(const float* x, int64_t m, int64_t ldx, const WeightView& w, float* y,
                  int64_t ldy, bool overwrite, ThreadPool* pool) {
  const Int8Ops* ops = Int8Path();
  if (ops == nullptr || w.type != DType::kQ8_0 || w.cols <= 0 || w.cols % 32 != 0) return false;
  const int64_t k = w.cols, n = w.rows, blocks = k / 32;
  const int64_t panels = CeilDiv(n, kInt8Nr);
  const int64_t xq_bytes = (m * k + 63) / 64 * 64;
  float* x_room = ThreadScratch(kScratchInt8X, static_cast<size_t>(xq_bytes / 4 + m * blocks));
  auto* xq = reinterpret_cast<uint8_t*>(x_room);
  float* dx = x_room + xq_bytes / 4;
  auto* packed = reinterpret_cast<uint8_t*>(ThreadScratch(
      kScratchInt8W, static_cast<size_t>(panels * blocks * kInt8PanelBlockBytes / 4)));

  // Quantization of x and packing of W share one pass of the pool.
  const int threads = pool ? pool->size() : 1;
  const int64_t quant_tasks = CeilDiv(m, kQuantRows);
  const int64_t pack_chunk = std::max<int64_t>(1, CeilDiv(panels, 4 * threads));
  const int64_t pack_tasks = CeilDiv(panels, pack_chunk);
  RunTasks(pool, quant_tasks + pack_tasks, [&](int64_t t) {
    if (t < quant_tasks) {
      const int64_t i0 = t * kQuantRows, rows = std::min(kQuantRows, m - i0);
      ops->quantize_rows(x + i0 * ldx, rows, ldx, k, xq + i0 * k, dx + i0 * blocks);
      return;
    }
    t -= quant_tasks;
    const int64_t end = std::min(panels, (t + 1) * pack_chunk);
    for (int64_t jp = t * pack_chunk; jp < end; ++jp)
      PackPanel(w, jp * kInt8Nr, packed + jp * blocks * kInt8PanelBlockBytes);
  });

  const int64_t mc = std::max<int64_t>(
      kInt8Mr, std::min(CeilDiv(kMcTarget, kInt8Mr) * kInt8Mr, CeilDiv(m, kInt8Mr) * kInt8Mr));
  const int64_t m_blocks = CeilDiv(m, mc);
  int64_t n_blocks = 1;
  if (threads > 1 && m_blocks < 4 * threads) n_blocks = std::min(panels, CeilDiv(4 * threads, m_blocks));
  const int64_t per_block = CeilDiv(panels, n_blocks);
  n_blocks = CeilDiv(panels, per_block);
  RunTasks(pool, m_blocks * n_blocks, [&](int64_t t) {
    const int64_t mb = t / n_blocks, nb = t % n_blocks;
    const int64_t i0 = mb * mc, rows = std::min(mc, m - i0);
    const int64_t jp_end = std::min(panels, (nb + 1) * per_block);
    for (int64_t jp = nb * per_block; jp < jp_end; ++jp) {
      const int cols = static_cast<int>(std::min<int64_t>(kInt8Nr, n - jp * kInt8Nr));
      const uint8_t* panel = packed + jp * blocks * kInt8PanelBlockBytes;
      for (int64_t ir = 0; ir < rows; ir += kInt8Mr) {
        const int r = static_cast<int>(std::min<int64_t>(kInt8Mr, rows - ir));
        const int64_t row = i0 + ir;
        ops->tile(blocks, xq + row * k, dx + row * blocks, panel, y + row * ldy + jp * kInt8Nr,
                  ldy, r, cols, !overwrite);
      }
    }
  });
  return true;
}

}  // namespace crm::kernels::internal
