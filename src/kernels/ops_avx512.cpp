#include "kernels/isa.h"

namespace crm::kernels::internal {

const IsaOps* Avx512Ops() { return nullptr; }

}  // namespace crm::kernels::internal
