// WorkerPool: N threads that claim jobs from a JobQueue and run the handler registered for each
// job's kind. Used in-process by `serve` (QUEUE_WORKERS) and by `crm-ai worker`.
//
// While a job runs, a supervisor thread heartbeats its lease, persists its progress (fraction,
// stage, ETA) on the job row, watches its timeout and relays cancel requests: the handler sees
// them through JobContext::Cancelled() (or the ProgressSink it hands to engines) and returns
// early. A handler computes outside any transaction and returns a ResultWriter; the pool passes
// it to JobQueue::Complete, which writes the results only if the lease still holds.
//
// Stop(grace): no new job is taken; running ones may finish within `grace`, after which they
// are cancelled and handed back to the queue (attempt not counted) for another worker.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/progress.h"
#include "common/result.h"
#include "jobs/job_queue.h"

namespace crm::jobs {

// Why a running handler is asked to stop.
enum class StopReason { kNone, kCancelRequested, kTimeout, kShutdown, kLeaseLost };

class JobContext {
 public:
  const ClaimedJob& job() const { return job_; }
  const nlohmann::json& payload() const { return job_.payload; }

  // Progress of the whole job in [0, 1] with an optional stage name; the ETA is estimated from
  // the elapsed time unless given. Persisted on the job row within a second or so.
  void ReportProgress(double fraction, std::string_view stage = {},
                      std::optional<int64_t> eta_seconds = std::nullopt);
  // True once the job should stop (cancel request, timeout, shutdown, lost lease). A handler
  // that sees it returns promptly, usually Error(kCancelled, ...).
  bool Cancelled() const { return stop_reason_.load() != StopReason::kNone; }
  StopReason stop_reason() const { return stop_reason_.load(); }
  // For engines: progress of a step mapped into [from, to] of the job, and cancellation.
  ProgressSink Sink(double from = 0, double to = 1, std::string stage = {});

 private:
  friend class WorkerPool;
  JobContext(ClaimedJob job) : job_(std::move(job)), started_(std::chrono::steady_clock::now()) {}
  void RequestStop(StopReason reason);
  std::optional<JobProgress> TakeProgress();  // the latest report if not yet persisted

  ClaimedJob job_;
  std::chrono::steady_clock::time_point started_;
  std::atomic<StopReason> stop_reason_{StopReason::kNone};
  std::mutex mu_;
  JobProgress progress_;
  bool progress_dirty_ = false;
  // Supervisor bookkeeping.
  std::chrono::steady_clock::time_point last_heartbeat_;
  std::chrono::steady_clock::time_point last_progress_write_;
  bool handed_back_ = false;
};

// Runs one attempt; returns what to write in the completing transaction (may be empty) or the
// error that failed the attempt (retried when IsRetryable(error)).
using Handler = std::function<Result<ResultWriter>(JobContext&)>;

struct WorkerPoolOptions {
  int workers = 1;        // QUEUE_WORKERS threads
  std::string worker_id;  // empty = "<host>:<pid>:<random>"; thread n appends "/n"
  std::chrono::milliseconds lease{30'000};             // lease taken per claim and heartbeat
  std::chrono::milliseconds heartbeat_interval{0};     // 0 = lease / 3
  std::chrono::milliseconds progress_interval{1'000};  // how often progress reaches the row
  std::chrono::milliseconds poll_interval{1'000};      // idle wait when nothing is due
  // After a job's timeout, how long its handler may take to notice the cancellation before the
  // pool stops heartbeating it (its lease then lapses and another worker may retry it).
  std::chrono::milliseconds timeout_grace{30'000};
  // Jobs a worker claims at once; their results are committed together with the next claim, in
  // one transaction. Keep 1 unless the pool runs only short jobs (well under a second each):
  // claimed jobs wait without heartbeats, and results wait for the rest of the batch.
  int claim_batch = 1;
};

class WorkerPool {
 public:
  WorkerPool(JobQueue& queue, WorkerPoolOptions options);
  ~WorkerPool();  // Stop(0) if still running
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Before Start(): the handler for jobs of `kind`. Only registered kinds are claimed.
  void Register(std::string kind, Handler handler);
  Status Start();
  void Stop(std::chrono::milliseconds grace);

  int running_jobs() const;
  const std::string& worker_id() const { return options_.worker_id; }

 private:
  void WorkerLoop(int index);
  Result<ResultWriter> RunHandler(JobContext& ctx);
  // A failed attempt: handed back on shutdown, retried or failed per the error and stop reason.
  void RecordFailure(JobContext& ctx, const Error& failure);
  void SupervisorLoop();
  void Supervise(JobContext& ctx);
  void HandBack(JobContext& ctx);

  JobQueue& queue_;
  WorkerPoolOptions options_;
  std::map<std::string, Handler> handlers_;
  std::vector<std::string> kinds_;
  std::vector<std::thread> threads_;
  std::thread supervisor_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // running_ changed, or the supervisor should wake
  std::map<std::string, std::shared_ptr<JobContext>> running_;
  bool supervisor_exit_ = false;
};

}  // namespace crm::jobs
