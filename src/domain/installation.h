// Installation-wide figures (all firms together), for /metrics: never shown to a firm.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "storage/store.h"

namespace crm::domain {

struct InstallationCounts {
  int64_t firms = 0;
  int64_t users = 0;
  int64_t clients = 0;
  int64_t meetings = 0;
};

Result<InstallationCounts> CountInstallation(storage::Store& store);

}  // namespace crm::domain
