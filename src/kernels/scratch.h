// Internal: per-thread working memory for packing and attention tiles. A slot grows on demand
// (outside inner loops) and is reused by later calls on the same thread.
#pragma once

#include <cstddef>

namespace crm::kernels::internal {

enum ScratchSlot {
  kScratchPackA = 0,
  kScratchPackB = 1,
  kScratchTile = 2,
  kScratchAttn = 3,
  kScratchRows = 4,
  kScratchInt8X = 5,  // quantized rows of x and their scales
  kScratchInt8W = 6,  // packed q8_0 weight panels
  kScratchSlots = 7,
};

// 64-byte aligned room for `floats` floats, valid until the next call with the same slot on the
// same thread.
float* ThreadScratch(ScratchSlot slot, size_t floats);

}  // namespace crm::kernels::internal
