// Leaf kernels compiled for AVX2 with FMA and F16C. Everything here is behind the target pragma
// and in an anonymous namespace, so no avx2 instruction can leak into code run on other CPUs; the
// dispatcher only hands this table out when the CPU supports it.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/isa.h"
#include "kernels/scratch.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")


namespace crm::kernels::internal {
namespace {

#include "kernels/simd_traits.h"
#include "kernels/ops_simd.inc"
#include "kernels/weight_rows_simd.inc"

constexpr IsaOps kOps = {
    Isa::kAvx2, kMr,         kNr,        GemmTilePacked, GemmTileRowMajorA, WeightRows,
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
const IsaOps* Avx2Ops() { return &kOps; }

}  // namespace crm::kernels::internal
