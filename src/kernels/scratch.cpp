#include "kernels/scratch.h"

#include <cstdlib>
#include <new>

namespace crm::kernels::internal {
namespace {

struct Buffers {
  float* data[kScratchSlots] = {};
  size_t size[kScratchSlots] = {};
  ~Buffers() {
    for (float* p : data) std::free(p);
  }
};

}  // namespace

float* ThreadScratch(ScratchSlot slot, size_t floats) {
  thread_local Buffers buffers;
  if (buffers.size[slot] < floats) {
    std::free(buffers.data[slot]);
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    buffers.data[slot] = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (buffers.data[slot] == nullptr) throw std::bad_alloc();
    buffers.size[slot] = floats;
  }
  return buffers.data[slot];
}

}  // namespace crm::kernels::internal
