// JobQueue: the durable queue of background work (transcription, diarization, mail, ...).
//
// Delivery is at least once: a job is handed to a worker with a lease that the worker keeps
// alive with heartbeats; when the worker dies or stalls the lease expires and another worker
// claims the job again. Handlers are therefore idempotent, and Complete() makes them so for the
// database: it checks the lease, writes the job's results and marks it succeeded in ONE
// transaction, so a job whose lease was taken over cannot write its results twice.
//
// Every state lives in the database, so any number of processes (`serve`, `crm-ai worker`) can
// share one queue. DatabaseJobQueue is the embedded implementation; a Redis one can come behind
// the same interface. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "jobs/job.h"
#include "storage/store.h"

namespace crm::jobs {

// Writes a job's results inside Complete()'s transaction; may be empty (nothing to write).
using ResultWriter = std::function<Status(storage::Connection&)>;

struct Completion {
  ClaimedJob job;
  ResultWriter write_results;  // may be empty
};

struct ClaimRequest {
  std::string worker_id;
  std::vector<std::string> kinds;  // empty = all kinds
  std::chrono::milliseconds lease{30'000};
  int max_jobs = 0;  // 0 = claim nothing
};

struct BatchOutcome {
  std::vector<Status> completed;  // one per completion, in order
  std::vector<ClaimedJob> next;   // jobs claimed in the same transaction
};

class JobQueue {
 public:
  virtual ~JobQueue() = default;

  // Adds a job; returns its id (or the id of the active job with the same dedupe_key).
  virtual Result<std::string> Enqueue(std::string_view kind,
                                      const std::optional<std::string>& firm_id,
                                      const nlohmann::json& payload,
                                      const EnqueueOptions& options = {}) = 0;

  // Takes the next due job of one of `kinds` (all kinds when empty) for `worker_id`, with a
  // lease of `lease`. A running job whose lease expired is due again (another attempt); one that
  // has used all its attempts that way becomes failed. nullopt when nothing is due.
  virtual Result<std::optional<ClaimedJob>> Claim(std::string_view worker_id,
                                                  const std::vector<std::string>& kinds,
                                                  std::chrono::milliseconds lease) = 0;
  // Claims up to `max_jobs` due jobs in one transaction (in claim order).
  virtual Result<std::vector<ClaimedJob>> ClaimBatch(std::string_view worker_id,
                                                     const std::vector<std::string>& kinds,
                                                     std::chrono::milliseconds lease,
                                                     int max_jobs) = 0;

  // Extends the lease and, when given, records progress. Fails with LeaseLost (kConflict) when
  // the lease was taken over, and with kCancelled when someone asked to cancel the job (the
  // lease is still extended: the worker stops the handler, then calls Fail or Release).
  virtual Status Heartbeat(const ClaimedJob& job, std::chrono::milliseconds lease,
                           const std::optional<JobProgress>& progress = std::nullopt) = 0;

  // In one transaction: checks the lease still holds, runs `write_results`, marks the job
  // succeeded. LeaseLost when the lease is gone (nothing written); kCancelled when the job was
  // cancelled meanwhile (it becomes cancelled, nothing written); write_results' own error
  // otherwise (nothing written, the job still running: call Fail).
  virtual Status Complete(const ClaimedJob& job, const ResultWriter& write_results = {}) = 0;

  // Several Complete()s, then Claim()s of up to `next.max_jobs` jobs, all in one transaction:
  // a busy worker pays one commit per batch instead of two per job. Each completion succeeds or
  // fails on its own (`completed[i]`, with Complete()'s errors); a failure to claim only yields
  // fewer next jobs. The whole call fails only when the transaction cannot commit.
  virtual Result<BatchOutcome> CompleteBatch(const std::vector<Completion>& completions,
                                             const ClaimRequest& next) = 0;

  // Ends a failed attempt: back to queued after a backoff when `retryable` and attempts remain,
  // failed with `error` kept otherwise, cancelled when a cancel was requested.
  virtual Result<FailOutcome> Fail(const ClaimedJob& job, const Error& error, bool retryable) = 0;

  // Hands a running job back untouched (shutdown): queued again at once, the attempt not
  // counted.
  virtual Status Release(const ClaimedJob& job) = 0;

  // A queued job becomes cancelled at once; a running one gets a cancel request its worker sees
  // at the next heartbeat. Cancelling a cancelled job is a no-op; a succeeded or failed one is a
  // conflict.
  virtual Result<Job> Cancel(const Scope& scope, std::string_view id) = 0;

  // A failed or cancelled job is queued again with a fresh set of attempts.
  virtual Result<Job> Retry(const Scope& scope, std::string_view id) = 0;

  virtual Result<Job> Get(const Scope& scope, std::string_view id) = 0;
  // The jobs of `ids` in the scope, in no particular order; ids not found are left out. What a
  // recording (or any object waiting on a job) shows of its processing, asked of the queue
  // rather than read from its tables, so that every queue implementation can answer.
  virtual Result<std::vector<Job>> GetMany(const Scope& scope,
                                           const std::vector<std::string>& ids) = 0;
  virtual Result<JobPage> List(const Scope& scope, const ListFilter& filter) = 0;
  virtual Result<QueueStats> Stats(const Scope& scope) = 0;

  // Idle workers wait here between polls; jobs enqueued through this object (or NotifyWorkers)
  // wake them at once, jobs enqueued by other processes are seen at the next poll.
  virtual void WaitForWork(std::chrono::milliseconds max_wait) = 0;
  virtual void NotifyWorkers() = 0;
};

struct DatabaseJobQueueOptions {
  int default_max_attempts = 3;                        // QUEUE_TRIES
  int default_timeout_seconds = 300;                   // QUEUE_TIMEOUT
  std::chrono::milliseconds backoff_base{10'000};      // first retry after 5–10 s
  std::chrono::milliseconds backoff_cap{15 * 60'000};  // never more than 15 minutes
  // Current unix time in milliseconds; empty = the system clock. Tests pass a fake clock.
  std::function<int64_t()> now_ms;
};

// The queue in the `jobs` table (migration 0002) of a Store. Claim runs in a write transaction
// (BEGIN IMMEDIATE on SQLite), so it is safe across threads and processes.
std::unique_ptr<JobQueue> NewDatabaseJobQueue(storage::Store& store,
                                              DatabaseJobQueueOptions options = {});

}  // namespace crm::jobs
