#include "kernels/isa.h"

namespace crm::kernels::internal {

const IsaOps* Avx2Ops() { return nullptr; }

}  // namespace crm::kernels::internal
