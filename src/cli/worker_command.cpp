// `crm-ai worker`: job workers only, for scale-out. On SIGTERM it takes no new job, finishes or
// hands back the running one, and exits 0.
#include <signal.h>

#include "cli/args.h"
#include "cli/bootstrap.h"
#include "cli/commands.h"
#include "cli/subsystems.h"
#include "common/log.h"

namespace crm::cli {

int RunWorker(const std::vector<std::string>& argv) {
  auto args = ParseArgs(argv, {}, {});
  if (!args.ok()) return Fail(args.error().message);
  BlockStopSignals();
  auto app = OpenFromEnvironment(true);
  if (!app.ok()) return Fail(app.error().message);
  auto subsystems = StartSubsystems(**app, /*serve=*/false);
  if (!subsystems.ok()) return Fail(subsystems.error().message);
  log::Info("worker started", {{"data_dir", (*app)->config.data_dir}});
  WaitForStopSignal();
  log::Info("worker stopping: no new jobs, finishing the running one");
  (*subsystems)->Stop();
  log::Info("worker stopped");
  return 0;
}

}  // namespace crm::cli
