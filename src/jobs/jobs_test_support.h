// Test fixture shared by the jobs tests: a real SQLite file in a temporary directory, migrated,
// with two firms and a `results` table that handlers write inside Complete().
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/ids.h"
#include "common/text.h"
#include "storage/migrations/migrations.h"
#include "storage/store.h"
#include "storage/temp_database.h"

namespace crm::jobs::testing {

// Polls `condition` every 5 ms until it holds or `timeout` passes.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

class JobsDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    auto db = storage::TempDatabase::Create("crm-jobs");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store_ = &db_->store();
    for (const char* firm : {"FIRM_A", "FIRM_B"})
      ASSERT_TRUE(
          store_
              ->Exec("INSERT INTO firms (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                     {std::string(firm), std::string(firm), NowIsoUtc(), NowIsoUtc()})
              .ok());
    ASSERT_TRUE(
        store_->Exec("CREATE TABLE results (job_id TEXT NOT NULL, writer TEXT NOT NULL)").ok());
  }

  void TearDown() override {
    store_ = nullptr;
    db_.reset();
  }

  std::string DbPath() const { return db_->path(); }

  // Another connection pool on the same file, as another process would have.
  std::unique_ptr<storage::Store> OpenStore() {
    auto s = db_->OpenAnother();
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(s).value() : nullptr;
  }

  int64_t Count(const std::string& sql, const storage::Params& params = {}) {
    auto row = store_->QueryOne(sql, params);
    EXPECT_TRUE(row.ok() && row->has_value());
    return row.ok() && row->has_value() ? (*row)->Int("n") : -1;
  }

  int64_t ResultsFor(const std::string& job_id) {
    return Count("SELECT COUNT(*) AS n FROM results WHERE job_id = ?", {job_id});
  }

  std::unique_ptr<storage::TempDatabase> db_;
  storage::Store* store_ = nullptr;
};

}  // namespace crm::jobs::testing
