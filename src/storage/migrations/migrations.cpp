#include "storage/migrations/migrations.h"

#include <algorithm>
#include <map>

#include "common/log.h"
#include "common/text.h"

namespace crm::storage {

// Defined in the generated embedded_migrations.cpp.
std::vector<Migration> GeneratedMigrations();

const std::vector<Migration>& EmbeddedMigrations() {
  static const std::vector<Migration> all = [] {
    auto v = GeneratedMigrations();
    std::sort(v.begin(), v.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
    return v;
  }();
  return all;
}

static Status EnsureTable(Store& store) {
  return store.Transaction([](Connection& c) -> Status {
    CRM_TRY(c.Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at TEXT NOT NULL)"));
    return OkStatus();
  });
}

Result<int> ApplyMigrations(Store& store, const std::vector<Migration>& migrations) {
  CRM_TRY(EnsureTable(store));
  int applied = 0;
  for (const auto& m : migrations) {
    bool done = false;
    Status st = store.Transaction([&](Connection& c) -> Status {
      // Checked inside the write transaction so that two processes starting together apply
      // each migration once.
      CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne("SELECT version FROM schema_migrations WHERE version = ?",
                                                 {int64_t{m.version}}));
      if (row) {
        done = true;
        return OkStatus();
      }
      auto script = c.ExecScript(m.sql);
      if (!script.ok())
        return Error(ErrorCode::kInternal, "migration " + std::to_string(m.version) + " (" + m.name +
                                               ") failed: " + script.error().message +
                                               "; the database was left as it was");
      CRM_TRY(c.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                     {int64_t{m.version}, m.name, NowIsoUtc()}));
      return OkStatus();
    });
    CRM_TRY(st);
    if (!done) {
      ++applied;
      log::Info("migration applied", {{"version", m.version}, {"name", m.name}});
    }
  }
  return applied;
}

Result<int> ApplyMigrations(Store& store) { return ApplyMigrations(store, EmbeddedMigrations()); }

Result<std::vector<MigrationState>> MigrationStatus(Store& store) {
  CRM_TRY(EnsureTable(store));
  CRM_ASSIGN_OR_RETURN(auto rows, store.Query("SELECT version, applied_at FROM schema_migrations"));
  std::map<int64_t, std::string> applied;
  for (auto& r : rows) applied[r.Int("version")] = r.Text("applied_at");
  std::vector<MigrationState> out;
  for (auto& m : EmbeddedMigrations())
    out.push_back({m.version, m.name, applied.count(m.version) ? applied[m.version] : ""});
  return out;
}

}  // namespace crm::storage
