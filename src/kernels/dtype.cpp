// Element types of the ggml file format: sizes, f16 conversion, block (de)quantization.
//
// Block layouts (32 elements per block, little-endian):
//   q8_0: f16 d, int8 q[32]                      x = d * q
//   q4_0: f16 d, u8 nib[16]                      x = d * (q - 8)
//   q4_1: f16 d, f16 m, u8 nib[16]               x = d * q + m
//   q5_0: f16 d, u32 qh, u8 nib[16]              x = d * (q - 16)
//   q5_1: f16 d, f16 m, u32 qh, u8 nib[16]       x = d * q + m
// Element j < 16 sits in the low nibble of nib[j], element j + 16 in its high nibble; for the
// 5-bit types bit j of qh is the fifth bit of element j.
#include <algorithm>
#include <bit>
#include <cassert>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "kernels/isa.h"
#include "kernels/kernels.h"

namespace crm::kernels {

const char* DTypeName(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF16: return "f16";
    case DType::kQ4_0: return "q4_0";
    case DType::kQ4_1: return "q4_1";
    case DType::kQ5_0: return "q5_0";
    case DType::kQ5_1: return "q5_1";
    case DType::kQ8_0: return "q8_0";
  }
  return "unknown";
}

bool IsSupported(DType t) {
  switch (t) {
    case DType::kF32:
    case DType::kF16:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ8_0: return true;
  }
  return false;
}

int64_t BlockElements(DType t) {
  return (t == DType::kF32 || t == DType::kF16) ? 1 : 32;
}

int64_t BlockBytes(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kQ4_0: return 18;
    case DType::kQ4_1: return 20;
    case DType::kQ5_0: return 22;
    case DType::kQ5_1: return 24;
    case DType::kQ8_0: return 34;
  }
  return 0;
}

int64_t RowBytes(DType t, int64_t cols) {
  assert(cols % BlockElements(t) == 0);
  return cols / BlockElements(t) * BlockBytes(t);
}

namespace internal {

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in f32.
    const float f = static_cast<float>(mant) * (1.0f / 16777216.0f);
    return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(f));
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t FloatToHalf(float f) {
  // Round to nearest even, as F16C's vcvtps2ph with rounding mode 0.
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) {  // inf or NaN (NaN stays quiet NaN with its top payload bits)
    return sign | 0x7c00u | (ax > 0x7f800000u ? (0x200u | ((ax >> 13) & 0x3ffu)) : 0u);
  }
  if (ax >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to infinity
  if (ax < 0x38800000u) {
    // Below the smallest normal half (2^-14): adding 0.5 leaves round(|f| / 2^-24) in the low
    // mantissa bits, rounded to nearest even by the FPU.
    const float a = std::bit_cast<float>(ax) + 0.5f;
    return sign | static_cast<uint16_t>(std::bit_cast<uint32_t>(a) - 0x3f000000u);
  }
  const uint32_t odd = (ax >> 13) & 1u;
  ax += 0xc8000fffu + odd;  // rebias the exponent (127 -> 15) and round at bit 13
  return sign | static_cast<uint16_t>(ax >> 13);
}

void F16ToF32Generic(const uint16_t* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = HalfToFloat(in[i]);
}

void F32ToF16Generic(const float* in, uint16_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = FloatToHalf(in[i]);
}

}  // namespace internal

namespace {

using internal::FloatToHalf;
using internal::HalfToFloat;

uint16_t LoadU16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
void StoreU16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
void StoreU32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

void DequantizeBlock(const uint8_t* b, DType type, float* out) {
  switch (type) {
    case DType::kQ8_0: {
      const float d = HalfToFloat(LoadU16(b));
      const int8_t* q = reinterpret_cast<const int8_t*>(b + 2);
      for (int j = 0; j < 32; ++j) out[j] = d * static_cast<float>(q[j]);
      return;
    }
    case DType::kQ4_0: {
      const float d = HalfToFloat(LoadU16(b));
      const uint8_t* q = b + 2;
      for (int j = 0; j < 16; ++j) {
        out[j] = d * static_cast<float>((q[j] & 0x0f) - 8);
        out[j + 16] = d * static_cast<float>((q[j] >> 4) - 8);
      }
      return;
    }
    case DType::kQ4_1: {
      const float d = HalfToFloat(LoadU16(b));
      const float m = HalfToFloat(LoadU16(b + 2));
      const uint8_t* q = b + 4;
      for (int j = 0; j < 16; ++j) {
        out[j] = d * static_cast<float>(q[j] & 0x0f) + m;
        out[j + 16] = d * static_cast<float>(q[j] >> 4) + m;
      }
      return;
    }
    case DType::kQ5_0: {
      const float d = HalfToFloat(LoadU16(b));
      const uint32_t qh = LoadU32(b + 2);
      const uint8_t* q = b + 6;
      for (int j = 0; j < 16; ++j) {
        const int lo = (q[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
        const int hi = (q[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
        out[j] = d * static_cast<float>(lo - 16);
        out[j + 16] = d * static_cast<float>(hi - 16);
      }
      return;
    }
    case DType::kQ5_1: {
      const float d = HalfToFloat(LoadU16(b));
      const float m = HalfToFloat(LoadU16(b + 2));
      const uint32_t qh = LoadU32(b + 4);
      const uint8_t* q = b + 8;
      for (int j = 0; j < 16; ++j) {
        const int lo = (q[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
        const int hi = (q[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
        out[j] = d * static_cast<float>(lo) + m;
        out[j + 16] = d * static_cast<float>(hi) + m;
      }
      return;
    }
    case DType::kF32:
    case DType::kF16: break;
  }
}

// Largest magnitude of a block, keeping its sign (the q4_0/q5_0 scales are signed).
float SignedAbsMax(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < 32; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void MinMax(const float* x, float* mn, float* mx) {
  *mn = FLT_MAX;
  *mx = -FLT_MAX;
  for (int j = 0; j < 32; ++j) {
    *mn = std::min(*mn, x[j]);
    *mx = std::max(*mx, x[j]);
  }
}

void QuantizeBlock(const float* x, DType type, uint8_t* b) {
  switch (type) {
    case DType::kQ8_0: {
      float amax = 0.0f;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
      const float d = amax / 127.0f;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      StoreU16(b, FloatToHalf(d));
      int8_t* q = reinterpret_cast<int8_t*>(b + 2);
      for (int j = 0; j < 32; ++j) q[j] = static_cast<int8_t>(std::round(x[j] * id));
      return;
    }
    case DType::kQ4_0:
    case DType::kQ5_0: {
      const bool five = type == DType::kQ5_0;
      const float d = SignedAbsMax(x) / (five ? -16.0f : -8.0f);
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      const float offset = five ? 16.5f : 8.5f;
      const int top = five ? 31 : 15;
      StoreU16(b, FloatToHalf(d));
      uint8_t* q = b + (five ? 6 : 2);
      uint32_t qh = 0;
      for (int j = 0; j < 16; ++j) {
        const int lo = std::min(top, static_cast<int>(static_cast<int8_t>(x[j] * id + offset)));
        const int hi =
            std::min(top, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + offset)));
        q[j] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
        qh |= static_cast<uint32_t>((lo >> 4) & 1) << j;
        qh |= static_cast<uint32_t>((hi >> 4) & 1) << (j + 16);
      }
      if (five) StoreU32(b + 2, qh);
      return;
    }
    case DType::kQ4_1:
    case DType::kQ5_1: {
      const bool five = type == DType::kQ5_1;
      float mn, mx;
      MinMax(x, &mn, &mx);
      const float d = (mx - mn) / (five ? 31.0f : 15.0f);
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      StoreU16(b, FloatToHalf(d));
      StoreU16(b + 2, FloatToHalf(mn));
      uint8_t* q = b + (five ? 8 : 4);
      uint32_t qh = 0;
      for (int j = 0; j < 16; ++j) {
        int lo = static_cast<uint8_t>((x[j] - mn) * id + 0.5f);
        int hi = static_cast<uint8_t>((x[j + 16] - mn) * id + 0.5f);
        if (!five) {
          lo = std::min(15, lo);
          hi = std::min(15, hi);
        }
        q[j] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
        qh |= static_cast<uint32_t>((lo >> 4) & 1) << j;
        qh |= static_cast<uint32_t>((hi >> 4) & 1) << (j + 16);
      }
      if (five) StoreU32(b + 4, qh);
      return;
    }
    case DType::kF32:
    case DType::kF16: break;
  }
}

}  // namespace

void F16ToF32(const uint16_t* in, float* out, int64_t n) { internal::Ops().f16_to_f32(in, out, n); }

void F32ToF16(const float* in, uint16_t* out, int64_t n) { internal::Ops().f32_to_f16(in, out, n); }

void DequantizeRow(const void* row, DType type, int64_t cols, float* out) {
  switch (type) {
    case DType::kF32: std::memcpy(out, row, static_cast<size_t>(cols) * 4); return;
    case DType::kF16: F16ToF32(static_cast<const uint16_t*>(row), out, cols); return;
    default: break;
  }
  const auto* b = static_cast<const uint8_t*>(row);
  const int64_t bytes = BlockBytes(type);
  for (int64_t i = 0; i < cols / 32; ++i) DequantizeBlock(b + i * bytes, type, out + i * 32);
}

void QuantizeRow(const float* in, DType type, int64_t cols, void* out) {
  switch (type) {
    case DType::kF32: std::memcpy(out, in, static_cast<size_t>(cols) * 4); return;
    case DType::kF16: F32ToF16(in, static_cast<uint16_t*>(out), cols); return;
    default: break;
  }
  auto* b = static_cast<uint8_t*>(out);
  const int64_t bytes = BlockBytes(type);
  for (int64_t i = 0; i < cols / 32; ++i) QuantizeBlock(in + i * 32, type, b + i * bytes);
}

}  // namespace crm::kernels
