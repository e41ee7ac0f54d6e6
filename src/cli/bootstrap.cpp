#include "cli/bootstrap.h"

#include <signal.h>
#include <unistd.h>

#include "common/log.h"

namespace crm::cli {

Result<config::Config> LoadConfigAndLogging() {
  CRM_ASSIGN_OR_RETURN(config::Config c, config::LoadFromProcess());
  log::Level level = log::Level::kInfo;
  log::ParseLevel(c.log_level, &level);
  log::Format format = c.log_format.empty() ? (isatty(2) ? log::Format::kText : log::Format::kJson)
                       : c.log_format == "json" ? log::Format::kJson : log::Format::kText;
  log::Configure(level, format);
  for (auto& n : c.notices) log::Info(n);
  return c;
}

Result<std::unique_ptr<api::App>> OpenFromEnvironment(bool migrate) {
  CRM_ASSIGN_OR_RETURN(config::Config c, LoadConfigAndLogging());
  CRM_TRY(config::PrepareDataDir(c));
  return api::OpenApp(std::move(c), migrate);
}

static sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

void BlockStopSignals() {
  sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

int WaitForStopSignal() {
  sigset_t signals = StopSignals();
  int sig = 0;
  sigwait(&signals, &sig);
  return sig;
}

}  // namespace crm::cli
