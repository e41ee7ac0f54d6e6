// Leaf kernels compiled for AVX-512 (F, BW, VL, DQ) with FMA and F16C. Everything here is behind
// the target pragma and in an anonymous namespace, so no avx512 instruction can leak into code run on other CPUs; the
// dispatcher only hands this table out when the CPU supports it.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/isa.h"
#include "kernels/scratch.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -Wuninitialized reports
// once they are inlined here.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")
#define CRM_SIMD_AVX512 1

namespace crm::kernels::internal {
namespace {

#include "kernels/simd_traits.h"
#include "kernels/ops_simd.inc"
#include "kernels/weight_rows_simd.inc"

constexpr IsaOps kOps = {
    Isa::kAvx512, kMr,         kNr,        GemmTilePacked, GemmTileRowMajorA, WeightRows,
    F16ToF32,  F32ToF16,    LayerNormRow, Gelu,         SoftmaxRow,        AddVec,
    MaxOf,     ExpShiftSum, ExpSum,     Scale,      AttnScoresF32,  AttnValuesF32,
    AttnValuesAllHeadsF32, AttnValuesAllHeadsF16, AttnScoresF16, AttnValuesF16,
    AttnScoresPackedF16,
};

}  // namespace
}  // namespace crm::kernels::internal

#pragma GCC pop_options

namespace crm::kernels::internal {

// Compiled for the baseline, so that asking for the table is safe on any CPU.
const IsaOps* Avx512Ops() { return &kOps; }

}  // namespace crm::kernels::internal
