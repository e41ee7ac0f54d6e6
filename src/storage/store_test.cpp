#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/ids.h"
#include "storage/migrations/migrations.h"
#include "storage/store.h"
#include "storage/temp_database.h"

namespace crm::storage {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = TempDatabase::Create("crm-store", /*migrate=*/false);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store_ = &db_->store();
  }
  void TearDown() override {
    store_ = nullptr;
    db_.reset();
  }
  std::unique_ptr<TempDatabase> db_;
  Store* store_ = nullptr;
};

TEST_F(StoreTest, OpensInWalModeWithForeignKeysAndFullSync) {
  auto mode = store_->QueryOne("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ((*mode)->Text("journal_mode"), "wal");
  EXPECT_EQ((*store_->QueryOne("PRAGMA foreign_keys"))->Int("foreign_keys"), 1);
  EXPECT_EQ((*store_->QueryOne("PRAGMA synchronous"))->Int("synchronous"), 2);
}

TEST_F(StoreTest, BindsParametersSoQuotesAreData) {
  ASSERT_TRUE(store_->Exec("CREATE TABLE t (a TEXT, b INTEGER)").ok());
  std::string hostile = "x'); DROP TABLE t; --";
  ASSERT_TRUE(store_->Exec("INSERT INTO t (a, b) VALUES (?, ?)", {hostile, int64_t{7}}).ok());
  auto row = store_->QueryOne("SELECT a, b FROM t WHERE a = ?", {hostile});
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->Text("a"), hostile);
  EXPECT_EQ((*row)->Int("b"), 7);
  EXPECT_FALSE(store_->Exec("INSERT INTO t (a) VALUES (?)", {}).ok());  // parameter count checked
}

TEST_F(StoreTest, ForEachRowReadsInPlaceWhatQueryReturns) {
  ASSERT_TRUE(store_->Exec("CREATE TABLE t (a TEXT, b INTEGER)").ok());
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store_->Exec("INSERT INTO t VALUES (?, ?)", {i == 2 ? Value(Null{}) : Value("é" + std::to_string(i)), int64_t{i}}).ok());
  auto rows = store_->Query("SELECT a, b FROM t ORDER BY b");
  ASSERT_TRUE(rows.ok());
  size_t n = 0;
  Status st = store_->ForEachRow("SELECT a, b FROM t WHERE b >= ? ORDER BY b", {int64_t{0}}, [&](const RowView& r) -> Status {
    EXPECT_EQ(r.size(), 2u);
    EXPECT_EQ(r.IsNull(0), (*rows)[n].IsNull("a"));
    EXPECT_EQ(std::string(r.Text(0)), (*rows)[n].Text("a"));
    EXPECT_EQ(r.Int(1), (*rows)[n].Int("b"));
    ++n;
    return OkStatus();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(n, 5u);
  // A callback's error stops the walk and comes back; the statement stays usable.
  int seen = 0;
  Status stop = store_->ForEachRow("SELECT a, b FROM t WHERE b >= ? ORDER BY b", {int64_t{0}}, [&](const RowView&) -> Status {
    return ++seen == 2 ? Status(Internal("stop")) : OkStatus();
  });
  EXPECT_FALSE(stop.ok());
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(store_->Query("SELECT a, b FROM t WHERE b >= ? ORDER BY b", {int64_t{0}})->size(), 5u);
  EXPECT_FALSE(store_->ForEachRow("SELECT nope FROM t", {}, [](const RowView&) { return OkStatus(); }).ok());
}

TEST_F(StoreTest, TransactionRollsBackEverythingOnError) {
  ASSERT_TRUE(store_->Exec("CREATE TABLE t (a TEXT UNIQUE)").ok());
  Status st = store_->Transaction([](Connection& c) -> Status {
    CRM_TRY(c.Exec("INSERT INTO t VALUES ('one')"));
    CRM_TRY(c.Exec("INSERT INTO t VALUES ('one')"));  // violates UNIQUE
    return OkStatus();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
  EXPECT_EQ((*store_->QueryOne("SELECT COUNT(*) AS n FROM t"))->Int("n"), 0);
}

TEST_F(StoreTest, MigrationsApplyOnceAndAFailedOneLeavesNoTrace) {
  auto n = ApplyMigrations(*store_);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, static_cast<int>(EmbeddedMigrations().size()));
  EXPECT_EQ(*ApplyMigrations(*store_), 0);
  std::vector<Migration> bad = {{9001, "half_broken", "CREATE TABLE half (x INTEGER); CREATE TABLE clients (y);"}};
  auto r = ApplyMigrations(*store_, bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("9001"), std::string::npos);
  EXPECT_FALSE(store_->Query("SELECT * FROM half").ok());  // the first statement was undone
  auto status = MigrationStatus(*store_);
  ASSERT_TRUE(status.ok());
  for (auto& m : *status) EXPECT_FALSE(m.applied_at.empty()) << m.name;
}

TEST_F(StoreTest, ConcurrentWritersAllLand) {
  ASSERT_TRUE(store_->Exec("CREATE TABLE t (n INTEGER)").ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Status st = store_->Transaction([&](Connection& c) -> Status {
          CRM_TRY(c.Exec("INSERT INTO t VALUES (?)", {int64_t{i}}));
          return OkStatus();
        });
        EXPECT_TRUE(st.ok());
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ((*store_->QueryOne("SELECT COUNT(*) AS n FROM t"))->Int("n"), 200);
}

}  // namespace
}  // namespace crm::storage
