// A real SQLite database in a new temporary directory, for tests and benchmarks: created, opened
// (WAL, as the product opens it), migrated unless asked not to, and removed with its directory
// when the object goes. OpenAnother() gives a second connection pool on the same file, as
// another process (a second server, the CLI) would have.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "common/ids.h"
#include "storage/migrations/migrations.h"
#include "storage/store.h"

namespace crm::storage {

class TempDatabase {
 public:
  // `prefix` names the directory (prefix-<random>) under the system temporary directory.
  static Result<std::unique_ptr<TempDatabase>> Create(const std::string& prefix,
                                                      bool migrate = true) {
    std::unique_ptr<TempDatabase> db(new TempDatabase());
    db->dir_ = std::filesystem::temp_directory_path() / (prefix + "-" + RandomHex(6));
    std::error_code ec;
    std::filesystem::create_directories(db->dir_, ec);
    if (ec) return IoError("cannot create " + db->dir_.string() + ": " + ec.message());
    CRM_ASSIGN_OR_RETURN(db->store_, db->OpenAnother());
    if (migrate) CRM_TRY(ApplyMigrations(*db->store_));
    return db;
  }

  ~TempDatabase() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  Store& store() const { return *store_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::string path() const { return (dir_ / "crm-ai.sqlite3").string(); }
  Result<std::unique_ptr<Store>> OpenAnother(int max_connections = 8) const {
    return OpenSqlite({path(), max_connections});
  }

 private:
  TempDatabase() = default;
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace crm::storage
