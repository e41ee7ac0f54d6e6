// The DatabaseJobQueue contract on a real SQLite file, with a fake clock for leases and backoff.
#include "jobs/job_queue.h"
#include "jobs/queue_config.h"

#include <atomic>
#include <set>
#include <thread>

#include "jobs/jobs_test_support.h"

namespace crm::jobs {
namespace {

using std::chrono::milliseconds;

class JobQueueTest : public testing::JobsDatabaseTest {
 protected:
  void SetUp() override {
    JobsDatabaseTest::SetUp();
    options_.now_ms = [this] { return now_.load(); };
    options_.backoff_base = milliseconds(1000);
    options_.backoff_cap = milliseconds(60'000);
    queue_ = NewDatabaseJobQueue(*store_, options_);
  }

  std::string Enqueue(const std::string& firm = "FIRM_A", EnqueueOptions o = {},
                      const std::string& kind = "noop") {
    auto id = queue_->Enqueue(kind, firm, {{"n", 1}}, o);
    EXPECT_TRUE(id.ok()) << id.error().message;
    return id.ok() ? *id : "";
  }

  std::optional<ClaimedJob> Claim(const std::string& worker,
                                  milliseconds lease = milliseconds(1000),
                                  std::vector<std::string> kinds = {}) {
    auto c = queue_->Claim(worker, kinds, lease);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? *c : std::nullopt;
  }

  Job Get(const std::string& id) {
    auto j = queue_->Get(Scope::All(), id);
    EXPECT_TRUE(j.ok()) << j.error().message;
    return j.ok() ? *j : Job{};
  }

  ResultWriter WriteResult(const std::string& job_id, const std::string& writer) {
    return [job_id, writer](storage::Connection& c) -> Status {
      CRM_TRY(c.Exec("INSERT INTO results (job_id, writer) VALUES (?, ?)", {job_id, writer}));
      return OkStatus();
    };
  }

  std::atomic<int64_t> now_{1'800'000'000'000};
  DatabaseJobQueueOptions options_;
  std::unique_ptr<JobQueue> queue_;
};

TEST_F(JobQueueTest, EnqueuedJobIsClaimedRunAndCompletedWithItsResults) {
  std::string id = Enqueue();
  Job queued = Get(id);
  EXPECT_EQ(queued.state, JobState::kQueued);
  EXPECT_EQ(queued.max_attempts, 3);
  EXPECT_EQ(queued.timeout_seconds, 300);
  EXPECT_EQ(queued.firm_id, "FIRM_A");

  auto job = Claim("w1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->id, id);
  EXPECT_EQ(job->attempt, 1);
  EXPECT_EQ(job->payload["n"], 1);
  EXPECT_FALSE(job->lease_token.empty());
  Job running = Get(id);
  EXPECT_EQ(running.state, JobState::kRunning);
  EXPECT_EQ(running.worker_id, "w1");
  EXPECT_FALSE(Claim("w2")) << "a running job with a live lease is not handed out twice";

  ASSERT_TRUE(queue_->Complete(*job, WriteResult(id, "w1")).ok());
  Job done = Get(id);
  EXPECT_EQ(done.state, JobState::kSucceeded);
  EXPECT_DOUBLE_EQ(done.progress, 1.0);
  EXPECT_TRUE(done.finished_at.has_value());
  EXPECT_EQ(ResultsFor(id), 1);
  EXPECT_FALSE(Claim("w1"));
  EXPECT_FALSE(queue_->Complete(*job, WriteResult(id, "w1")).ok()) << "completing twice";
  EXPECT_EQ(ResultsFor(id), 1);
}

TEST_F(JobQueueTest, ExpiredLeaseIsClaimedAgainAndTheFirstWorkersCompleteIsRefused) {
  std::string id = Enqueue();
  auto first = Claim("w1", milliseconds(1000));
  ASSERT_TRUE(first);
  now_ += 500;
  EXPECT_FALSE(Claim("w2"));
  now_ += 1000;  // w1 stalled past its lease
  auto second = Claim("w2", milliseconds(1000));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->id, id);
  EXPECT_EQ(second->attempt, 2) << "an expired lease counts an attempt";
  EXPECT_NE(second->lease_token, first->lease_token);

  Status late = queue_->Complete(*first, WriteResult(id, "w1"));
  ASSERT_FALSE(late.ok());
  EXPECT_TRUE(IsLeaseLost(late.error()));
  EXPECT_EQ(ResultsFor(id), 0) << "the refused Complete wrote nothing";
  EXPECT_TRUE(IsLeaseLost(queue_->Heartbeat(*first, milliseconds(1000)).error()));
  EXPECT_TRUE(IsLeaseLost(queue_->Fail(*first, Internal("x"), true).error()));
  EXPECT_TRUE(IsLeaseLost(queue_->Release(*first).error()));

  ASSERT_TRUE(queue_->Complete(*second, WriteResult(id, "w2")).ok());
  EXPECT_EQ(ResultsFor(id), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM results WHERE writer = 'w2'"), 1);
}

TEST_F(JobQueueTest, HeartbeatExtendsTheLease) {
  Enqueue();
  auto job = Claim("w1", milliseconds(1000));
  ASSERT_TRUE(job);
  for (int i = 0; i < 5; ++i) {
    now_ += 800;
    ASSERT_TRUE(queue_->Heartbeat(*job, milliseconds(1000)).ok());
    EXPECT_FALSE(Claim("w2"));
  }
  ASSERT_TRUE(
      queue_->Heartbeat(*job, milliseconds(1000), JobProgress{0.4, "transcribing", 12}).ok());
  Job j = Get(job->id);
  EXPECT_DOUBLE_EQ(j.progress, 0.4);
  EXPECT_EQ(j.stage, "transcribing");
  EXPECT_EQ(j.eta_seconds, 12);
  EXPECT_EQ(j.ToJson()["progress"]["percent"], 40.0);
}

TEST_F(JobQueueTest, FailedAttemptsBackOffExponentiallyThenFailWithTheErrorKept) {
  std::string id = Enqueue();
  int64_t expected_min[] = {500, 1000};  // base 1 s then 2 s, half of each fixed
  int64_t expected_max[] = {1000, 2000};
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto job = Claim("w1");
    ASSERT_TRUE(job) << "attempt " << attempt;
    EXPECT_EQ(job->attempt, attempt);
    auto out = queue_->Fail(*job, Error(ErrorCode::kUnavailable, "model server down"), true);
    ASSERT_TRUE(out.ok()) << out.error().message;
    if (attempt < 3) {
      EXPECT_EQ(out->state, JobState::kQueued);
      int64_t delay = out->retry_at_ms - now_;
      EXPECT_GE(delay, expected_min[attempt - 1]);
      EXPECT_LE(delay, expected_max[attempt - 1]);
      EXPECT_FALSE(Claim("w1")) << "not due before its backoff";
      Job waiting = Get(id);
      EXPECT_EQ(waiting.state, JobState::kQueued);
      ASSERT_TRUE(waiting.last_error);
      now_ = out->retry_at_ms;
    } else {
      EXPECT_EQ(out->state, JobState::kFailed);
    }
  }
  Job failed = Get(id);
  EXPECT_EQ(failed.state, JobState::kFailed);
  EXPECT_EQ(failed.attempts, 3);
  ASSERT_TRUE(failed.last_error);
  EXPECT_EQ(failed.last_error->code, ErrorCode::kUnavailable);
  EXPECT_EQ(failed.last_error->message, "model server down");
  EXPECT_EQ(failed.ToJson()["error"]["code"], "unavailable");
  auto list = queue_->List(Scope::Firm("FIRM_A"), {.state = JobState::kFailed});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->jobs.size(), 1u);
  EXPECT_EQ(list->jobs[0].id, id);
  EXPECT_EQ(queue_->Stats(Scope::All())->failed, 1);
}

TEST_F(JobQueueTest, NonRetryableErrorFailsAtOnce) {
  std::string id = Enqueue();
  auto job = Claim("w1");
  ASSERT_TRUE(job);
  auto out = queue_->Fail(*job, Error(ErrorCode::kUndecodable, "not audio"), false);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->state, JobState::kFailed);
  EXPECT_EQ(Get(id).attempts, 1);
}

TEST_F(JobQueueTest, JobWhoseLeaseExpiresOnEveryAttemptEndsFailed) {
  std::string id = Enqueue("FIRM_A", {.max_attempts = 2});
  ASSERT_TRUE(Claim("w1"));
  now_ += 2000;
  ASSERT_TRUE(Claim("w2"));
  now_ += 2000;
  EXPECT_FALSE(Claim("w3"));
  Job j = Get(id);
  EXPECT_EQ(j.state, JobState::kFailed);
  ASSERT_TRUE(j.last_error);
  EXPECT_EQ(j.last_error->code, ErrorCode::kTimeout);
  EXPECT_NE(j.last_error->message.find("lease expired"), std::string::npos);
}

TEST_F(JobQueueTest, CancelledQueuedJobIsNeverClaimed) {
  std::string id = Enqueue();
  auto cancelled = queue_->Cancel(Scope::Firm("FIRM_A"), id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  EXPECT_FALSE(Claim("w1"));
  EXPECT_TRUE(queue_->Cancel(Scope::Firm("FIRM_A"), id).ok()) << "cancelling twice is harmless";

  std::string done = Enqueue();
  auto job = Claim("w1");
  ASSERT_TRUE(queue_->Complete(*job).ok());
  auto refused = queue_->Cancel(Scope::Firm("FIRM_A"), done);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
}

TEST_F(JobQueueTest, CancelledRunningJobIsToldAtHeartbeatAndWritesNoResults) {
  std::string id = Enqueue();
  auto job = Claim("w1");
  ASSERT_TRUE(job);
  auto requested = queue_->Cancel(Scope::Firm("FIRM_A"), id);
  ASSERT_TRUE(requested.ok());
  EXPECT_EQ(requested->state, JobState::kRunning);
  EXPECT_TRUE(requested->cancel_requested);
  Status hb = queue_->Heartbeat(*job, milliseconds(1000));
  ASSERT_FALSE(hb.ok());
  EXPECT_EQ(hb.error().code, ErrorCode::kCancelled);
  Status complete = queue_->Complete(*job, WriteResult(id, "w1"));
  ASSERT_FALSE(complete.ok());
  EXPECT_EQ(complete.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(ResultsFor(id), 0);
  EXPECT_EQ(Get(id).state, JobState::kCancelled);
}

TEST_F(JobQueueTest, CancelledJobWhoseWorkerDiedEndsCancelledNotRetried) {
  std::string id = Enqueue();
  ASSERT_TRUE(Claim("w1"));
  ASSERT_TRUE(queue_->Cancel(Scope::All(), id).ok());
  now_ += 5000;
  EXPECT_FALSE(Claim("w2"));
  EXPECT_EQ(Get(id).state, JobState::kCancelled);
}

TEST_F(JobQueueTest, FailedJobCanBeRetriedWithFreshAttempts) {
  std::string id = Enqueue("FIRM_A", {.max_attempts = 1});
  auto job = Claim("w1");
  ASSERT_TRUE(queue_->Fail(*job, Internal("boom"), true).ok());
  EXPECT_EQ(Get(id).state, JobState::kFailed);
  auto retried = queue_->Retry(Scope::Firm("FIRM_A"), id);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->state, JobState::kQueued);
  EXPECT_EQ(retried->attempts, 0);
  EXPECT_FALSE(retried->finished_at);
  auto again = Claim("w1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempt, 1);
  auto refused = queue_->Retry(Scope::Firm("FIRM_A"), id);
  ASSERT_FALSE(refused.ok()) << "a running job is not retried";
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(queue_->Complete(*again).ok());
  EXPECT_EQ(Get(id).state, JobState::kSucceeded);
}

TEST_F(JobQueueTest, AnotherFirmsJobIsNotFound) {
  std::string id = Enqueue("FIRM_A");
  for (auto r : {queue_->Get(Scope::Firm("FIRM_B"), id), queue_->Cancel(Scope::Firm("FIRM_B"), id),
                 queue_->Retry(Scope::Firm("FIRM_B"), id)}) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  }
  EXPECT_EQ(queue_->Get(Scope::All(), "01NOPE").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(queue_->List(Scope::Firm("FIRM_B"), {})->jobs.empty());
  EXPECT_EQ(queue_->List(Scope::Firm("FIRM_A"), {})->jobs.size(), 1u);
  EXPECT_EQ(queue_->Stats(Scope::Firm("FIRM_B"))->depth, 0);
  EXPECT_EQ(queue_->Stats(Scope::Firm("FIRM_A"))->depth, 1);
  EXPECT_EQ(Get(id).state, JobState::kQueued) << "the foreign cancel changed nothing";
}

TEST_F(JobQueueTest, DedupeKeyReturnsTheActiveJobUntilItFinishes) {
  EnqueueOptions o{.dedupe_key = "transcribe:REC1"};
  std::string id = Enqueue("FIRM_A", o);
  EXPECT_EQ(Enqueue("FIRM_A", o), id);
  auto job = Claim("w1");
  EXPECT_EQ(Enqueue("FIRM_A", o), id) << "still active while running";
  ASSERT_TRUE(queue_->Fail(*job, Internal("boom"), false).ok());
  std::string second = Enqueue("FIRM_A", o);
  EXPECT_NE(second, id) << "a finished job no longer holds the key";
  auto retry = queue_->Retry(Scope::All(), id);
  ASSERT_FALSE(retry.ok()) << "retrying would duplicate the active job";
  EXPECT_EQ(retry.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM jobs"), 2);
}

TEST_F(JobQueueTest, ClaimTakesHighestPriorityThenOldestDueJobOfTheAskedKinds) {
  std::string later = Enqueue("FIRM_A", {.run_after_ms = now_ + 60'000});
  std::string old_job = Enqueue();
  now_ += 10;
  std::string young = Enqueue();
  std::string urgent = Enqueue("FIRM_B", {.priority = 5});
  std::string mail = Enqueue("FIRM_B", {}, "mail");
  auto kinds = std::vector<std::string>{"noop"};
  const milliseconds lease(3'600'000);
  EXPECT_EQ(Claim("w", lease, kinds)->id, urgent);
  EXPECT_EQ(Claim("w", lease, kinds)->id, old_job);
  EXPECT_EQ(Claim("w", lease, kinds)->id, young);
  EXPECT_FALSE(Claim("w", lease, kinds)) << "neither scheduled nor other kinds";
  EXPECT_EQ(Claim("w", lease, {"mail"})->id, mail);
  now_ += 60'000;
  EXPECT_EQ(Claim("w", lease, kinds)->id, later);
}

TEST_F(JobQueueTest, ReleasedJobIsQueuedAgainWithoutSpendingAnAttempt) {
  std::string id = Enqueue();
  auto job = Claim("w1");
  ASSERT_TRUE(queue_->Release(*job).ok());
  Job j = Get(id);
  EXPECT_EQ(j.state, JobState::kQueued);
  EXPECT_EQ(j.attempts, 0);
  auto again = Claim("w2");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->attempt, 1);
}

TEST_F(JobQueueTest, ListsNewestFirstPageByPage) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Enqueue());
    std::this_thread::sleep_for(milliseconds(2));  // ids sort by creation millisecond
  }
  auto page1 = queue_->List(Scope::Firm("FIRM_A"), {.limit = 2});
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->jobs.size(), 2u);
  EXPECT_EQ(page1->jobs[0].id, ids[4]);
  EXPECT_EQ(page1->jobs[1].id, ids[3]);
  auto page2 = queue_->List(Scope::Firm("FIRM_A"), {.limit = 2, .cursor = page1->next_cursor});
  auto page3 = queue_->List(Scope::Firm("FIRM_A"), {.limit = 2, .cursor = page2->next_cursor});
  EXPECT_EQ(page2->jobs[0].id, ids[2]);
  ASSERT_EQ(page3->jobs.size(), 1u);
  EXPECT_EQ(page3->jobs[0].id, ids[0]);
  EXPECT_TRUE(page3->next_cursor.empty());
  auto bad = queue_->List(Scope::All(), {.cursor = "x' OR 1=1 --"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(JobQueueTest, StatsCountDepthRunningAndThroughput) {
  for (int i = 0; i < 4; ++i) Enqueue();
  Enqueue("FIRM_B", {.run_after_ms = now_ + 60'000});
  now_ += 3000;
  auto a = Claim("w1");
  auto b = Claim("w1");
  ASSERT_TRUE(queue_->Complete(*a).ok());
  auto s = queue_->Stats(Scope::All());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->depth, 2);
  EXPECT_EQ(s->scheduled, 1);
  EXPECT_EQ(s->running, 1);
  EXPECT_EQ(s->succeeded_last_hour, 1);
  EXPECT_DOUBLE_EQ(s->throughput_per_minute, 0.2);
  EXPECT_EQ(s->oldest_due_age_ms, 3000);
  EXPECT_EQ(s->ToJson()["depth"], 2);
}

TEST_F(JobQueueTest, RejectsBadEnqueues) {
  EXPECT_EQ(queue_->Enqueue("", "FIRM_A", {}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(queue_->Enqueue(std::string(65, 'k'), "FIRM_A", {}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(queue_->Enqueue("noop", "FIRM_A", {}, {.max_attempts = -1}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_FALSE(queue_->Enqueue("noop", "NO_SUCH_FIRM", {}).ok());
  EXPECT_TRUE(queue_->Enqueue("maintenance", std::nullopt, {}).ok()) << "installation-wide job";
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM jobs"), 1);
}

TEST_F(JobQueueTest, ConcurrentClaimersNeverShareAJob) {
  for (int i = 0; i < 200; ++i) Enqueue();
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&, w] {
      while (auto job = Claim("w" + std::to_string(w)))
        ASSERT_TRUE(queue_->Complete(*job, WriteResult(job->id, "w")).ok());
    });
  for (auto& t : workers) t.join();
  EXPECT_EQ(Count("SELECT COUNT(*) AS n FROM results"), 200);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) AS n FROM results"), 200);
}

TEST_F(JobQueueTest, GroupedWritesCommitOrRollBackEachOnTheirOwn) {
  std::string a = Enqueue(), b = Enqueue(), c = Enqueue();
  auto ja = Claim("w"), jb = Claim("w"), jc = Claim("w");
  ASSERT_TRUE(ja && jb && jc);
  std::atomic<bool> a_writing{false};
  std::thread ta([&] {
    Status st = queue_->Complete(*ja, [&](storage::Connection& conn) -> Status {
      a_writing = true;
      std::this_thread::sleep_for(milliseconds(300));  // b and c queue up meanwhile
      return WriteResult(ja->id, "w")(conn);
    });
    EXPECT_TRUE(st.ok());
  });
  ASSERT_TRUE(testing::WaitFor([&] { return a_writing.load(); }));
  Status sb = OkStatus(), sc = OkStatus();
  std::thread tb([&] {
    sb = queue_->Complete(*jb, [&](storage::Connection& conn) -> Status {
      CRM_TRY(WriteResult(jb->id, "w")(conn));
      return Error(ErrorCode::kIo, "results half written");
    });
  });
  std::thread tc([&] { sc = queue_->Complete(*jc, WriteResult(jc->id, "w")); });
  ta.join();
  tb.join();
  tc.join();
  ASSERT_FALSE(sb.ok());
  EXPECT_EQ(sb.error().message, "results half written");
  EXPECT_TRUE(sc.ok());
  EXPECT_EQ(ResultsFor(a), 1);
  EXPECT_EQ(ResultsFor(b), 0) << "the failed write left nothing behind";
  EXPECT_EQ(ResultsFor(c), 1);
  EXPECT_EQ(Get(b).state, JobState::kRunning);
  EXPECT_EQ(Get(c).state, JobState::kSucceeded);
}

TEST_F(JobQueueTest, BatchCompletesEachJobOnItsOwnAndClaimsTheNextOnes) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Enqueue());
  auto claimed = queue_->ClaimBatch("w", {}, milliseconds(1000), 3);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 3u);
  auto& jobs = *claimed;
  ASSERT_TRUE(queue_->Cancel(Scope::All(), jobs[2].id).ok());
  std::vector<Completion> done = {
      {jobs[0], WriteResult(jobs[0].id, "w")},
      {jobs[1],
       [&](storage::Connection& c) -> Status {
         CRM_TRY(WriteResult(jobs[1].id, "w")(c));
         return Error(ErrorCode::kIo, "results half written");
       }},
      {jobs[2], WriteResult(jobs[2].id, "w")},
  };
  auto out = queue_->CompleteBatch(done, {"w", {}, milliseconds(1000), 5});
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->completed.size(), 3u);
  EXPECT_TRUE(out->completed[0].ok());
  EXPECT_EQ(out->completed[1].error().message, "results half written");
  EXPECT_EQ(out->completed[2].error().code, ErrorCode::kCancelled);
  EXPECT_EQ(ResultsFor(jobs[0].id), 1);
  EXPECT_EQ(ResultsFor(jobs[1].id), 0) << "the failed completion was rolled back alone";
  EXPECT_EQ(ResultsFor(jobs[2].id), 0);
  EXPECT_EQ(Get(jobs[0].id).state, JobState::kSucceeded);
  EXPECT_EQ(Get(jobs[1].id).state, JobState::kRunning);
  EXPECT_EQ(Get(jobs[2].id).state, JobState::kCancelled);
  ASSERT_EQ(out->next.size(), 2u) << "the two jobs left were claimed in the same transaction";
  for (auto& next : out->next) EXPECT_EQ(Get(next.id).state, JobState::kRunning);
  auto again = queue_->CompleteBatch({{jobs[0], {}}}, {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(IsLeaseLost(again->completed[0].error()));
  EXPECT_TRUE(again->next.empty());
}

TEST_F(JobQueueTest, QueueSettingsComeFromTheConfiguration) {
  auto config =
      config::Load({{"QUEUE_TRIES", "5"}, {"QUEUE_TIMEOUT", "600"}, {"QUEUE_WORKERS", "3"}}, {});
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto queue = NewDatabaseJobQueue(*store_, QueueOptionsFromConfig(*config));
  auto id = queue->Enqueue("noop", std::string("FIRM_A"), {});
  ASSERT_TRUE(id.ok());
  Job job = *queue->Get(Scope::All(), *id);
  EXPECT_EQ(job.max_attempts, 5);
  EXPECT_EQ(job.timeout_seconds, 600);
  EXPECT_EQ(PoolOptionsFromConfig(*config).workers, 3);
  auto defaults = config::Load({}, {});
  EXPECT_EQ(QueueOptionsFromConfig(*defaults).default_max_attempts, 3);
  EXPECT_EQ(QueueOptionsFromConfig(*defaults).default_timeout_seconds, 300);
  EXPECT_EQ(PoolOptionsFromConfig(*defaults).workers, 1);
}

TEST(BackoffTest, DoublesFromTheBaseUpToTheCapWithHalfJitter) {
  using std::chrono::milliseconds;
  EXPECT_EQ(BackoffDelay(1, milliseconds(1000), milliseconds(60'000), 0).count(), 500);
  EXPECT_EQ(BackoffDelay(1, milliseconds(1000), milliseconds(60'000), 500).count(), 1000);
  EXPECT_EQ(BackoffDelay(3, milliseconds(1000), milliseconds(60'000), 0).count(), 2000);
  EXPECT_EQ(BackoffDelay(40, milliseconds(1000), milliseconds(60'000), ~0ull).count() <= 60'000,
            true);
  EXPECT_EQ(BackoffDelay(40, milliseconds(1000), milliseconds(60'000), 0).count(), 30'000);
}

TEST(JobTimeoutTest, ScalesWithAudioButNeverBelowTheQueueTimeout) {
  EXPECT_EQ(JobTimeoutSeconds(300, 30), 300);
  EXPECT_EQ(JobTimeoutSeconds(300, 3600), 10800);
  EXPECT_EQ(JobTimeoutSeconds(300, 3600, 2.0), 7200);
  EXPECT_EQ(JobTimeoutSeconds(300, -5), 300);
}

TEST(RetryableTest, TransientErrorsRetryBadInputsDoNot) {
  EXPECT_TRUE(IsRetryable(Error(ErrorCode::kUnavailable, "")));
  EXPECT_TRUE(IsRetryable(Error(ErrorCode::kIo, "")));
  EXPECT_FALSE(IsRetryable(Error(ErrorCode::kUndecodable, "")));
  EXPECT_FALSE(IsRetryable(Error(ErrorCode::kNotFound, "")));
  EXPECT_FALSE(IsRetryable(Error(ErrorCode::kIo, "", {{"retryable", false}})));
  EXPECT_TRUE(IsRetryable(Error(ErrorCode::kInvalidArgument, "", {{"retryable", true}})));
}

}  // namespace
}  // namespace crm::jobs
