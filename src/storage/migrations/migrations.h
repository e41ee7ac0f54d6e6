// Versioned schema migrations, embedded in the binary from storage/migrations/NNNN_name.sql.
// Apply() runs each pending one in its own transaction and records it in schema_migrations; a
// migration that fails leaves the database exactly as it was before it.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "storage/store.h"

namespace crm::storage {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

struct MigrationState {
  int version;
  std::string name;
  std::string applied_at;  // empty when pending
};

// All migrations shipped in this binary, in version order.
const std::vector<Migration>& EmbeddedMigrations();

// Applies the pending ones of `migrations`; returns how many were applied.
Result<int> ApplyMigrations(Store& store, const std::vector<Migration>& migrations);
Result<int> ApplyMigrations(Store& store);
Result<std::vector<MigrationState>> MigrationStatus(Store& store);

}  // namespace crm::storage
