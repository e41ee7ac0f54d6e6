// Numeric kernels for the speech engines: matrix products against weight matrices stored in the
// whisper/ggml tensor types, f32 GEMM, and the element-wise operations of a transformer.
//
// Everything is row-major f32 unless a WeightView says otherwise. Functions that take a
// ThreadPool* split their work over it (nullptr = the calling thread only). The implementation
// picks AVX-512 / AVX2+FMA / generic code once at run time (CpuFeatures()); results agree across
// paths to f32 rounding. No function allocates in its inner loops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace crm::kernels {

// Tensor element types, numbered as in the ggml file format.
enum class DType : int32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
};

const char* DTypeName(DType t);
bool IsSupported(DType t);
// Elements per block (1 for f32/f16, 32 for the quantized types) and bytes per block.
int64_t BlockElements(DType t);
int64_t BlockBytes(DType t);
// Bytes of one row of `cols` elements (cols must be a multiple of BlockElements).
int64_t RowBytes(DType t, int64_t cols);

// A weight matrix W of `rows` x `cols` (row r holds the `cols` weights of output r), stored
// row-major in `type`'s layout, as in a ggml file. Not owned.
struct WeightView {
  const void* data = nullptr;
  DType type = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
};

// A fixed set of worker threads. Run(n, fn) calls fn(i) for i in [0, n) across the workers and
// the calling thread, returning when all are done. Not reentrant.
class ThreadPool {
 public:
  explicit ThreadPool(int threads);  // total threads including the caller; >= 1
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  int size() const;
  void Run(int64_t n, const std::function<void(int64_t)>& fn);

 private:
  struct Impl;
  Impl* impl_;
};

std::string CpuFeatures();  // e.g. "avx512f avx2 fma f16c" — what the dispatcher found

// The instruction-set paths. The best one the CPU supports is chosen at first use.
enum class Isa { kGeneric = 0, kAvx2 = 1, kAvx512 = 2 };
const char* IsaName(Isa isa);  // "generic", "avx2", "avx512"
bool IsaAvailable(Isa isa);    // compiled in and supported by this CPU
Isa ActiveIsa();
// Forces a path, for tests and benchmarks that compare paths. Returns false and changes nothing
// when the path is not available. Must not race with running kernels.
bool SetIsaForTesting(Isa isa);
// Products of many rows (> 8) by q8_0 weights take an integer path on CPUs with AVX-512 VNNI
// (int8.h): x is quantized to q8_0 blocks and the dot products are exact int8 ones. True when
// the active path has it. The setter turns it off (or back on where available), for tests and
// benchmarks that compare it with the f32 path; returns whether it is now in use.
bool Int8ProductsAvailable();
bool SetInt8ProductsForTesting(bool enabled);

// y[m][n] = sum_k x[m][k] * W[n][k] (+ bias[n] when bias != nullptr).
// x: m rows, leading dimension ldx (>= W.cols); y: leading dimension ldy (>= W.rows).
void MatMulWeights(const float* x, int64_t m, int64_t ldx, const WeightView& w, const float* bias,
                   float* y, int64_t ldy, ThreadPool* pool);

// One product of MatMulWeightsBatch: y = x * W^T (+ bias), followed by GELU when `gelu`, or
// added to y when `accumulate` (y += x * W^T (+ bias); not with gelu).
struct WeightProduct {
  WeightView w;
  const float* bias = nullptr;
  float* y = nullptr;
  int64_t ldy = 0;  // >= w.rows
  bool accumulate = false;
  bool gelu = false;
};

// The products of one x by several weight matrices (all with x's width as columns). With few
// rows of x (the decoder: m <= 8) they run in ONE parallel region, the weight rows of every
// matrix split over the threads together, so a decoder layer costs a few passes of the pool
// rather than one per matrix; otherwise one after the other. Same results as separate calls.
void MatMulWeightsBatch(const float* x, int64_t m, int64_t ldx, const WeightProduct* products,
                        int count, ThreadPool* pool);

// C = alpha * op(A) * op(B) + beta * C, f32, row-major. op(A) is m x k, op(B) is k x n.
void Sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
           ThreadPool* pool);

// Row-wise layer normalisation in place: x = (x - mean) / sqrt(var + eps) * gamma + beta.
void LayerNorm(float* x, int64_t rows, int64_t cols, const float* gamma, const float* beta,
               float eps, ThreadPool* pool);
// GELU with the exact erf form, in place (the second form splits large arrays over the pool).
void Gelu(float* x, int64_t n);
void Gelu(float* x, int64_t n, ThreadPool* pool);
// Row-wise softmax in place (numerically stable).
void Softmax(float* x, int64_t rows, int64_t cols);
// a[i] += b[i]
void Add(float* a, const float* b, int64_t n);
// The largest x[i] for i < n (-inf when n == 0).
float Max(const float* x, int64_t n);
// log(sum_i exp(x[i])) for i < n; -inf when n == 0 or every x[i] is -inf (suppressed logits).
float LogSumExp(const float* x, int64_t n);
// The index of the largest x[i] (the first one on ties; x holds no NaN); 0 when n == 0.
int64_t ArgMax(const float* x, int64_t n);

// f16 (IEEE binary16 bits) <-> f32.
void F16ToF32(const uint16_t* in, float* out, int64_t n);
void F32ToF16(const float* in, uint16_t* out, int64_t n);
// Converts one row of `cols` elements of any supported type to f32.
void DequantizeRow(const void* row, DType type, int64_t cols, float* out);
// Writes one row of `cols` f32 values in `type`'s layout (RowBytes(type, cols) bytes), rounding
// as ggml's reference quantizers do, so that written model files match ggml's own.
void QuantizeRow(const float* in, DType type, int64_t cols, void* out);

// Multi-head scaled dot-product attention for one sequence:
// q: [tq, heads*dh], k, v: [tk, heads*dh] (leading dims ldq, ldk, ldv); out: [tq, heads*dh].
// causal: position i attends to keys j <= i + (tk - tq) (a row that sees no key gets zeros).
// scale is usually 1/sqrt(dh).
// If attn_weights != nullptr, the softmaxed weights [heads][tq][tk] are written there (for
// word timestamps from cross-attention).
void Attention(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v,
               int64_t ldv, int64_t tq, int64_t tk, int heads, int dh, float scale, bool causal,
               float* out, int64_t ldout, float* attn_weights, ThreadPool* pool);

// Attention as above with keys and values stored as f16 (IEEE binary16 bits). The decoder reads
// the same audio keys and values for every token; in f16 that traffic is halved.
void AttentionHalfKV(const float* q, int64_t ldq, const uint16_t* k, int64_t ldk, const uint16_t* v,
                     int64_t ldv, int64_t tq, int64_t tk, int heads, int dh, float scale,
                     bool causal, float* out, int64_t ldout, float* attn_weights, ThreadPool* pool);

// Keys and values packed for attention by a few query rows at a time (the decoder), in f16.
// Each head's keys are blocks of kPackedKeyBlock positions, a block stored transposed
// ([dh][kPackedKeyBlock]), and each head's values are rows of dh ([position][dh]): a head is two
// sequential streams, its scores need no horizontal sums, and one task per head computes scores,
// softmax and values with nothing to combine across tasks. A buffer holds `capacity` positions
// (a multiple of kPackedKeyBlock): PackedKVSize elements for the keys, as many for the values.
inline constexpr int64_t kPackedKeyBlock = 64;
int64_t PackedKVSize(int64_t capacity, int heads, int dh);
// Writes positions [j0, j0 + count) from f32 rows ([count][heads*dh], leading dimension ld).
void PackKeysHalf(const float* k, int64_t ldk, int64_t j0, int64_t count, int heads, int dh,
                  int64_t capacity, uint16_t* packed);
void PackValuesHalf(const float* v, int64_t ldv, int64_t j0, int64_t count, int heads, int dh,
                    int64_t capacity, uint16_t* packed);

// Attention (as Attention above) of `sequences` independent sequences, each with tq query rows
// (sequence s: rows [s*tq, (s+1)*tq) of q and out) over its own packed keys and values
// (keys[s], values[s]; the first tk positions). Query rows sharing the same keys (beams in
// cross-attention) should be one sequence. attn_weights, when given: [heads][sequences*tq][tk].
// One pass of the pool for everything: tasks are (sequence, head, block of rows).
void AttentionPacked(const float* q, int64_t ldq, int64_t tq, int sequences,
                     const uint16_t* const* keys, const uint16_t* const* values, int64_t capacity,
                     int64_t tk, int heads, int dh, float scale, bool causal, float* out,
                     int64_t ldout, float* attn_weights, ThreadPool* pool);

}  // namespace crm::kernels
