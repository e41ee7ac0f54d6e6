// WorkerPool on a real SQLite file and real time: heartbeats, timeouts, cancellation, shutdown,
// several pools and several OS processes sharing one database.
#include "jobs/worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "jobs/job_queue.h"
#include "jobs/jobs_test_support.h"

extern char** environ;

namespace crm::jobs {
namespace {

using std::chrono::milliseconds;
using testing::WaitFor;

WorkerPoolOptions FastOptions(int workers = 1) {
  WorkerPoolOptions o;
  o.workers = workers;
  o.lease = milliseconds(600);
  o.progress_interval = milliseconds(50);
  o.poll_interval = milliseconds(20);
  o.timeout_grace = milliseconds(2000);
  return o;
}

DatabaseJobQueueOptions FastQueue() {
  DatabaseJobQueueOptions o;
  o.backoff_base = milliseconds(10);
  o.backoff_cap = milliseconds(40);
  return o;
}

// A handler writing one `results` row per job, tagged with `writer`, after `work` of "work".
Handler RecordingHandler(std::string writer, milliseconds work = milliseconds(0)) {
  return [writer, work](JobContext& ctx) -> Result<ResultWriter> {
    if (work.count() > 0) std::this_thread::sleep_for(work);
    std::string id = ctx.job().id;
    return ResultWriter([id, writer](storage::Connection& c) -> Status {
      CRM_TRY(c.Exec("INSERT INTO results (job_id, writer) VALUES (?, ?)", {id, writer}));
      return OkStatus();
    });
  };
}

// Waits until the handler is asked to stop (or 20 s pass) and reports why.
Handler WaitingHandler(std::atomic<int>* seen_reason, std::atomic<bool>* started = nullptr) {
  return [seen_reason, started](JobContext& ctx) -> Result<ResultWriter> {
    if (started) *started = true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!ctx.Cancelled() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(5));
    *seen_reason = static_cast<int>(ctx.stop_reason());
    return Error(ErrorCode::kCancelled, "stopped");
  };
}

class WorkerPoolTest : public testing::JobsDatabaseTest {
 protected:
  void SetUp() override {
    JobsDatabaseTest::SetUp();
    queue_ = NewDatabaseJobQueue(*store_, FastQueue());
  }

  std::string Enqueue(const std::string& kind, EnqueueOptions o = {}) {
    auto id = queue_->Enqueue(kind, "FIRM_A", nlohmann::json::object(), o);
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : "";
  }

  JobState StateOf(const std::string& id) { return queue_->Get(Scope::All(), id)->state; }

  bool WaitForState(const std::string& id, JobState state,
                    milliseconds timeout = std::chrono::seconds(10)) {
    return WaitFor([&] { return StateOf(id) == state; }, timeout);
  }

  std::unique_ptr<JobQueue> queue_;
};

TEST_F(WorkerPoolTest, RunsEveryJobOnceAndWritesItsResults) {
  WorkerPool pool(*queue_, FastOptions(2));
  pool.Register("noop", RecordingHandler("pool"));
  ASSERT_TRUE(pool.Start().ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(Enqueue("noop"));
  ASSERT_TRUE(WaitFor([&] { return queue_->Stats(Scope::All())->succeeded_last_hour == 50; }));
  pool.Stop(milliseconds(1000));
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) AS n FROM results"), 50);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM results"), 50);
}

TEST_F(WorkerPoolTest, BatchingPoolRunsEveryJobOnceAndKeepsFailuresApart) {
  WorkerPoolOptions options = FastOptions(2);
  options.claim_batch = 16;
  options.lease = std::chrono::seconds(10);  // batched jobs wait without heartbeats
  WorkerPool pool(*queue_, options);
  pool.Register("noop", RecordingHandler("pool"));
  pool.Register("bad", [](JobContext&) -> Result<ResultWriter> {
    return Error(ErrorCode::kUndecodable, "not audio");
  });
  for (int i = 0; i < 100; ++i) Enqueue(i % 10 == 0 ? "bad" : "noop");
  ASSERT_TRUE(pool.Start().ok());
  ASSERT_TRUE(WaitFor([&] {
    auto s = queue_->Stats(Scope::All());
    return s->depth == 0 && s->running == 0;
  }));
  pool.Stop(milliseconds(1000));
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) AS n FROM results"), 90);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM results"), 90);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM jobs WHERE state = 'failed' AND kind = 'bad'"), 10);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM jobs WHERE attempts <> 1"), 0);
}

TEST_F(WorkerPoolTest, StopHandsBackBatchedJobsNotStartedYet) {
  std::atomic<bool> started{false};
  WorkerPoolOptions options = FastOptions(1);
  options.claim_batch = 8;
  WorkerPool pool(*queue_, options);
  std::atomic<int> reason{0};
  pool.Register("slow", WaitingHandler(&reason, &started));
  for (int i = 0; i < 8; ++i) Enqueue("slow");
  ASSERT_TRUE(pool.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));
  pool.Stop(milliseconds(50));
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued' AND attempts = 0"), 8);
}

TEST_F(WorkerPoolTest, TwoPoolsOnOneDatabaseFileCompleteEveryJobExactlyOnce) {
  auto other_store = OpenStore();
  auto other_queue = NewDatabaseJobQueue(*other_store, FastQueue());
  // Leases long enough that lock contention between the pools never lets one lapse here.
  WorkerPoolOptions options = FastOptions(2);
  options.lease = std::chrono::seconds(10);
  WorkerPool a(*queue_, options);
  WorkerPool b(*other_queue, options);
  // A little work per job leaves the database lock free now and then for the other pool. SQLite's
  // lock is not fair, so one pool could take every job; each pool's first job therefore waits
  // until the other pool has claimed one too, which makes both pools share the queue every run.
  std::atomic<bool> a_claimed{false}, b_claimed{false};
  auto first_waits = [](std::atomic<bool>* mine, std::atomic<bool>* other, Handler inner) {
    return [mine, other, inner](JobContext& ctx) -> Result<ResultWriter> {
      *mine = true;
      WaitFor([&] { return other->load(); }, std::chrono::seconds(10));
      return inner(ctx);
    };
  };
  a.Register("noop", first_waits(&a_claimed, &b_claimed, RecordingHandler("a", milliseconds(1))));
  b.Register("noop", first_waits(&b_claimed, &a_claimed, RecordingHandler("b", milliseconds(1))));
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(b.Start().ok());
  for (int i = 0; i < 500; ++i) Enqueue("noop");
  ASSERT_TRUE(WaitFor(
      [&] {
        return Count("SELECT COUNT(*) AS n FROM results") >= 500 &&
               queue_->Stats(Scope::All())->succeeded_last_hour == 500;
      },
      std::chrono::seconds(30)));
  a.Stop(milliseconds(1000));
  b.Stop(milliseconds(1000));
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM results"), 500);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) AS n FROM results"), 500);
  EXPECT_GT(Count("SELECT COUNT(*) AS n FROM results WHERE writer = 'a'"), 0);
  EXPECT_GT(Count("SELECT COUNT(*) AS n FROM results WHERE writer = 'b'"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM jobs WHERE attempts <> 1"), 0);
}

TEST_F(WorkerPoolTest, HeartbeatsKeepALongJobsLease) {
  WorkerPool pool(*queue_, FastOptions());  // lease 600 ms, heartbeat every 200 ms
  pool.Register("long", [](JobContext& ctx) -> Result<ResultWriter> {
    std::this_thread::sleep_for(milliseconds(1500));
    return ResultWriter{};
  });
  ASSERT_TRUE(pool.Start().ok());
  std::string id = Enqueue("long");
  ASSERT_TRUE(WaitForState(id, JobState::kRunning));
  auto rival = NewDatabaseJobQueue(*store_);
  for (int i = 0; i < 20; ++i) {
    auto stolen = rival->Claim("rival", {}, milliseconds(1000));
    ASSERT_TRUE(stolen.ok());
    EXPECT_FALSE(stolen->has_value()) << "lease lapsed while the job was running";
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(WaitForState(id, JobState::kSucceeded));
  EXPECT_EQ(queue_->Get(Scope::All(), id)->attempts, 1);
  pool.Stop(milliseconds(100));
}

TEST_F(WorkerPoolTest, TimeoutStopsTheHandlerAndFailsTheAttempt) {
  std::atomic<int> reason{0};
  WorkerPool pool(*queue_, FastOptions());
  pool.Register("slow", WaitingHandler(&reason));
  ASSERT_TRUE(pool.Start().ok());
  std::string id = Enqueue("slow", {.timeout_seconds = 1, .max_attempts = 1});
  ASSERT_TRUE(WaitForState(id, JobState::kFailed));
  EXPECT_EQ(reason.load(), static_cast<int>(StopReason::kTimeout));
  Job j = *queue_->Get(Scope::All(), id);
  ASSERT_TRUE(j.last_error);
  EXPECT_EQ(j.last_error->code, ErrorCode::kTimeout);
  EXPECT_NE(j.last_error->message.find("1 s"), std::string::npos);
  pool.Stop(milliseconds(100));
}

TEST_F(WorkerPoolTest, CancelRequestReachesTheRunningHandler) {
  std::atomic<int> reason{0};
  WorkerPool pool(*queue_, FastOptions());
  pool.Register("slow", WaitingHandler(&reason));
  ASSERT_TRUE(pool.Start().ok());
  std::string id = Enqueue("slow");
  ASSERT_TRUE(WaitForState(id, JobState::kRunning));
  ASSERT_TRUE(queue_->Cancel(Scope::Firm("FIRM_A"), id).ok());
  ASSERT_TRUE(WaitForState(id, JobState::kCancelled));
  EXPECT_EQ(reason.load(), static_cast<int>(StopReason::kCancelRequested));
  EXPECT_EQ(queue_->Get(Scope::All(), id)->attempts, 1);
  pool.Stop(milliseconds(100));
}

TEST_F(WorkerPoolTest, StopHandsARunningJobBackForAnotherWorker) {
  std::atomic<int> reason{0};
  std::atomic<bool> started{false};
  auto pool = std::make_unique<WorkerPool>(*queue_, FastOptions());
  pool->Register("slow", WaitingHandler(&reason, &started));
  ASSERT_TRUE(pool->Start().ok());
  std::string id = Enqueue("slow");
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));
  pool->Stop(milliseconds(100));
  EXPECT_EQ(reason.load(), static_cast<int>(StopReason::kShutdown));
  Job handed_back = *queue_->Get(Scope::All(), id);
  EXPECT_EQ(handed_back.state, JobState::kQueued);
  EXPECT_EQ(handed_back.attempts, 0);

  WorkerPool next(*queue_, FastOptions());
  next.Register("slow", RecordingHandler("next"));
  ASSERT_TRUE(next.Start().ok());
  ASSERT_TRUE(WaitForState(id, JobState::kSucceeded));
  EXPECT_EQ(ResultsFor(id), 1);
  next.Stop(milliseconds(100));
}

TEST_F(WorkerPoolTest, StopLetsARunningJobFinishWithinTheGrace) {
  std::atomic<bool> started{false};
  WorkerPool pool(*queue_, FastOptions());
  pool.Register("short", [&](JobContext& ctx) -> Result<ResultWriter> {
    started = true;
    std::this_thread::sleep_for(milliseconds(300));
    return RecordingHandler("pool")(ctx);
  });
  ASSERT_TRUE(pool.Start().ok());
  std::string id = Enqueue("short");
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));
  pool.Stop(milliseconds(5000));
  EXPECT_EQ(StateOf(id), JobState::kSucceeded);
  EXPECT_EQ(ResultsFor(id), 1);
}

TEST_F(WorkerPoolTest, ProgressStageAndEtaReachTheJobRow) {
  std::atomic<bool> seen{false};
  WorkerPool pool(*queue_, FastOptions());
  pool.Register("steps", [&](JobContext& ctx) -> Result<ResultWriter> {
    ProgressSink sink = ctx.Sink(0.5, 1.0, "transcribing");
    sink.Report(0.5);  // 75 % of the job
    WaitFor([&] { return seen.load(); }, std::chrono::seconds(5));
    return ResultWriter{};
  });
  ASSERT_TRUE(pool.Start().ok());
  std::string id = Enqueue("steps");
  ASSERT_TRUE(WaitFor([&] {
    Job j = *queue_->Get(Scope::All(), id);
    return j.stage == "transcribing" && j.progress > 0.74 && j.eta_seconds.has_value();
  }));
  seen = true;
  ASSERT_TRUE(WaitForState(id, JobState::kSucceeded));
  pool.Stop(milliseconds(100));
}

TEST_F(WorkerPoolTest, TransientFailuresRetryAndBadInputFailsAtOnce) {
  std::atomic<int> calls{0};
  WorkerPool pool(*queue_, FastOptions());
  pool.Register("flaky", [&](JobContext&) -> Result<ResultWriter> {
    ++calls;
    return Error(ErrorCode::kUnavailable, "engine busy");
  });
  pool.Register("bad", [](JobContext&) -> Result<ResultWriter> {
    return Error(ErrorCode::kUndecodable, "not audio");
  });
  pool.Register("throws",
                [](JobContext&) -> Result<ResultWriter> { throw std::runtime_error("surprise"); });
  ASSERT_TRUE(pool.Start().ok());
  std::string flaky = Enqueue("flaky");
  std::string bad = Enqueue("bad");
  std::string throws = Enqueue("throws", {.max_attempts = 2});
  ASSERT_TRUE(WaitForState(flaky, JobState::kFailed));
  ASSERT_TRUE(WaitForState(bad, JobState::kFailed));
  ASSERT_TRUE(WaitForState(throws, JobState::kFailed));
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(queue_->Get(Scope::All(), flaky)->last_error->message, "engine busy");
  EXPECT_EQ(queue_->Get(Scope::All(), bad)->attempts, 1);
  Job thrown = *queue_->Get(Scope::All(), throws);
  EXPECT_EQ(thrown.attempts, 2);
  EXPECT_NE(thrown.last_error->message.find("surprise"), std::string::npos);
  pool.Stop(milliseconds(100));
}

TEST_F(WorkerPoolTest, RefusesToStartWithoutHandlers) {
  WorkerPool pool(*queue_, FastOptions());
  EXPECT_EQ(pool.Start().error().code, ErrorCode::kInvalidArgument);
}

// ---- Two OS processes --------------------------------------------------------------------
// The test binary starts itself again as a worker process (ChildWorkerProcess below), pointed
// at the same database file through the environment.

pid_t SpawnChildWorker(const std::string& db, const std::string& mode) {
  std::vector<std::string> env_strings = {"CRM_JOBS_CHILD_DB=" + db, "CRM_JOBS_CHILD_MODE=" + mode};
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = "/proc/self/exe", filter = "--gtest_filter=ChildWorkerProcess.Run";
  char* argv[] = {exe.data(), filter.data(), nullptr};
  posix_spawn_file_actions_t actions;  // the child's gtest report would mix with ours
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

TEST(ChildWorkerProcess, Run) {
  const char* db = std::getenv("CRM_JOBS_CHILD_DB");
  if (!db) GTEST_SKIP() << "runs only as the child of the multi-process tests";
  std::string mode = std::getenv("CRM_JOBS_CHILD_MODE") ? std::getenv("CRM_JOBS_CHILD_MODE") : "";
  ASSERT_TRUE(InitCrypto());
  auto store = storage::OpenSqlite({db});
  ASSERT_TRUE(store.ok());
  auto queue = NewDatabaseJobQueue(**store, FastQueue());
  WorkerPool pool(*queue, FastOptions(2));
  std::string me = "pid" + std::to_string(getpid());
  if (mode == "hang") {  // takes a job and never finishes it: the parent kills us
    pool.Register("noop", [](JobContext&) -> Result<ResultWriter> {
      std::this_thread::sleep_for(std::chrono::seconds(60));
      return ResultWriter{};
    });
  } else {
    pool.Register("noop", RecordingHandler(me, milliseconds(1)));
  }
  ASSERT_TRUE(pool.Start().ok());
  testing::WaitFor(
      [&] {
        auto s = queue->Stats(Scope::All());
        return s.ok() && s->depth == 0 && s->running == 0;
      },
      std::chrono::seconds(30));
  pool.Stop(milliseconds(1000));
}

TEST_F(WorkerPoolTest, TwoProcessesShareTheQueueAndRunEachJobOnce) {
  for (int i = 0; i < 300; ++i) Enqueue("noop");
  pid_t child = SpawnChildWorker(DbPath(), "drain");
  ASSERT_GT(child, 0);
  std::string child_writer = "pid" + std::to_string(child);
  // Start here once the child is working, so that both processes really share the queue.
  WaitFor([&] { return Count("SELECT COUNT(*) AS n FROM results") > 0; });
  WorkerPool pool(*queue_, FastOptions(2));
  pool.Register("noop", RecordingHandler("parent"));
  ASSERT_TRUE(pool.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return Count("SELECT COUNT(*) AS n FROM results") >= 300; },
                      std::chrono::seconds(30)));
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  pool.Stop(milliseconds(1000));
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM results"), 300);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) AS n FROM results"), 300);
  EXPECT_GT(Count("SELECT COUNT(*) AS n FROM results WHERE writer = ?", {child_writer}), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM jobs WHERE state <> 'succeeded'"), 0);
}

TEST_F(WorkerPoolTest, JobOfAKilledWorkerProcessIsRetriedAfterItsLeaseExpires) {
  std::string id = Enqueue("noop");
  pid_t child = SpawnChildWorker(DbPath(), "hang");
  ASSERT_GT(child, 0);
  ASSERT_TRUE(WaitForState(id, JobState::kRunning));
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  WorkerPool pool(*queue_, FastOptions());
  pool.Register("noop", RecordingHandler("parent"));
  ASSERT_TRUE(pool.Start().ok());
  ASSERT_TRUE(WaitForState(id, JobState::kSucceeded));
  pool.Stop(milliseconds(100));
  EXPECT_EQ(ResultsFor(id), 1);
  EXPECT_EQ(queue_->Get(Scope::All(), id)->attempts, 2);
}

}  // namespace
}  // namespace crm::jobs
