// The one place where error codes become HTTP statuses.
#pragma once

#include "common/result.h"

namespace crm::http {

int StatusFor(ErrorCode code);

}  // namespace crm::http
