// SQLite implementation of the Store: a pool of connections to one WAL database.
// Readers run concurrently; writers serialise on SQLite's lock (BEGIN IMMEDIATE, busy timeout).
// Each connection caches its prepared statements.
#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "common/log.h"
#include "storage/store.h"

namespace crm::storage {
namespace {

Error SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_CONSTRAINT) {
    return Error(ErrorCode::kConflict, msg, nullptr, "constraint_violation");
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    return Error(ErrorCode::kUnavailable, "the database is busy, try again: " + msg);
  if (primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN)
    return Error(ErrorCode::kIo, msg);
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Error(ErrorCode::kCorrupt, msg);
  return Error(ErrorCode::kInternal, msg);
}

class SqliteConnection final : public Connection {
 public:
  const Dialect& dialect() const override { return SqliteDialect(); }
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  sqlite3* handle() const { return db_; }
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Result<Rows> Query(std::string_view sql, const Params& params = {}) override {
    CRM_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, Prepare(sql, params));
    Rows rows;
    std::shared_ptr<std::vector<std::string>> columns;
    int n = sqlite3_column_count(stmt);
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Error e = SqliteError(db_, rc, "query failed");
        sqlite3_reset(stmt);
        return e;
      }
      if (!columns) {
        columns = std::make_shared<std::vector<std::string>>();
        for (int i = 0; i < n; ++i) columns->emplace_back(sqlite3_column_name(stmt, i));
      }
      std::vector<Value> values;
      values.reserve(n);
      for (int i = 0; i < n; ++i) {
        switch (sqlite3_column_type(stmt, i)) {
          case SQLITE_INTEGER: values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, i))); break;
          case SQLITE_FLOAT: values.emplace_back(sqlite3_column_double(stmt, i)); break;
          case SQLITE_NULL: values.emplace_back(Null{}); break;
          default: {
            const char* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, i));
            values.emplace_back(std::string(p ? p : "", sqlite3_column_bytes(stmt, i)));
          }
        }
      }
      rows.emplace_back(columns, std::move(values));
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rows;
  }

  Result<int64_t> Exec(std::string_view sql, const Params& params = {}) override {
    CRM_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, Prepare(sql, params));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "statement failed");
    return static_cast<int64_t>(sqlite3_changes(db_));
  }

  Status ForEachRow(std::string_view sql, const Params& params, const RowCallback& fn) override {
    CRM_ASSIGN_OR_RETURN(sqlite3_stmt* stmt, Prepare(sql, params));
    class View final : public RowView {
     public:
      explicit View(sqlite3_stmt* st) : st_(st) {}
      size_t size() const override { return static_cast<size_t>(sqlite3_column_count(st_)); }
      bool IsNull(size_t i) const override { return sqlite3_column_type(st_, static_cast<int>(i)) == SQLITE_NULL; }
      std::string_view Text(size_t i) const override {
        const char* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, static_cast<int>(i)));
        return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(st_, static_cast<int>(i))))
                 : std::string_view();
      }
      int64_t Int(size_t i) const override { return sqlite3_column_int64(st_, static_cast<int>(i)); }

     private:
      sqlite3_stmt* st_;
    } view(stmt);
    Status result = OkStatus();
    while (true) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        result = SqliteError(db_, rc, "query failed");
        break;
      }
      result = fn(view);
      if (!result.ok()) break;
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return result;
  }

  Status ExecScript(std::string_view sql) override {
    char* err = nullptr;
    std::string s(sql);
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      return Error(ErrorCode::kInternal, "script failed: " + msg);
    }
    return OkStatus();
  }

  sqlite3* handle() { return db_; }

 private:
  Result<sqlite3_stmt*> Prepare(std::string_view sql, const Params& params) {
    std::string key(sql);
    sqlite3_stmt* stmt = nullptr;
    if (auto it = cache_.find(key); it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return SqliteError(db_, rc, "cannot prepare statement");
      if (cache_.size() > 256) {
        for (auto& [s, st] : cache_) sqlite3_finalize(st);
        cache_.clear();
      }
      cache_.emplace(key, stmt);
    }
    int expected = sqlite3_bind_parameter_count(stmt);
    if (expected != static_cast<int>(params.size()))
      return Internal("statement expects " + std::to_string(expected) + " parameters, got " +
                      std::to_string(params.size()));
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc;
      if (auto* s = std::get_if<std::string>(&v))
        rc = sqlite3_bind_text64(stmt, idx, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      else if (auto* n = std::get_if<int64_t>(&v))
        rc = sqlite3_bind_int64(stmt, idx, *n);
      else if (auto* d = std::get_if<double>(&v))
        rc = sqlite3_bind_double(stmt, idx, *d);
      else
        rc = sqlite3_bind_null(stmt, idx);
      if (rc != SQLITE_OK) return SqliteError(db_, rc, "cannot bind parameter");
    }
    return stmt;
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(SqliteOptions options) : options_(std::move(options)) {}

  Status Init() {
    CRM_ASSIGN_OR_RETURN(auto conn, OpenConnection());
    CRM_ASSIGN_OR_RETURN(auto mode, conn->Query("PRAGMA journal_mode=WAL"));
    if (mode.empty() || mode[0].Text("journal_mode") != "wal")
      return IoError("cannot switch " + options_.path + " to WAL mode");
    free_.push_back(std::move(conn));
    total_ = 1;
    return OkStatus();
  }

  const Dialect& dialect() const override { return SqliteDialect(); }

  Result<Rows> Query(std::string_view sql, const Params& params = {}) override {
    CRM_ASSIGN_OR_RETURN(auto lease, Acquire());
    auto r = lease.conn->Query(sql, params);
    return r;
  }

  Result<int64_t> Exec(std::string_view sql, const Params& params = {}) override {
    CRM_ASSIGN_OR_RETURN(auto lease, Acquire());
    return lease.conn->Exec(sql, params);
  }

  Status Transaction(const std::function<Status(Connection&)>& fn) override {
    CRM_ASSIGN_OR_RETURN(auto lease, Acquire());
    CRM_TRY(lease.conn->Exec("BEGIN IMMEDIATE"));
    Status st = fn(*lease.conn);
    if (!st.ok()) {
      (void)lease.conn->Exec("ROLLBACK");
      return st;
    }
    auto commit = lease.conn->Exec("COMMIT");
    if (!commit.ok()) {
      (void)lease.conn->Exec("ROLLBACK");
      return commit.take_error();
    }
    return OkStatus();
  }

  Status ForEachRow(std::string_view sql, const Params& params, const RowCallback& fn) override {
    CRM_ASSIGN_OR_RETURN(auto lease, Acquire());
    return lease.conn->ForEachRow(sql, params, fn);
  }

  Status Ping() override {
    CRM_ASSIGN_OR_RETURN(auto rows, Query("SELECT 1 AS ok"));
    if (rows.empty()) return Error(ErrorCode::kUnavailable, "database did not answer");
    return OkStatus();
  }

  std::string Describe() const override { return "sqlite " + options_.path; }

  PoolStats Pool() const override {
    std::lock_guard lock(mu_);
    return {total_, total_ - static_cast<int>(free_.size()), options_.max_connections, waits_};
  }

  // The online backup API in one step: the copy reads every page inside one read transaction of
  // the source connection, so it is the database at that instant; in WAL mode writers go on.
  Result<std::string> Snapshot(const std::string& dest) override {
    CRM_ASSIGN_OR_RETURN(auto lease, Acquire());
    sqlite3* out = nullptr;
    int rc = sqlite3_open_v2(dest.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      Error e = SqliteError(out, rc, "cannot create the database snapshot " + dest);
      sqlite3_close_v2(out);
      return e;
    }
    sqlite3_backup* backup = sqlite3_backup_init(out, "main", lease.conn->handle(), "main");
    if (!backup) {
      Error e = SqliteError(out, sqlite3_errcode(out), "cannot start the database snapshot");
      sqlite3_close_v2(out);
      return e;
    }
    for (int attempt = 0;; ++attempt) {
      rc = sqlite3_backup_step(backup, -1);
      if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && attempt < 200) {
        sqlite3_sleep(50);
        continue;
      }
      break;
    }
    int finished = sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE || finished != SQLITE_OK) {
      Error e = SqliteError(out, rc != SQLITE_DONE ? rc : finished, "database snapshot failed");
      sqlite3_close_v2(out);
      return e;
    }
    // One self-contained file: no -wal beside it.
    char* err = nullptr;
    rc = sqlite3_exec(out, "PRAGMA journal_mode=DELETE", nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    int closed = sqlite3_close_v2(out);
    if (rc != SQLITE_OK || closed != SQLITE_OK)
      return IoError("cannot finish the database snapshot " + dest + ": " + message);
    return std::string("sqlite3");
  }

 private:
  struct Lease {
    SqliteStore* store = nullptr;
    std::unique_ptr<SqliteConnection> conn;
    Lease() = default;
    Lease(SqliteStore* s, std::unique_ptr<SqliteConnection> c) : store(s), conn(std::move(c)) {}
    Lease(Lease&& o) noexcept : store(o.store), conn(std::move(o.conn)) { o.store = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (store && conn) store->Release(std::move(conn));
    }
  };

  Result<std::unique_ptr<SqliteConnection>> OpenConnection() {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(options_.path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      Error e = SqliteError(db, rc, "cannot open database " + options_.path);
      sqlite3_close_v2(db);
      return e;
    }
    auto conn = std::make_unique<SqliteConnection>(db);
    sqlite3_busy_timeout(db, options_.busy_timeout_ms);
    CRM_TRY(conn->ExecScript(
        "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA journal_mode=WAL;"
        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;"));
    return conn;
  }

  Result<Lease> Acquire() {
    std::unique_lock lock(mu_);
    if (free_.empty() && total_ >= options_.max_connections) ++waits_;
    while (free_.empty() && total_ >= options_.max_connections) cv_.wait(lock);
    if (!free_.empty()) {
      auto c = std::move(free_.back());
      free_.pop_back();
      return Lease(this, std::move(c));
    }
    ++total_;
    lock.unlock();
    auto c = OpenConnection();
    if (!c.ok()) {
      std::lock_guard relock(mu_);
      --total_;
      cv_.notify_one();
      return c.take_error();
    }
    return Lease(this, std::move(c).value());
  }

  void Release(std::unique_ptr<SqliteConnection> c) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(c));
    cv_.notify_one();
  }

  SqliteOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqliteConnection>> free_;
  int total_ = 0;
  uint64_t waits_ = 0;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqlite(const SqliteOptions& options) {
  if (sqlite3_threadsafe() == 0) return Internal("SQLite was built without thread support");
  auto store = std::make_unique<SqliteStore>(options);
  CRM_TRY(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace crm::storage
