// DatabaseJobQueue: the JobQueue in the `jobs` table (migration 0002_jobs.sql).
//
// Every change runs in a write transaction. A claim is a compare-and-set: it picks a candidate,
// then updates it only if it is still in the state it was read in (same state, attempts and lease
// token), checked by the affected-row count; a candidate another worker took in between is
// skipped. So two workers (threads, processes or servers) never claim the same job, whether the
// database serialises writers (SQLite) or lets them run side by side (MariaDB, where the
// dialect's row lock also makes claimers skip each other's candidates instead of waiting). Writes go through a GroupCommitter: threads
// of one process share commits instead of each paying an fsync, and never sleep in SQLite's
// busy handler waiting for each other.
#include <condition_variable>
#include <mutex>
#include <random>

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "jobs/group_commit.h"
#include "jobs/job_queue.h"

namespace crm::jobs {
namespace {

using storage::Connection;
using storage::Null;
using storage::Params;
using storage::Row;
using storage::Value;

constexpr const char* kJobColumns =
    "id, firm_id, kind, state, payload, priority, dedupe_key, attempts, max_attempts, "
    "timeout_seconds, run_after_ms, worker_id, lease_expires_ms, cancel_requested, progress, "
    "stage, eta_seconds, error_code, error_message, created_at, updated_at, started_at, "
    "finished_at";

constexpr int kMaxKindLength = 64;

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t RandomU64() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

nlohmann::json ParsePayload(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json(text) : j;
}

Error StoredError(const std::string& code_name, const std::string& message) {
  for (int c = 0; c <= static_cast<int>(ErrorCode::kInternal); ++c) {
    auto code = static_cast<ErrorCode>(c);
    if (code_name == ErrorCodeName(code)) return Error(code, message);
  }
  return Error(ErrorCode::kInternal, message, nullptr, code_name);
}

Job JobFromRow(const Row& r) {
  Job j;
  j.id = r.Text("id");
  j.firm_id = r.OptText("firm_id");
  j.kind = r.Text("kind");
  j.state = ParseJobState(r.Text("state")).value_or(JobState::kQueued);
  j.payload = ParsePayload(r.Text("payload"));
  j.priority = static_cast<int>(r.Int("priority"));
  j.dedupe_key = r.Text("dedupe_key");
  j.attempts = static_cast<int>(r.Int("attempts"));
  j.max_attempts = static_cast<int>(r.Int("max_attempts"));
  j.timeout_seconds = static_cast<int>(r.Int("timeout_seconds"));
  j.run_after_ms = r.Int("run_after_ms");
  j.worker_id = r.OptText("worker_id");
  j.lease_expires_ms = r.OptInt("lease_expires_ms");
  j.cancel_requested = r.Int("cancel_requested") != 0;
  j.progress = r.Real("progress");
  j.stage = r.Text("stage");
  j.eta_seconds = r.OptInt("eta_seconds");
  if (!r.IsNull("error_code"))
    j.last_error = StoredError(r.Text("error_code"), r.Text("error_message"));
  j.created_at = r.Text("created_at");
  j.updated_at = r.Text("updated_at");
  j.started_at = r.OptText("started_at");
  j.finished_at = r.OptText("finished_at");
  return j;
}

// " AND firm_id = ?" for a firm scope (its parameter appended to `params`), "" for all firms.
std::string ScopeSql(const Scope& scope, Params& params) {
  if (!scope.firm_id) return "";
  params.emplace_back(*scope.firm_id);
  return " AND firm_id = ?";
}

Error JobNotFound(std::string_view id) { return NotFound("job " + std::string(id) + " not found"); }

class DatabaseJobQueue final : public JobQueue {
 public:
  DatabaseJobQueue(storage::Store& store, DatabaseJobQueueOptions options)
      : store_(store), options_(std::move(options)), writer_(store) {
    if (!options_.now_ms) options_.now_ms = SystemNowMs;
  }

  Result<std::string> Enqueue(std::string_view kind, const std::optional<std::string>& firm_id,
                              const nlohmann::json& payload,
                              const EnqueueOptions& options) override {
    if (kind.empty() || kind.size() > kMaxKindLength)
      return InvalidArgument("job kind must be 1 to 64 characters", {{"field", "kind"}});
    if (options.max_attempts < 0 || options.timeout_seconds < 0)
      return InvalidArgument("max_attempts and timeout_seconds must not be negative");
    int max_attempts =
        options.max_attempts > 0 ? options.max_attempts : options_.default_max_attempts;
    int timeout =
        options.timeout_seconds > 0 ? options.timeout_seconds : options_.default_timeout_seconds;
    int64_t now = Now();
    std::string id = NewId();
    std::string now_iso = NowIsoUtc();
    Value dedupe = options.dedupe_key.empty() ? Value(Null{}) : Value(options.dedupe_key);
    std::string result_id = id;
    Status st = Write([&](Connection& c) -> Status {
      if (!options.dedupe_key.empty()) {
        CRM_ASSIGN_OR_RETURN(
            auto existing,
            c.QueryOne("SELECT id FROM jobs WHERE active_dedupe_key = ?", {options.dedupe_key}));
        if (existing) {
          result_id = existing->Text("id");
          return OkStatus();
        }
      }
      CRM_TRY(c.Exec(
          "INSERT INTO jobs (id, firm_id, kind, state, payload, priority, dedupe_key, "
          "active_dedupe_key, attempts, max_attempts, timeout_seconds, run_after_ms, created_at, "
          "updated_at) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
          {id, storage::Opt(firm_id), std::string(kind), payload.dump(), int64_t{options.priority},
           dedupe, dedupe, int64_t{max_attempts}, int64_t{timeout},
           options.run_after_ms.value_or(now), now_iso, now_iso}));
      return OkStatus();
    });
    CRM_TRY(st);
    if (result_id == id) NotifyWorkers();
    return result_id;
  }

  Result<std::optional<ClaimedJob>> Claim(std::string_view worker_id,
                                          const std::vector<std::string>& kinds,
                                          std::chrono::milliseconds lease) override {
    std::optional<ClaimedJob> claimed;
    CRM_TRY(Write([&](Connection& c) { return ClaimIn(c, worker_id, kinds, lease, claimed); }));
    return claimed;
  }

  Result<std::vector<ClaimedJob>> ClaimBatch(std::string_view worker_id,
                                             const std::vector<std::string>& kinds,
                                             std::chrono::milliseconds lease,
                                             int max_jobs) override {
    std::vector<ClaimedJob> claimed;
    CRM_TRY(Write(
        [&](Connection& c) { return ClaimManyIn(c, worker_id, kinds, lease, max_jobs, claimed); }));
    return claimed;
  }

  Status Heartbeat(const ClaimedJob& job, std::chrono::milliseconds lease,
                   const std::optional<JobProgress>& progress) override {
    bool cancel = false;
    Status st = Write([&](Connection& c) -> Status {
      int64_t expires = Now() + lease.count();
      int64_t changed = 0;
      if (progress) {
        CRM_ASSIGN_OR_RETURN(
            changed,
            c.Exec(
                "UPDATE jobs SET lease_expires_ms = ?, progress = ?, stage = ?, eta_seconds = ?, "
                "updated_at = ? WHERE id = ? AND state = 'running' AND lease_token = ?",
                {expires, std::clamp(progress->fraction, 0.0, 1.0),
                 progress->stage.empty() ? Value(Null{}) : Value(progress->stage),
                 storage::Opt(progress->eta_seconds), NowIsoUtc(), job.id, job.lease_token}));
      } else {
        CRM_ASSIGN_OR_RETURN(changed,
                             c.Exec("UPDATE jobs SET lease_expires_ms = ? WHERE id = ? AND "
                                    "state = 'running' AND lease_token = ?",
                                    {expires, job.id, job.lease_token}));
      }
      if (changed == 0) return LeaseLost(job.id);
      CRM_ASSIGN_OR_RETURN(auto row,
                           c.QueryOne("SELECT cancel_requested FROM jobs WHERE id = ?", {job.id}));
      cancel = row && row->Int("cancel_requested") != 0;
      return OkStatus();
    });
    CRM_TRY(st);
    if (cancel) return Error(ErrorCode::kCancelled, "job " + job.id + " was cancelled on request");
    return OkStatus();
  }

  Status Complete(const ClaimedJob& job, const ResultWriter& write_results) override {
    bool cancelled = false;
    CRM_TRY(Write([&](Connection& c) { return CompleteIn(c, job, write_results, cancelled); }));
    if (cancelled) return CancelledBeforeFinishing(job);
    return OkStatus();
  }

  Result<BatchOutcome> CompleteBatch(const std::vector<Completion>& completions,
                                     const ClaimRequest& next) override {
    BatchOutcome out;
    CRM_TRY(Write([&](Connection& c) -> Status {
      out.completed.assign(completions.size(), OkStatus());
      out.next.clear();
      for (size_t i = 0; i < completions.size(); ++i) {
        const Completion& done = completions[i];
        CRM_TRY(c.Exec("SAVEPOINT completion"));
        bool cancelled = false;
        Status st = CompleteIn(c, done.job, done.write_results, cancelled);
        if (!st.ok()) {
          out.completed[i] = st;
          CRM_TRY(c.Exec("ROLLBACK TO SAVEPOINT completion"));
        } else if (cancelled) {
          out.completed[i] = CancelledBeforeFinishing(done.job);
        }
        CRM_TRY(c.Exec("RELEASE SAVEPOINT completion"));
      }
      if (next.max_jobs <= 0) return OkStatus();
      // The completions stand even if claiming fails.
      CRM_TRY(c.Exec("SAVEPOINT claim_next"));
      Status claim =
          ClaimManyIn(c, next.worker_id, next.kinds, next.lease, next.max_jobs, out.next);
      if (!claim.ok()) {
        out.next.clear();
        CRM_TRY(c.Exec("ROLLBACK TO SAVEPOINT claim_next"));
      }
      CRM_TRY(c.Exec("RELEASE SAVEPOINT claim_next"));
      return OkStatus();
    }));
    return out;
  }

  Result<FailOutcome> Fail(const ClaimedJob& job, const Error& error, bool retryable) override {
    FailOutcome outcome;
    Status st = Write([&](Connection& c) -> Status {
      CRM_ASSIGN_OR_RETURN(bool cancel_requested, CheckLease(c, job));
      if (cancel_requested) {
        outcome = {JobState::kCancelled, 0};
        return Finish(c, job.id, JobState::kCancelled, std::nullopt);
      }
      CRM_ASSIGN_OR_RETURN(
          auto row, c.QueryOne("SELECT attempts, max_attempts FROM jobs WHERE id = ?", {job.id}));
      if (retryable && row && row->Int("attempts") < row->Int("max_attempts")) {
        auto delay = BackoffDelay(static_cast<int>(row->Int("attempts")), options_.backoff_base,
                                  options_.backoff_cap, RandomU64());
        outcome = {JobState::kQueued, Now() + delay.count()};
        CRM_TRY(
            c.Exec("UPDATE jobs SET state = 'queued', lease_token = NULL, lease_expires_ms = NULL, "
                   "worker_id = NULL, run_after_ms = ?, error_code = ?, error_message = ?, "
                   "updated_at = ? WHERE id = ?",
                   {outcome.retry_at_ms, error.CodeName(), error.message, NowIsoUtc(), job.id}));
        return OkStatus();
      }
      outcome = {JobState::kFailed, 0};
      return Finish(c, job.id, JobState::kFailed, error);
    });
    CRM_TRY(st);
    if (outcome.state == JobState::kFailed)
      log::Warn("job failed", {{"job_id", job.id}, {"kind", job.kind}, {"error", error.message}});
    return outcome;
  }

  Status Release(const ClaimedJob& job) override {
    Status st = Write([&](Connection& c) -> Status {
      CRM_ASSIGN_OR_RETURN(bool cancel_requested, CheckLease(c, job));
      if (cancel_requested) return Finish(c, job.id, JobState::kCancelled, std::nullopt);
      CRM_TRY(c.Exec(
          "UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 "
          "ELSE 0 END, lease_token = NULL, lease_expires_ms = NULL, worker_id = NULL, "
          "run_after_ms = ?, updated_at = ? WHERE id = ?",
          {Now(), NowIsoUtc(), job.id}));
      return OkStatus();
    });
    CRM_TRY(st);
    NotifyWorkers();
    return OkStatus();
  }

  Result<Job> Cancel(const Scope& scope, std::string_view id) override {
    Status st = Write([&](Connection& c) -> Status {
      CRM_ASSIGN_OR_RETURN(JobState state, StateOf(c, scope, id));
      switch (state) {
        case JobState::kQueued:
          return Finish(c, std::string(id), JobState::kCancelled, std::nullopt);
        case JobState::kRunning:
          CRM_TRY(c.Exec("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?",
                         {NowIsoUtc(), std::string(id)}));
          return OkStatus();
        case JobState::kCancelled:
          return OkStatus();
        default:
          return Error(ErrorCode::kConflict, "job " + std::string(id) + " already " +
                                                 JobStateName(state) + "; it cannot be cancelled");
      }
    });
    CRM_TRY(st);
    return Get(scope, id);
  }

  Result<Job> Retry(const Scope& scope, std::string_view id) override {
    Status st = Write([&](Connection& c) -> Status {
      CRM_ASSIGN_OR_RETURN(JobState state, StateOf(c, scope, id));
      if (state != JobState::kFailed && state != JobState::kCancelled)
        return Error(ErrorCode::kConflict, "job " + std::string(id) + " is " + JobStateName(state) +
                                               "; only a failed or cancelled job can be retried");
      auto updated = c.Exec(
          "UPDATE jobs SET state = 'queued', attempts = 0, run_after_ms = ?, cancel_requested = 0, "
          "lease_token = NULL, lease_expires_ms = NULL, worker_id = NULL, progress = 0, "
          "stage = NULL, eta_seconds = NULL, finished_at = NULL, finished_ms = NULL, "
          "active_dedupe_key = dedupe_key, updated_at = ? WHERE id = ?",
          {Now(), NowIsoUtc(), std::string(id)});
      if (!updated.ok() && updated.error().code == ErrorCode::kConflict)
        return Error(ErrorCode::kConflict, "job " + std::string(id) +
                                               " cannot be retried: an identical job (same "
                                               "dedupe key) is already queued or running");
      CRM_TRY(updated);
      return OkStatus();
    });
    CRM_TRY(st);
    NotifyWorkers();
    return Get(scope, id);
  }

  Result<Job> Get(const Scope& scope, std::string_view id) override {
    Params params{std::string(id)};
    std::string sql =
        std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?" + ScopeSql(scope, params);
    CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne(sql, params));
    if (!row) return JobNotFound(id);
    return JobFromRow(*row);
  }

  Result<std::vector<Job>> GetMany(const Scope& scope,
                                   const std::vector<std::string>& ids) override {
    std::vector<Job> out;
    constexpr size_t kChunk = 200;  // bound the statement's parameters
    for (size_t from = 0; from < ids.size(); from += kChunk) {
      Params params;
      std::string marks;
      for (size_t i = from; i < std::min(ids.size(), from + kChunk); ++i) {
        marks += marks.empty() ? "?" : ", ?";
        params.emplace_back(ids[i]);
      }
      std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id IN (" + marks +
                        ")" + ScopeSql(scope, params);
      CRM_ASSIGN_OR_RETURN(auto rows, store_.Query(sql, params));
      for (const auto& r : rows) out.push_back(JobFromRow(r));
    }
    return out;
  }

  Result<JobPage> List(const Scope& scope, const ListFilter& filter) override {
    int limit = std::clamp(filter.limit, 1, 200);
    if (filter.cursor.size() > 64 ||
        filter.cursor.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") != std::string::npos)
      return InvalidArgument("invalid cursor", {{"field", "cursor"}});
    Params params;
    std::string sql =
        std::string("SELECT ") + kJobColumns + " FROM jobs WHERE 1 = 1" + ScopeSql(scope, params);
    if (filter.state) {
      sql += " AND state = ?";
      params.emplace_back(std::string(JobStateName(*filter.state)));
    }
    if (!filter.kind.empty()) {
      sql += " AND kind = ?";
      params.emplace_back(filter.kind);
    }
    if (!filter.cursor.empty()) {
      sql += " AND id < ?";
      params.emplace_back(filter.cursor);
    }
    sql += " ORDER BY id DESC LIMIT ?";
    params.emplace_back(int64_t{limit + 1});
    CRM_ASSIGN_OR_RETURN(auto rows, store_.Query(sql, params));
    JobPage page;
    for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i)
      page.jobs.push_back(JobFromRow(rows[i]));
    if (static_cast<int>(rows.size()) > limit) page.next_cursor = page.jobs.back().id;
    return page;
  }

  Result<QueueStats> Stats(const Scope& scope) override {
    QueueStats s;
    int64_t now = Now();
    Params p;
    std::string where = ScopeSql(scope, p);
    CRM_ASSIGN_OR_RETURN(auto counts,
                         store_.Query("SELECT state, COUNT(*) AS n FROM jobs WHERE state IN "
                                      "('queued', 'running', 'failed', 'cancelled')" +
                                          where + " GROUP BY state",
                                      p));
    int64_t queued = 0;
    for (auto& r : counts) {
      std::string state = r.Text("state");
      if (state == "queued") queued = r.Int("n");
      if (state == "running") s.running = r.Int("n");
      if (state == "failed") s.failed = r.Int("n");
      if (state == "cancelled") s.cancelled = r.Int("n");
    }
    Params kind_params;
    std::string kind_where = ScopeSql(scope, kind_params);
    if (!kind_where.empty()) kind_where = " WHERE 1 = 1" + kind_where;
    CRM_ASSIGN_OR_RETURN(auto kinds, store_.Query("SELECT kind, state, COUNT(*) AS n FROM jobs" +
                                                      kind_where + " GROUP BY kind, state",
                                                  kind_params));
    for (auto& r : kinds) s.by_kind.push_back({r.Text("kind"), r.Text("state"), r.Int("n")});
    Params due_params{now};
    std::string due_where = ScopeSql(scope, due_params);
    CRM_ASSIGN_OR_RETURN(
        auto due, store_.QueryOne("SELECT COUNT(*) AS n, MIN(run_after_ms) AS oldest FROM jobs "
                                  "WHERE state = 'queued' AND run_after_ms <= ?" +
                                      due_where,
                                  due_params));
    s.depth = due ? due->Int("n") : 0;
    s.scheduled = queued - s.depth;
    if (due && !due->IsNull("oldest")) s.oldest_due_age_ms = now - due->Int("oldest");
    Params hour_params{now - 3'600'000};
    std::string hour_where = ScopeSql(scope, hour_params);
    CRM_ASSIGN_OR_RETURN(auto hour,
                         store_.QueryOne("SELECT COUNT(*) AS n FROM jobs WHERE state = 'succeeded' "
                                         "AND finished_ms >= ?" +
                                             hour_where,
                                         hour_params));
    s.succeeded_last_hour = hour ? hour->Int("n") : 0;
    Params recent_params{now - 300'000};
    std::string recent_where = ScopeSql(scope, recent_params);
    CRM_ASSIGN_OR_RETURN(auto recent,
                         store_.QueryOne("SELECT COUNT(*) AS n FROM jobs WHERE state IN "
                                         "('succeeded', 'failed') AND finished_ms >= ?" +
                                             recent_where,
                                         recent_params));
    s.throughput_per_minute = recent ? recent->Int("n") / 5.0 : 0;
    return s;
  }

  void WaitForWork(std::chrono::milliseconds max_wait) override {
    std::unique_lock lock(signal_mu_);
    uint64_t seen = signal_;
    signal_cv_.wait_for(lock, max_wait, [&] { return signal_ != seen; });
  }

  void NotifyWorkers() override {
    {
      std::lock_guard lock(signal_mu_);
      ++signal_;
    }
    signal_cv_.notify_all();
  }

 private:
  int64_t Now() const { return options_.now_ms(); }

  Status Write(const std::function<Status(Connection&)>& fn) { return writer_.Write(fn); }

  // Claims the next due job inside the caller's transaction; `claimed` stays empty when none.
  Status ClaimIn(Connection& c, std::string_view worker_id, const std::vector<std::string>& kinds,
                 std::chrono::milliseconds lease, std::optional<ClaimedJob>& claimed) {
    claimed.reset();
    int64_t now = Now();
    // Each pass either claims a job or retires one whose lease expired for good, so the loop
    // ends; the bound only keeps one Claim call short.
    for (int pass = 0; pass < 64; ++pass) {
      CRM_ASSIGN_OR_RETURN(auto next, PickNext(c, kinds, now));
      if (!next) return OkStatus();
      const Row& r = *next;
      std::string id = r.Text("id");
      if (r.Text("state") == "running") {  // its lease expired
        const std::string expired_token = r.Text("lease_token");
        if (r.Int("cancel_requested") != 0) {
          CRM_TRY(Finish(c, id, JobState::kCancelled, std::nullopt, &expired_token));
          continue;
        }
        if (r.Int("attempts") >= r.Int("max_attempts")) {
          CRM_TRY(Finish(c, id, JobState::kFailed,
                         Error(ErrorCode::kTimeout,
                               "the worker running this job stopped responding (lease "
                               "expired) on every attempt"),
                         &expired_token));
          continue;
        }
        log::Warn("job lease expired, claiming it again",
                  {{"job_id", id}, {"previous_worker", r.Text("worker_id")}});
      }
      std::string token = RandomToken(18);
      const bool expired = r.Text("state") == "running";
      std::string sql =
          "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = ?, "
          "lease_expires_ms = ?, worker_id = ?, started_at = ?, updated_at = ?, progress = 0, "
          "stage = NULL, eta_seconds = NULL WHERE id = ? AND attempts = ?";
      Params params{token, now + lease.count(), std::string(worker_id), NowIsoUtc(), NowIsoUtc(),
                    id, r.Int("attempts")};
      if (expired) {
        sql += " AND state = 'running' AND lease_token = ?";
        params.emplace_back(r.Text("lease_token"));
      } else {
        sql += " AND state = 'queued'";
      }
      CRM_ASSIGN_OR_RETURN(int64_t changed, c.Exec(sql, params));
      if (changed != 1) continue;  // another worker claimed it between the read and the write
      ClaimedJob job;
      job.id = id;
      job.firm_id = r.OptText("firm_id");
      job.kind = r.Text("kind");
      job.payload = ParsePayload(r.Text("payload"));
      job.attempt = static_cast<int>(r.Int("attempts")) + 1;
      job.max_attempts = static_cast<int>(r.Int("max_attempts"));
      job.timeout_seconds = static_cast<int>(r.Int("timeout_seconds"));
      job.worker_id = std::string(worker_id);
      job.lease_token = token;
      claimed = std::move(job);
      return OkStatus();
    }
    return OkStatus();
  }

  Status ClaimManyIn(Connection& c, std::string_view worker_id,
                     const std::vector<std::string>& kinds, std::chrono::milliseconds lease,
                     int max_jobs, std::vector<ClaimedJob>& claimed) {
    claimed.clear();
    for (int i = 0; i < max_jobs; ++i) {
      std::optional<ClaimedJob> job;
      CRM_TRY(ClaimIn(c, worker_id, kinds, lease, job));
      if (!job) break;
      claimed.push_back(std::move(*job));
    }
    return OkStatus();
  }

  Status CompleteIn(Connection& c, const ClaimedJob& job, const ResultWriter& write_results,
                    bool& cancelled) {
    CRM_ASSIGN_OR_RETURN(bool cancel_requested, CheckLease(c, job));
    if (cancel_requested) {
      cancelled = true;
      return Finish(c, job.id, JobState::kCancelled, std::nullopt);
    }
    if (write_results) CRM_TRY(write_results(c));
    return Finish(c, job.id, JobState::kSucceeded, std::nullopt);
  }

  static Error CancelledBeforeFinishing(const ClaimedJob& job) {
    return Error(ErrorCode::kCancelled,
                 "job " + job.id + " was cancelled before it finished; its results were discarded");
  }

  // The claim order, kept in this one place so that it can become fair between firms without
  // touching callers: first running jobs whose lease expired (their worker is gone), then due
  // queued jobs by priority, oldest first.
  Result<std::optional<Row>> PickNext(Connection& c, const std::vector<std::string>& kinds,
                                      int64_t now) {
    std::string kind_sql;
    Params kind_params;
    if (!kinds.empty()) {
      kind_sql = " AND kind IN (";
      for (size_t i = 0; i < kinds.size(); ++i) {
        kind_sql += i ? ", ?" : "?";
        kind_params.emplace_back(kinds[i]);
      }
      kind_sql += ")";
    }
    constexpr const char* kClaimColumns =
        "id, firm_id, kind, state, payload, attempts, max_attempts, timeout_seconds, "
        "cancel_requested, worker_id, lease_token";
    const std::string lock(c.dialect().ClaimLock());
    Params expired_params{now};
    expired_params.insert(expired_params.end(), kind_params.begin(), kind_params.end());
    CRM_ASSIGN_OR_RETURN(
        auto expired,
        c.QueryOne(std::string("SELECT ") + kClaimColumns +
                       " FROM jobs WHERE state = 'running' AND lease_expires_ms <= ?" + kind_sql +
                       " ORDER BY lease_expires_ms LIMIT 1" + lock,
                   expired_params));
    if (expired) return expired;
    Params due_params{now};
    due_params.insert(due_params.end(), kind_params.begin(), kind_params.end());
    return c.QueryOne(std::string("SELECT ") + kClaimColumns +
                          " FROM jobs WHERE state = 'queued' AND run_after_ms <= ?" + kind_sql +
                          " ORDER BY priority DESC, run_after_ms, id LIMIT 1" + lock,
                      due_params);
  }

  // LeaseLost unless `job` is running under its lease token; returns cancel_requested.
  Result<bool> CheckLease(Connection& c, const ClaimedJob& job) {
    CRM_ASSIGN_OR_RETURN(
        auto row,
        c.QueryOne("SELECT state, lease_token, cancel_requested FROM jobs WHERE id = ?", {job.id}));
    if (!row || row->Text("state") != "running" ||
        !ConstantTimeEquals(row->Text("lease_token"), job.lease_token))
      return LeaseLost(job.id);
    return row->Int("cancel_requested") != 0;
  }

  Result<JobState> StateOf(Connection& c, const Scope& scope, std::string_view id) {
    Params params{std::string(id)};
    std::string sql = "SELECT state FROM jobs WHERE id = ?" + ScopeSql(scope, params);
    CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne(sql, params));
    if (!row) return JobNotFound(id);
    return ParseJobState(row->Text("state")).value_or(JobState::kQueued);
  }

  // Moves a job to a terminal state: the lease and the dedupe key are released. With
  // `only_under_lease`, only while the job still runs under that lease token (retiring a job
  // whose lease expired must not touch it if another worker claimed it meanwhile).
  Status Finish(Connection& c, const std::string& id, JobState state,
                const std::optional<Error>& error, const std::string* only_under_lease = nullptr) {
    std::string now_iso = NowIsoUtc();
    std::string guard = " WHERE id = ?";
    if (only_under_lease) guard += " AND state = 'running' AND lease_token = ?";
    if (error) {
      CRM_TRY(
          c.Exec("UPDATE jobs SET state = ?, lease_token = NULL, lease_expires_ms = NULL, "
                 "active_dedupe_key = NULL, error_code = ?, error_message = ?, finished_at = ?, "
                 "finished_ms = ?, updated_at = ?" + guard,
                 WithLease({std::string(JobStateName(state)), error->CodeName(), error->message,
                            now_iso, Now(), now_iso, id},
                           only_under_lease)));
    } else {
      bool succeeded = state == JobState::kSucceeded;
      CRM_TRY(
          c.Exec(std::string(
                     "UPDATE jobs SET state = ?, lease_token = NULL, lease_expires_ms = NULL, "
                     "active_dedupe_key = NULL, finished_at = ?, finished_ms = ?, updated_at = ?") +
                     (succeeded ? ", progress = 1, eta_seconds = 0" : "") + guard,
                 WithLease({std::string(JobStateName(state)), now_iso, Now(), now_iso, id},
                           only_under_lease)));
    }
    return OkStatus();
  }

  static Params WithLease(Params params, const std::string* lease_token) {
    if (lease_token) params.emplace_back(*lease_token);
    return params;
  }

  storage::Store& store_;
  DatabaseJobQueueOptions options_;
  GroupCommitter writer_;
  std::mutex signal_mu_;
  std::condition_variable signal_cv_;
  uint64_t signal_ = 0;
};

}  // namespace

std::unique_ptr<JobQueue> NewDatabaseJobQueue(storage::Store& store,
                                              DatabaseJobQueueOptions options) {
  return std::make_unique<DatabaseJobQueue>(store, std::move(options));
}

}  // namespace crm::jobs
