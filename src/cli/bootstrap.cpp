#include "cli/bootstrap.h"

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

}  // namespace crm::cli
