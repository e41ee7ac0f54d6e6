// `crm-ai doctor`: one line per check — ok, warn or fail, name, detail, what to do.
#include <iostream>

#include "cli/args.h"
#include "cli/bootstrap.h"
#include "cli/commands.h"
#include "storage/migrations/migrations.h"

namespace crm::cli {

int RunDoctor(const std::vector<std::string>& argv) {
  auto args = ParseArgs(argv, {}, {"strict"});
  if (!args.ok()) return Fail(args.error().message);
  std::vector<api::Check> checks;
  auto app = OpenFromEnvironment(false);
  if (!app.ok()) {
    checks.push_back({"configuration", "fail", app.error().message, "fix the variable named above"});
  } else {
    auto& a = **app;
    checks.push_back({"configuration", "ok", "APP_ENV=" + a.config.app_env + " DATA_DIR=" + a.config.data_dir, ""});
    auto st = storage::MigrationStatus(*a.store);
    if (st.ok()) {
      int pending = 0;
      for (auto& m : *st) pending += m.applied_at.empty();
      checks.push_back(pending ? api::Check{"migrations", "warn", std::to_string(pending) + " pending", "run crm-ai migrate (serve does it at start)"}
                               : api::Check{"migrations", "ok", std::to_string(st->size()) + " applied", ""});
    }
    for (auto& c : api::RunChecks(a)) checks.push_back(c);
  }
  bool fail = false, warn = false;
  for (auto& c : checks) {
    std::cout << c.level << "\t" << c.name << "\t" << c.detail << (c.action.empty() ? "" : "\t→ " + c.action) << "\n";
    fail |= c.level == "fail";
    warn |= c.level == "warn";
  }
  return fail || (warn && args->Flag("strict")) ? 1 : 0;
}

}  // namespace crm::cli
