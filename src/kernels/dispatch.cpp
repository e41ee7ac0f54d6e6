// Run-time choice of the instruction-set path: the best table the CPU supports, once.
#include <cpuid.h>

#include <atomic>
#include <string>

#include "kernels/int8.h"
#include "kernels/isa.h"

namespace crm::kernels {
namespace internal {
namespace {

bool HasF16c() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_F16C) != 0;
}

// __builtin_cpu_supports also checks that the OS saves the wider registers.
bool CpuHasAvx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && HasF16c();
}

bool CpuHasAvx512() {
  return CpuHasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

const IsaOps* TableFor(Isa isa) {
  switch (isa) {
    case Isa::kGeneric: return GenericOps();
    case Isa::kAvx2: return CpuHasAvx2() ? Avx2Ops() : nullptr;
    case Isa::kAvx512: return CpuHasAvx512() ? Avx512Ops() : nullptr;
  }
  return nullptr;
}

const IsaOps* Best() {
  __builtin_cpu_init();  // in case the first kernel call comes from a static initializer
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2}) {
    if (const IsaOps* t = TableFor(isa)) return t;
  }
  return GenericOps();
}

std::atomic<const IsaOps*>& Active() {
  static std::atomic<const IsaOps*> active{Best()};
  return active;
}

bool CpuHasAvx512Vnni() {
  static const bool has = CpuHasAvx512() && __builtin_cpu_supports("avx512vnni");
  return has;
}

// On by default where the CPU has VNNI: q8_0 products of many rows then quantize their input
// rows as ggml does (the whole-model oracle does the same with --int8-activations).
std::atomic<bool>& Int8Enabled() {
  static std::atomic<bool> enabled{true};
  return enabled;
}

}  // namespace

const IsaOps& Ops() { return *Active().load(std::memory_order_relaxed); }

const Int8Ops* Int8Path() {
  if (Ops().isa != Isa::kAvx512 || !CpuHasAvx512Vnni()) return nullptr;
  if (!Int8Enabled().load(std::memory_order_relaxed)) return nullptr;
  return Avx512VnniOps();
}

}  // namespace internal

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kGeneric: return "generic";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "unknown";
}

bool IsaAvailable(Isa isa) { return internal::TableFor(isa) != nullptr; }

Isa ActiveIsa() { return internal::Ops().isa; }

bool SetIsaForTesting(Isa isa) {
  const internal::IsaOps* t = internal::TableFor(isa);
  if (t == nullptr) return false;
  internal::Active().store(t, std::memory_order_relaxed);
  return true;
}

bool Int8ProductsAvailable() { return internal::Int8Path() != nullptr; }

bool SetInt8ProductsForTesting(bool enabled) {
  internal::Int8Enabled().store(enabled, std::memory_order_relaxed);
  return Int8ProductsAvailable();
}

std::string CpuFeatures() {
  std::string s;
  auto add = [&s](bool has, const char* name) {
    if (!has) return;
    if (!s.empty()) s += ' ';
    s += name;
  };
  add(__builtin_cpu_supports("avx512f"), "avx512f");
  add(__builtin_cpu_supports("avx512bw"), "avx512bw");
  add(__builtin_cpu_supports("avx512vl"), "avx512vl");
  add(__builtin_cpu_supports("avx512vnni"), "avx512vnni");
  add(__builtin_cpu_supports("avx2"), "avx2");
  add(__builtin_cpu_supports("fma"), "fma");
  add(internal::HasF16c(), "f16c");
  s += s.empty() ? "" : " ";
  s += "-> ";
  s += IsaName(ActiveIsa());
  if (Int8ProductsAvailable()) s += " + int8 (vnni)";
  return s;
}

}  // namespace crm::kernels
