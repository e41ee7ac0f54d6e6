// Background subsystems that run beside the HTTP server or alone (`worker`): job workers and
// whatever else registers routes, checks and job handlers on the App. Started after the App is
// open, stopped after the server has drained.
#pragma once

#include <memory>

#include "api/app.h"

namespace crm::cli {

class Subsystems {
 public:
  virtual ~Subsystems() = default;
  virtual void Stop() = 0;
};

// serve=true: in-process workers per QUEUE_WORKERS; serve=false: `crm-ai worker`.
Result<std::unique_ptr<Subsystems>> StartSubsystems(api::App& app, bool serve);

}  // namespace crm::cli
