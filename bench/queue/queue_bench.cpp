// Enqueue→complete rate of no-op jobs on a SQLite file (WAL, synchronous=FULL), with 1 and 2
// workers, against the storage ceiling measured in the same run: the same number of bare
// single-row INSERT transactions followed by single-row UPDATE transactions on a database
// opened the same way. Default pools (claim_batch 1) and a short-job pool (claim_batch 32) are
// both measured, in rounds. Usage: bench_queue [jobs=5000] [rounds=3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"
#include "storage/migrations/migrations.h"
#include "storage/store.h"

namespace {

using namespace crm;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::unique_ptr<storage::Store> OpenMigrated(const fs::path& path) {
  auto store = storage::OpenSqlite({path.string()});
  if (!store.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", path.c_str(), store.error().message.c_str());
    std::exit(1);
  }
  auto applied = storage::ApplyMigrations(**store);
  auto firm =
      (*store)->Exec("INSERT INTO firms (id, name, created_at, updated_at) VALUES ('F', 'F', ?, ?)",
                     {NowIsoUtc(), NowIsoUtc()});
  if (!applied.ok() || !firm.ok()) {
    std::fprintf(stderr, "cannot prepare the database\n");
    std::exit(1);
  }
  return std::move(store).value();
}

// The storage ceiling: one INSERT transaction and one UPDATE transaction per "job".
double ReferenceRate(const fs::path& path, int n) {
  auto store = OpenMigrated(path);
  (void)store->Exec("CREATE TABLE ref (id TEXT PRIMARY KEY, state TEXT NOT NULL)");
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(NewId());
  auto start = Clock::now();
  for (auto& id : ids)
    (void)store->Transaction([&](storage::Connection& c) -> Status {
      CRM_TRY(c.Exec("INSERT INTO ref (id, state) VALUES (?, 'queued')", {id}));
      return OkStatus();
    });
  for (auto& id : ids)
    (void)store->Transaction([&](storage::Connection& c) -> Status {
      CRM_TRY(c.Exec("UPDATE ref SET state = 'done' WHERE id = ?", {id}));
      return OkStatus();
    });
  return n / Seconds(start);
}

// Concurrent producers (like API requests) each enqueueing one job at a time.
constexpr int kProducers = 16;
// claim_batch of a pool dedicated to short jobs (the default pool uses 1).
constexpr int kShortJobBatch = 32;

// Enqueues n no-op jobs one by one from kProducers threads while `workers` workers run them;
// the rate counts from the first enqueue to the last success.
double QueueRate(const fs::path& path, int n, int workers, int claim_batch) {
  auto store = OpenMigrated(path);
  auto queue = jobs::NewDatabaseJobQueue(*store);
  jobs::WorkerPoolOptions options;
  options.workers = workers;
  options.claim_batch = claim_batch;
  jobs::WorkerPool pool(*queue, options);
  pool.Register(
      "noop", [](jobs::JobContext&) -> Result<jobs::ResultWriter> { return jobs::ResultWriter{}; });
  if (!pool.Start().ok()) std::exit(1);
  auto start = Clock::now();
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.emplace_back([&, p] {
      for (int i = p; i < n; i += kProducers) {
        auto id = queue->Enqueue("noop", std::string("F"), nlohmann::json::object());
        if (!id.ok()) {
          std::fprintf(stderr, "enqueue failed: %s\n", id.error().message.c_str());
          std::exit(1);
        }
      }
    });
  for (auto& t : producers) t.join();
  while (true) {  // a cheap probe (index range), not to steal the workers' CPU
    auto left = store->QueryOne("SELECT id FROM jobs WHERE state IN ('queued', 'running') LIMIT 1");
    if (left.ok() && !left->has_value()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto done = store->QueryOne("SELECT COUNT(*) AS n FROM jobs WHERE state = 'succeeded'");
  if (!done.ok() || (*done)->Int("n") != n) {
    std::fprintf(stderr, "not every job succeeded\n");
    std::exit(1);
  }
  double rate = n / Seconds(start);
  pool.Stop(std::chrono::milliseconds(1000));
  return rate;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  crm::InitCrypto();
  crm::log::Configure(crm::log::Level::kWarn, crm::log::Format::kText);
  int n = argc > 1 ? std::atoi(argv[1]) : 5000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  if (n <= 0) n = 5000;
  if (rounds <= 0) rounds = 3;
  fs::path dir = fs::temp_directory_path() / ("crm-bench-queue-" + crm::RandomHex(6));
  fs::create_directories(dir);
  std::printf(
      "queue bench: %d no-op jobs enqueued by %d threads, SQLite WAL synchronous=FULL in %s\n"
      "%d rounds; each round measures the reference then the queue, so the disk's mood of the\n"
      "moment weighs on both; medians at the end\n",
      n, kProducers, dir.c_str(), rounds);
  const char* names[] = {"queue, 1 worker ", "queue, 2 workers",
                         "queue, 2 workers, claim_batch 32"};
  std::vector<double> refs, rates[3], ratios[3];
  for (int r = 0; r < rounds; ++r) {
    fs::path round_dir = dir / std::to_string(r);
    fs::create_directories(round_dir);
    double reference = ReferenceRate(round_dir / "ref.sqlite3", n);
    double rate[3] = {QueueRate(round_dir / "one.sqlite3", n, 1, 1),
                      QueueRate(round_dir / "two.sqlite3", n, 2, 1),
                      QueueRate(round_dir / "batched.sqlite3", n, 2, kShortJobBatch)};
    refs.push_back(reference);
    std::printf("round %d: reference %.0f jobs/s", r + 1, reference);
    for (int k = 0; k < 3; ++k) {
      rates[k].push_back(rate[k]);
      ratios[k].push_back(rate[k] / reference);
      std::printf(" | %.0f (x%.2f)", rate[k], rate[k] / reference);
    }
    std::printf("\n");
    fs::remove_all(round_dir);
  }
  std::printf("reference (INSERT txn + UPDATE txn per job):  median %8.0f jobs/s\n", Median(refs));
  for (int k = 0; k < 3; ++k)
    std::printf("%-34s median %8.0f jobs/s  median ratio %.2f\n", names[k], Median(rates[k]),
                Median(ratios[k]));
  fs::remove_all(dir);
  return 0;
}
