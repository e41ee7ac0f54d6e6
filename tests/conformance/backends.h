// The database backends the store/queue conformance suite runs on. Each entry opens a fresh,
// migrated database and more connection pools on it (as more servers would have). A backend that
// lands (MariaDB: a throwaway mariadbd on a temporary data dir and loopback port) adds one entry
// here and the whole suite runs on it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "storage/store.h"
#include "storage/temp_database.h"

namespace crm::conformance {

// One database of a backend, removed when the object goes.
class BackendDatabase {
 public:
  virtual ~BackendDatabase() = default;
  virtual storage::Store& store() = 0;
  // Another connection pool on the same database: another server.
  virtual Result<std::unique_ptr<storage::Store>> OpenAnother() = 0;
};

struct Backend {
  std::string name;
  std::function<Result<std::unique_ptr<BackendDatabase>>()> create;
};

class SqliteDatabase final : public BackendDatabase {
 public:
  static Result<std::unique_ptr<BackendDatabase>> Create() {
    CRM_ASSIGN_OR_RETURN(auto db, storage::TempDatabase::Create("crm-conformance"));
    return std::unique_ptr<BackendDatabase>(new SqliteDatabase(std::move(db)));
  }
  storage::Store& store() override { return db_->store(); }
  Result<std::unique_ptr<storage::Store>> OpenAnother() override { return db_->OpenAnother(); }

 private:
  explicit SqliteDatabase(std::unique_ptr<storage::TempDatabase> db) : db_(std::move(db)) {}
  std::unique_ptr<storage::TempDatabase> db_;
};

inline std::vector<Backend> Backends() {
  return {
      {"sqlite", &SqliteDatabase::Create},
  };
}

}  // namespace crm::conformance
