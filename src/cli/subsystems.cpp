#include "cli/subsystems.h"

namespace crm::cli {

namespace {
class NoSubsystems final : public Subsystems {
 public:
  void Stop() override {}
};
}  // namespace

Result<std::unique_ptr<Subsystems>> StartSubsystems(api::App& app, bool serve) {
  return std::unique_ptr<Subsystems>(std::make_unique<NoSubsystems>());
}

}  // namespace crm::cli
