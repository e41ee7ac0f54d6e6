// The Store and JobQueue contract, run on every database backend (conformance/backends.h): what
// the domain and the queue rely on — transactions, affected-row counts, bound parameters,
// unknown columns as errors, the dialect's LIKE and upsert, and claims that hand each job to one
// worker even when several servers claim at once or another writer lands between a claim's read
// and its write.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/ids.h"
#include "common/text.h"
#include "conformance/backends.h"
#include "domain/crm.h"
#include "domain/firms.h"
#include "domain/records.h"
#include "jobs/job_queue.h"
#include "storage/forwarding_store.h"

namespace crm::conformance {
namespace {

using storage::Connection;
using storage::Rows;

class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    auto db = GetParam().create();
    ASSERT_TRUE(db.ok()) << GetParam().name << ": " << db.error().message;
    db_ = std::move(db).value();
    store_ = &db_->store();
  }
  void TearDown() override {
    store_ = nullptr;
    db_.reset();
  }
  std::unique_ptr<storage::Store> Another() {
    auto s = db_->OpenAnother();
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(s).value() : nullptr;
  }
  int64_t Count(const std::string& sql, const storage::Params& params = {}) {
    auto row = store_->QueryOne(sql, params);
    EXPECT_TRUE(row.ok() && row->has_value()) << sql;
    return row.ok() && row->has_value() ? (*row)->Int("n") : -1;
  }
  void CreateTable(const std::string& sql) { ASSERT_TRUE(store_->Exec(sql).ok()) << sql; }

  std::unique_ptr<BackendDatabase> db_;
  storage::Store* store_ = nullptr;
};

TEST_P(StoreConformance, TransactionCommitsAllOrNothing) {
  CreateTable("CREATE TABLE t (k VARCHAR(40) PRIMARY KEY, v INTEGER NOT NULL)");
  Status failed = store_->Transaction([](Connection& c) -> Status {
    CRM_TRY(c.Exec("INSERT INTO t (k, v) VALUES (?, ?)", {std::string("a"), int64_t{1}}));
    return Internal("abandoned");
  });
  EXPECT_FALSE(failed.ok());
  Status dup = store_->Transaction([](Connection& c) -> Status {
    CRM_TRY(c.Exec("INSERT INTO t (k, v) VALUES (?, ?)", {std::string("b"), int64_t{1}}));
    CRM_TRY(c.Exec("INSERT INTO t (k, v) VALUES (?, ?)", {std::string("b"), int64_t{2}}));
    return OkStatus();
  });
  EXPECT_FALSE(dup.ok()) << "a failing statement fails the transaction";
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM t"), 0);
}

TEST_P(StoreConformance, ExecCountsTheRowsItChanged) {
  CreateTable("CREATE TABLE t (k VARCHAR(40) PRIMARY KEY, v INTEGER NOT NULL)");
  for (const char* k : {"a", "b", "c"})
    ASSERT_TRUE(store_->Exec("INSERT INTO t (k, v) VALUES (?, 0)", {std::string(k)}).ok());
  EXPECT_EQ(store_->Exec("UPDATE t SET v = 1 WHERE v = 0 AND k <> ?", {std::string("a")}).value(),
            2);
  // The compare-and-set the queue's claims rely on: a second identical update changes nothing.
  EXPECT_EQ(store_->Exec("UPDATE t SET v = 2 WHERE k = ? AND v = 1", {std::string("b")}).value(), 1);
  EXPECT_EQ(store_->Exec("UPDATE t SET v = 2 WHERE k = ? AND v = 1", {std::string("b")}).value(), 0);
}

TEST_P(StoreConformance, AnUnknownColumnIsAnErrorNotNull) {
  CreateTable("CREATE TABLE t (k VARCHAR(40) PRIMARY KEY, v INTEGER)");
  ASSERT_TRUE(store_->Exec("INSERT INTO t (k, v) VALUES ('a', NULL)").ok());
  auto row = store_->QueryOne("SELECT k, v FROM t");
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_TRUE((*row)->IsNull("v"));
  EXPECT_TRUE((*row)->Has("k"));
  EXPECT_FALSE((*row)->Has("version"));
  EXPECT_THROW((*row)->Text("versoin"), storage::UnknownColumn);
  EXPECT_THROW((*row)->IsNull("versoin"), storage::UnknownColumn);
  EXPECT_THROW((*row)->OptInt("versoin"), storage::UnknownColumn);
}

TEST_P(StoreConformance, ContainsTreatsWildcardsAndTheEscapeCharacterAsData) {
  CreateTable("CREATE TABLE t (k VARCHAR(40) PRIMARY KEY, s VARCHAR(100) NOT NULL)");
  const std::map<std::string, std::string> rows = {
      {"pct", "remise 50% accordee"}, {"num", "remise 500 accordee"},
      {"und", "dossier a_b"},         {"any", "dossier axb"},
      {"bsl", "chemin c:\\temp"},     {"bsx", "chemin c:temp"}};
  for (const auto& [k, s] : rows)
    ASSERT_TRUE(store_->Exec("INSERT INTO t (k, s) VALUES (?, ?)", {k, s}).ok());
  const auto& d = store_->dialect();
  auto find = [&](const std::string& text) {
    auto r = store_->Query("SELECT k FROM t WHERE " + d.ContainsClause("s") + " ORDER BY k",
                           {d.ContainsPattern(text)});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    std::vector<std::string> keys;
    if (r.ok())
      for (const auto& row : *r) keys.push_back(row.Text("k"));
    return keys;
  };
  EXPECT_EQ(find("50%"), std::vector<std::string>{"pct"});
  EXPECT_EQ(find("a_b"), std::vector<std::string>{"und"});
  EXPECT_EQ(find("c:\\t"), std::vector<std::string>{"bsl"});
  EXPECT_EQ(find("remise"), (std::vector<std::string>{"num", "pct"}));
}

TEST_P(StoreConformance, UpsertAddIsAtomicWhenSeveralServersAddAtOnce) {
  CreateTable("CREATE TABLE counters (k VARCHAR(40) PRIMARY KEY, n INTEGER NOT NULL)");
  const std::string sql = store_->dialect().UpsertAdd("counters", "k", "n");
  constexpr int kServers = 3, kAdds = 40;
  std::vector<std::unique_ptr<storage::Store>> servers;
  for (int i = 0; i < kServers; ++i) servers.push_back(Another());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kServers; ++i)
    threads.emplace_back([&, i] {
      for (int a = 0; a < kAdds; ++a)
        if (!servers[i]->Transaction([&](Connection& c) -> Status {
              CRM_TRY(c.Exec(sql, {std::string("firm"), int64_t{1}}));
              return OkStatus();
            }).ok())
          ++failures;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(Count("SELECT n FROM counters WHERE k = 'firm'"), kServers * kAdds);
}

// --- The job queue ----------------------------------------------------------------------------

class QueueConformance : public StoreConformance {
 protected:
  void SetUp() override {
    StoreConformance::SetUp();
    if (HasFatalFailure()) return;
    CreateTable("CREATE TABLE results (job_id VARCHAR(40) NOT NULL, worker VARCHAR(40) NOT NULL)");
  }
  static jobs::ResultWriter WriteResult(const std::string& job_id, const std::string& worker) {
    return [job_id, worker](Connection& c) -> Status {
      CRM_TRY(c.Exec("INSERT INTO results (job_id, worker) VALUES (?, ?)", {job_id, worker}));
      return OkStatus();
    };
  }
};

// Several servers (each its own connection pool and queue), two workers each, claim one backlog:
// every job runs exactly once. On a database with concurrent writers this is where a claim that
// reads then writes unconditionally hands one job to two workers.
TEST_P(QueueConformance, ConcurrentClaimsFromSeveralServersRunEachJobOnce) {
  constexpr int kJobs = 240, kServers = 3, kWorkersPerServer = 2;
  auto producer = jobs::NewDatabaseJobQueue(*store_, {});
  for (int i = 0; i < kJobs; ++i) ASSERT_TRUE(producer->Enqueue("noop", std::nullopt, {{"i", i}}).ok());
  std::vector<std::unique_ptr<storage::Store>> stores;
  std::vector<std::unique_ptr<jobs::JobQueue>> queues;
  for (int s = 0; s < kServers; ++s) {
    stores.push_back(Another());
    queues.push_back(jobs::NewDatabaseJobQueue(*stores.back(), {}));
  }
  std::mutex mu;
  std::map<std::string, int> claims;
  std::atomic<int> errors{0};
  std::vector<std::thread> workers;
  for (int s = 0; s < kServers; ++s)
    for (int w = 0; w < kWorkersPerServer; ++w)
      workers.emplace_back([&, s, w] {
        std::string me = "s" + std::to_string(s) + "w" + std::to_string(w);
        for (;;) {
          auto job = queues[s]->Claim(me, {}, std::chrono::seconds(60));
          if (!job.ok()) {
            ++errors;
            continue;
          }
          if (!*job) return;
          {
            std::lock_guard lock(mu);
            ++claims[(*job)->id];
          }
          if (!queues[s]->Complete(**job, WriteResult((*job)->id, me)).ok()) ++errors;
        }
      });
  for (auto& t : workers) t.join();
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(claims.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, n] : claims) EXPECT_EQ(n, 1) << "job " << id << " claimed " << n << " times";
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM results"), kJobs);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) AS n FROM results"), kJobs);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM jobs WHERE state = 'succeeded' AND attempts = 1"),
            kJobs);
}

// Another server's claim lands between this claim's read of the candidate and its write (as it
// can wherever writers run side by side): the claim must see that it lost, not take the job too.
TEST_P(QueueConformance, AClaimThatLosesTheRaceBetweenReadAndWriteTakesNothing) {
  auto producer = jobs::NewDatabaseJobQueue(*store_, {});
  auto id = producer->Enqueue("noop", std::nullopt, {});
  ASSERT_TRUE(id.ok());
  storage::ForwardingStore racing(*store_);
  bool raced = false;
  racing.OnQuery([&](Connection& c, std::string_view sql, const Rows& rows) -> Status {
    if (raced || rows.empty() || sql.find("FROM jobs WHERE state = 'queued'") == std::string::npos)
      return OkStatus();
    raced = true;
    CRM_TRY(c.Exec("UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = "
                   "'other-lease', worker_id = 'other-server', lease_expires_ms = ? WHERE id = ?",
                   {int64_t{4'000'000'000'000}, rows[0].Text("id")}));
    return OkStatus();
  });
  auto queue = jobs::NewDatabaseJobQueue(racing, {});
  auto claimed = queue->Claim("this-server", {}, std::chrono::seconds(60));
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  EXPECT_TRUE(raced);
  EXPECT_FALSE(claimed->has_value()) << "claimed a job another server holds";
  auto job = producer->Get(jobs::Scope::All(), *id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->worker_id.value_or(""), "other-server");
  EXPECT_EQ(job->attempts, 1);
}

// The claim's SELECT carries the dialect's row lock (FOR UPDATE SKIP LOCKED where there is one).
TEST_P(QueueConformance, ClaimsAskTheDialectForTheirRowLock) {
  class MarkedLock final : public storage::Dialect {
   public:
    explicit MarkedLock(const storage::Dialect& base) : base_(base) {}
    std::string_view name() const override { return base_.name(); }
    std::string ContainsClause(std::string_view c) const override { return base_.ContainsClause(c); }
    std::string ContainsPattern(std::string_view t) const override { return base_.ContainsPattern(t); }
    std::string UpsertAdd(std::string_view t, std::string_view k, std::string_view n) const override {
      return base_.UpsertAdd(t, k, n);
    }
    std::string_view ClaimLock() const override {
      return base_.ClaimLock().empty() ? " /* claim lock */" : base_.ClaimLock();
    }

   private:
    const storage::Dialect& base_;
  } marked(store_->dialect());
  storage::ForwardingStore watched(*store_, &marked);
  auto queue = jobs::NewDatabaseJobQueue(watched, {});
  ASSERT_TRUE(queue->Enqueue("noop", std::nullopt, {}).ok());
  auto claimed = queue->Claim("w", {}, std::chrono::seconds(60));
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  int locked = 0;
  for (const auto& sql : watched.Statements())
    if (sql.rfind("SELECT", 0) == 0 && sql.find("FROM jobs WHERE state") != std::string::npos)
      locked += sql.size() >= marked.ClaimLock().size() &&
                sql.compare(sql.size() - marked.ClaimLock().size(), std::string::npos,
                            marked.ClaimLock()) == 0;
  EXPECT_GE(locked, 1);
}

// --- Domain writes that other servers must see at once ------------------------------------------

TEST_P(StoreConformance, AWriteAndItsDataVersionAreSeenTogetherByAnotherServer) {
  auto firm = domain::CreateFirm(*store_, {{"name", "Cabinet Conforme"}});
  ASSERT_TRUE(firm.ok()) << firm.error().message;
  std::string firm_id = (*firm)["id"];
  domain::RecordStore here(*store_);
  auto other_store = Another();
  domain::RecordStore there(*other_store);
  auto client = here.Create(firm_id, domain::ClientSpec(), {{"name", "Hélène Dupré"}});
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto contact = here.Create(firm_id, domain::ContactSpec(), {{"name", "Paul"}},
                             {{"client_id", (*client)["id"]}});
  ASSERT_TRUE(contact.ok());
  int64_t v = there.DataVersion(firm_id).value();
  EXPECT_GT(v, 0);
  ASSERT_TRUE(here.Delete(firm_id, domain::ClientSpec(), (*client)["id"], std::nullopt).ok());
  EXPECT_GT(there.DataVersion(firm_id).value(), v) << "a cascaded deletion moves the version";
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM contacts WHERE firm_id = ?", {firm_id}), 0);
}

// Domain search SQL comes from the dialect, not from SQLite's spelling.
TEST_P(StoreConformance, RecordSearchTakesItsLikeFromTheDialect) {
  class BangEscape final : public storage::Dialect {
   public:
    explicit BangEscape(const storage::Dialect& base) : base_(base) {}
    std::string_view name() const override { return base_.name(); }
    std::string ContainsClause(std::string_view c) const override {
      return std::string(c) + " LIKE ? ESCAPE '!'";
    }
    std::string ContainsPattern(std::string_view t) const override {
      std::string out = "%";
      for (char ch : t) {
        if (ch == '%' || ch == '_' || ch == '!') out.push_back('!');
        out.push_back(ch);
      }
      return out + "%";
    }
    std::string UpsertAdd(std::string_view t, std::string_view k, std::string_view n) const override {
      return base_.UpsertAdd(t, k, n);
    }
    std::string_view ClaimLock() const override { return base_.ClaimLock(); }

   private:
    const storage::Dialect& base_;
  } bang(store_->dialect());
  storage::ForwardingStore watched(*store_, &bang);
  auto firm = domain::CreateFirm(watched, {{"name", "Cabinet Recherche"}});
  ASSERT_TRUE(firm.ok());
  std::string firm_id = (*firm)["id"];
  domain::RecordStore records(watched);
  ASSERT_TRUE(records.Create(firm_id, domain::ClientSpec(), {{"name", "Hélène Dupré"}}).ok());
  ASSERT_TRUE(records.Create(firm_id, domain::ClientSpec(), {{"name", "Paul Martin"}}).ok());
  domain::ListQuery q;
  q.q = "helene";
  auto page = records.List(firm_id, domain::ClientSpec(), q);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->count, 1u);
  bool used = false;
  for (const auto& sql : watched.Statements()) {
    used |= sql.find("ESCAPE '!'") != std::string::npos;
    EXPECT_EQ(sql.find("ESCAPE '\\'"), std::string::npos) << sql;
  }
  EXPECT_TRUE(used);
}

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::ValuesIn(Backends()), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, QueueConformance, ::testing::ValuesIn(Backends()), BackendName);

}  // namespace
}  // namespace crm::conformance
