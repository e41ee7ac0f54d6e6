// ForwardingStore: a Store that passes every call to another one and lets a test watch or act
// between statements — the SQL text callers send (is it the dialect's?), or a competing writer
// that commits between a caller's read and its write, as another server does on a database that
// lets writers run side by side. For conformance tests of the code above the Store; any backend
// can be wrapped.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "storage/store.h"

namespace crm::storage {

class ForwardingStore final : public Store {
 public:
  // Called after each Query() inside a transaction with its SQL and rows; may run statements of
  // its own on `c` (they become part of that transaction, as if another writer's had landed).
  using AfterQuery = std::function<Status(Connection& c, std::string_view sql, const Rows& rows)>;

  // `dialect` replaces the inner store's when set (it must produce SQL the inner store runs).
  explicit ForwardingStore(Store& inner, const Dialect* dialect = nullptr)
      : inner_(inner), dialect_(dialect ? dialect : &inner.dialect()) {}

  void OnQuery(AfterQuery hook) { hook_ = std::move(hook); }
  // Every SQL text sent so far, in order.
  std::vector<std::string> Statements() const {
    std::lock_guard lock(mu_);
    return statements_;
  }

  const Dialect& dialect() const override { return *dialect_; }
  Result<Rows> Query(std::string_view sql, const Params& params = {}) override {
    Record(sql);
    return inner_.Query(sql, params);
  }
  Result<int64_t> Exec(std::string_view sql, const Params& params = {}) override {
    Record(sql);
    return inner_.Exec(sql, params);
  }
  Status ForEachRow(std::string_view sql, const Params& params, const RowCallback& fn) override {
    Record(sql);
    return inner_.ForEachRow(sql, params, fn);
  }
  Status Transaction(const std::function<Status(Connection&)>& fn) override {
    return inner_.Transaction([&](Connection& c) {
      Forwarding wrapped(*this, c);
      return fn(wrapped);
    });
  }
  Status Ping() override { return inner_.Ping(); }
  PoolStats Pool() const override { return inner_.Pool(); }
  Result<std::string> Snapshot(const std::string& dest) override { return inner_.Snapshot(dest); }
  std::string Describe() const override { return "forwarding to " + inner_.Describe(); }

 private:
  class Forwarding final : public Connection {
   public:
    Forwarding(ForwardingStore& store, Connection& inner) : store_(store), inner_(inner) {}
    const Dialect& dialect() const override { return *store_.dialect_; }
    Result<Rows> Query(std::string_view sql, const Params& params = {}) override {
      store_.Record(sql);
      CRM_ASSIGN_OR_RETURN(Rows rows, inner_.Query(sql, params));
      if (store_.hook_) CRM_TRY(store_.hook_(inner_, sql, rows));
      return rows;
    }
    Result<int64_t> Exec(std::string_view sql, const Params& params = {}) override {
      store_.Record(sql);
      return inner_.Exec(sql, params);
    }
    Status ExecScript(std::string_view sql) override {
      store_.Record(sql);
      return inner_.ExecScript(sql);
    }

   private:
    ForwardingStore& store_;
    Connection& inner_;
  };

  void Record(std::string_view sql) {
    std::lock_guard lock(mu_);
    statements_.emplace_back(sql);
  }

  Store& inner_;
  const Dialect* dialect_;
  AfterQuery hook_;
  mutable std::mutex mu_;
  std::vector<std::string> statements_;
};

}  // namespace crm::storage
