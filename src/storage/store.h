// The Store: the one door to the database. Callers write portable SQL with `?` placeholders and
// get rows back; the implementation (SQLite now, MariaDB behind the same interface) owns
// connections, pooling, transactions and dialect details. Every value reaches the database as a
// bound parameter, never spliced into SQL text.
//
// Thread-safe: any thread may call any method. Transaction() runs its function on one
// connection inside a write transaction and commits only when the function returns OK; on error
// (or a failed commit) nothing of it remains.
//
// The schema relies on no database-specific behaviour: no trigger has to fire for a write to be
// complete (InnoDB fires none on foreign-key cascades), so derived data (the firm's data version,
// names taken from a deleted voiceprint) is written by domain code in the write's transaction.
// What SQL text differs between databases is asked of the store's Dialect.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace crm::storage {

struct Null {};
using Value = std::variant<Null, int64_t, double, std::string>;
using Params = std::vector<Value>;

// Optional strings/ints map to NULL.
Value Opt(const std::optional<std::string>& v);
Value Opt(const std::optional<int64_t>& v);

// Reading a column a row does not have is a programming error, never NULL: Row's accessors throw
// UnknownColumn (the HTTP server and the worker pool turn it into a 500 / a failed job).
class UnknownColumn : public std::logic_error {
 public:
  explicit UnknownColumn(std::string_view column);
};

class Row {
 public:
  Row(std::shared_ptr<const std::vector<std::string>> columns, std::vector<Value> values)
      : columns_(std::move(columns)), values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  const Value& at(size_t i) const { return values_.at(i); }
  const Value& at(std::string_view column) const;  // throws UnknownColumn
  bool Has(std::string_view column) const;
  bool IsNull(std::string_view column) const;
  std::string Text(std::string_view column) const;          // "" for NULL
  std::optional<std::string> OptText(std::string_view column) const;
  int64_t Int(std::string_view column) const;                // 0 for NULL
  std::optional<int64_t> OptInt(std::string_view column) const;
  double Real(std::string_view column) const;
  // JSON object with every column: integers, reals, strings, null.
  nlohmann::json ToJson() const;

 private:
  std::shared_ptr<const std::vector<std::string>> columns_;
  std::vector<Value> values_;
};

using Rows = std::vector<Row>;

// A row read in place, valid only during the callback of ForEachRow (no copies are made).
class RowView {
 public:
  virtual ~RowView() = default;
  virtual size_t size() const = 0;
  virtual bool IsNull(size_t i) const = 0;
  virtual std::string_view Text(size_t i) const = 0;  // "" for NULL
  virtual int64_t Int(size_t i) const = 0;             // 0 for NULL
};
using RowCallback = std::function<Status(const RowView&)>;

// One database connection; used by one thread at a time.
class Dialect;

class Connection {
 public:
  virtual ~Connection() = default;
  virtual const Dialect& dialect() const = 0;
  virtual Result<Rows> Query(std::string_view sql, const Params& params = {}) = 0;
  // Returns the number of rows changed.
  virtual Result<int64_t> Exec(std::string_view sql, const Params& params = {}) = 0;
  // Runs a script of several statements without parameters (migrations only).
  virtual Status ExecScript(std::string_view sql) = 0;
  // Calls fn for each row without materialising them (hot read paths). The default reads through
  // Query(); implementations may stream from the statement.
  virtual Status ForEachRow(std::string_view sql, const Params& params, const RowCallback& fn);

  Result<std::optional<Row>> QueryOne(std::string_view sql, const Params& params = {});
};

// The SQL text that differs between databases, so that domain and queue SQL stay portable. A
// second database is a second Dialect (and Store), not edits across the domain.
class Dialect {
 public:
  virtual ~Dialect() = default;
  virtual std::string_view name() const = 0;  // "sqlite", "mariadb"

  // `column LIKE ?` matching the pattern ContainsPattern() builds: true when `column` contains
  // `text`, whose %, _ and escape characters are data, not wildcards.
  virtual std::string ContainsClause(std::string_view column) const = 0;
  virtual std::string ContainsPattern(std::string_view text) const = 0;

  // One statement, atomic on every server, with two parameters (key, amount): inserts the row
  // (`key_column` = key, `counter_column` = amount) or adds amount to its counter.
  virtual std::string UpsertAdd(std::string_view table, std::string_view key_column,
                                std::string_view counter_column) const = 0;

  // Appended to the SELECT that picks jobs to claim: a row lock that other claimers skip
  // (" FOR UPDATE SKIP LOCKED") where the database has one; "" where writers are serialised
  // (SQLite). Claims stay correct without it: they are compare-and-set updates.
  virtual std::string_view ClaimLock() const = 0;
};

// SQLite's dialect (also the reference other dialects are tested against).
const Dialect& SqliteDialect();

// The connection pool of a Store, for /metrics.
struct PoolStats {
  int open = 0;         // connections opened
  int in_use = 0;       // leased right now
  int max = 0;          // the pool's size
  uint64_t waits = 0;   // times a caller had to wait for a free connection
};

class Store {
 public:
  virtual ~Store() = default;
  virtual const Dialect& dialect() const = 0;

  // Single statements on a pooled connection (each in its own implicit transaction).
  virtual Result<Rows> Query(std::string_view sql, const Params& params = {}) = 0;
  virtual Result<int64_t> Exec(std::string_view sql, const Params& params = {}) = 0;
  Result<std::optional<Row>> QueryOne(std::string_view sql, const Params& params = {});
  // Each row of a single statement, read in place (see Connection::ForEachRow).
  virtual Status ForEachRow(std::string_view sql, const Params& params, const RowCallback& fn);

  // A write transaction: fn's statements commit together or not at all.
  virtual Status Transaction(const std::function<Status(Connection&)>& fn) = 0;

  // Checks the database answers (for /health/ready and doctor).
  virtual Status Ping() = 0;

  // Writes a consistent copy of the whole database, as it was at one instant, to the local file
  // `dest` while other connections keep reading and writing (no exclusive lock), for `crm-ai
  // backup`. Returns the copy's format: "sqlite3" (a database file, through SQLite's online backup
  // API); a server database writes its logical dump and names its own format. The default refuses.
  virtual Result<std::string> Snapshot(const std::string& dest);
  virtual std::string Describe() const = 0;
  virtual PoolStats Pool() const { return {}; }
};

struct SqliteOptions {
  std::string path;             // database file
  int max_connections = 8;      // pool size
  int busy_timeout_ms = 10000;  // how long a writer waits for the lock
};

// Opens (creating if needed) a SQLite database in WAL mode with synchronous=FULL and foreign
// keys on.
Result<std::unique_ptr<Store>> OpenSqlite(const SqliteOptions& options);

}  // namespace crm::storage
