#include "jobs/worker_pool.h"

#include <unistd.h>

#include <algorithm>
#include <deque>
#include <exception>

#include "common/ids.h"
#include "common/log.h"

namespace crm::jobs {
namespace {

using Clock = std::chrono::steady_clock;

std::string DefaultWorkerId() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "worker") + ":" + std::to_string(getpid()) + ":" +
         RandomHex(3);
}

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kNone:
      return "none";
    case StopReason::kCancelRequested:
      return "cancel_requested";
    case StopReason::kTimeout:
      return "timeout";
    case StopReason::kShutdown:
      return "shutdown";
    case StopReason::kLeaseLost:
      return "lease_lost";
  }
  return "none";
}

}  // namespace

void JobContext::ReportProgress(double fraction, std::string_view stage,
                                std::optional<int64_t> eta_seconds) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  std::lock_guard lock(mu_);
  progress_.fraction = fraction;
  if (!stage.empty()) progress_.stage = std::string(stage);
  if (eta_seconds) {
    progress_.eta_seconds = eta_seconds;
  } else if (fraction >= 0.01) {
    double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
    progress_.eta_seconds = static_cast<int64_t>(elapsed * (1 - fraction) / fraction + 0.5);
  } else {
    progress_.eta_seconds.reset();
  }
  progress_dirty_ = true;
}

ProgressSink JobContext::Sink(double from, double to, std::string stage) {
  ProgressSink sink;
  sink.on_progress = [this, from, to, stage = std::move(stage)](double f) {
    ReportProgress(from + std::clamp(f, 0.0, 1.0) * (to - from), stage);
  };
  sink.is_cancelled = [this] { return Cancelled(); };
  return sink;
}

void JobContext::RequestStop(StopReason reason) {
  StopReason expected = StopReason::kNone;
  stop_reason_.compare_exchange_strong(expected, reason);
}

std::optional<JobProgress> JobContext::TakeProgress() {
  std::lock_guard lock(mu_);
  if (!progress_dirty_) return std::nullopt;
  progress_dirty_ = false;
  return progress_;
}

WorkerPool::WorkerPool(JobQueue& queue, WorkerPoolOptions options)
    : queue_(queue), options_(std::move(options)) {
  if (options_.worker_id.empty()) options_.worker_id = DefaultWorkerId();
  if (options_.workers < 0) options_.workers = 0;
  if (options_.lease.count() < 1) options_.lease = std::chrono::milliseconds(1);
  if (options_.heartbeat_interval.count() <= 0)
    options_.heartbeat_interval = std::max(options_.lease / 3, std::chrono::milliseconds(1));
}

WorkerPool::~WorkerPool() { Stop(std::chrono::milliseconds(0)); }

void WorkerPool::Register(std::string kind, Handler handler) {
  if (!handlers_.count(kind)) kinds_.push_back(kind);
  handlers_[std::move(kind)] = std::move(handler);
}

Status WorkerPool::Start() {
  if (started_) return Error(ErrorCode::kConflict, "worker pool already started");
  if (handlers_.empty())
    return InvalidArgument("worker pool has no handler: register at least one job kind");
  stopping_ = false;
  supervisor_exit_ = false;
  started_ = true;
  supervisor_ = std::thread([this] { SupervisorLoop(); });
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  log::Info("job workers started",
            {{"worker_id", options_.worker_id}, {"workers", options_.workers}, {"kinds", kinds_}});
  return OkStatus();
}

void WorkerPool::Stop(std::chrono::milliseconds grace) {
  if (!started_) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queue_.NotifyWorkers();
  std::vector<std::shared_ptr<JobContext>> unfinished;
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, grace, [&] { return running_.empty(); });
    for (auto& [id, ctx] : running_) unfinished.push_back(ctx);
  }
  for (auto& ctx : unfinished) {
    ctx->RequestStop(StopReason::kShutdown);
    HandBack(*ctx);
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  {
    std::lock_guard lock(mu_);
    supervisor_exit_ = true;
  }
  cv_.notify_all();
  supervisor_.join();
  started_ = false;
  log::Info("job workers stopped",
            {{"worker_id", options_.worker_id}, {"handed_back", unfinished.size()}});
}

int WorkerPool::running_jobs() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(running_.size());
}

void WorkerPool::WorkerLoop(int index) {
  std::string worker_id = options_.worker_id + "/" + std::to_string(index);
  const int batch_size = std::max(1, options_.claim_batch);
  std::deque<ClaimedJob> batch;  // claimed, not started yet
  while (!stopping_) {
    if (batch.empty()) {
      auto claimed = queue_.ClaimBatch(worker_id, kinds_, options_.lease, batch_size);
      if (!claimed.ok()) {
        log::Warn("cannot claim a job; retrying",
                  {{"worker_id", worker_id}, {"error", claimed.error().message}});
        queue_.WaitForWork(options_.poll_interval);
        continue;
      }
      if (claimed->empty()) {
        queue_.WaitForWork(options_.poll_interval);
        continue;
      }
      batch.assign(std::make_move_iterator(claimed->begin()),
                   std::make_move_iterator(claimed->end()));
    }
    // Run the batch; successes are completed together, along with the next claim.
    std::vector<std::shared_ptr<JobContext>> finished;
    std::vector<Completion> completions;
    while (!batch.empty()) {
      std::shared_ptr<JobContext> ctx(new JobContext(std::move(batch.front())));
      batch.pop_front();
      ctx->last_heartbeat_ = ctx->last_progress_write_ = Clock::now();
      bool stopping_now;
      {
        std::lock_guard lock(mu_);
        stopping_now = stopping_;
        if (!stopping_now) running_[ctx->job_.id] = ctx;
      }
      if (stopping_now) {  // not started: give it straight back
        HandBack(*ctx);
        continue;
      }
      Result<ResultWriter> result = RunHandler(*ctx);
      {
        std::lock_guard lock(mu_);
        running_.erase(ctx->job_.id);
      }
      cv_.notify_all();
      if (result.ok()) {  // even if asked to stop meanwhile: keep the work if still ours
        completions.push_back({ctx->job_, std::move(result).value()});
        finished.push_back(ctx);
      } else {
        RecordFailure(*ctx, result.error());
      }
    }
    if (completions.empty()) continue;
    ClaimRequest next{worker_id, kinds_, options_.lease, stopping_ ? 0 : batch_size};
    auto outcome = queue_.CompleteBatch(completions, next);
    for (size_t i = 0; i < finished.size(); ++i) {
      JobContext& ctx = *finished[i];
      Status st = outcome.ok() ? outcome->completed[i] : Status(outcome.error());
      if (st.ok()) {
        log::Debug("job succeeded", {{"job_id", ctx.job_.id}, {"kind", ctx.job_.kind}});
      } else if (IsLeaseLost(st.error()) || st.error().code == ErrorCode::kCancelled) {
        log::Info("job result discarded",
                  {{"job_id", ctx.job_.id}, {"reason", st.error().message}});
      } else {
        RecordFailure(ctx, st.error());  // writing the results failed: a failed attempt
      }
    }
    if (outcome.ok())
      batch.assign(std::make_move_iterator(outcome->next.begin()),
                   std::make_move_iterator(outcome->next.end()));
  }
  for (ClaimedJob& job : batch) {
    std::shared_ptr<JobContext> ctx(new JobContext(std::move(job)));
    HandBack(*ctx);
  }
}

Result<ResultWriter> WorkerPool::RunHandler(JobContext& ctx) {
  const ClaimedJob& job = ctx.job_;
  log::Debug("job started", {{"job_id", job.id}, {"kind", job.kind}, {"attempt", job.attempt}});
  try {
    return handlers_.at(job.kind)(ctx);
  } catch (const std::exception& e) {
    return Internal(std::string("job handler threw: ") + e.what());
  } catch (...) {
    return Internal("job handler threw a non-standard exception");
  }
}

void WorkerPool::RecordFailure(JobContext& ctx, const Error& failure) {
  const ClaimedJob& job = ctx.job_;
  StopReason reason = ctx.stop_reason();
  if (reason == StopReason::kShutdown) {
    HandBack(ctx);
    return;
  }
  if (reason == StopReason::kLeaseLost) {
    log::Warn("job abandoned: lease lost", {{"job_id", job.id}, {"kind", job.kind}});
    return;
  }
  Error error = failure;
  bool retryable = IsRetryable(error);
  if (reason == StopReason::kTimeout) {
    error = Error(ErrorCode::kTimeout, "the job exceeded its time limit of " +
                                           std::to_string(job.timeout_seconds) + " s");
    retryable = true;
  } else if (reason == StopReason::kCancelRequested) {
    error = Error(ErrorCode::kCancelled, "cancelled on request");
    retryable = false;
  }
  auto outcome = queue_.Fail(job, error, retryable);
  if (!outcome.ok()) {
    log::Warn("cannot record a failed job attempt",
              {{"job_id", job.id}, {"error", outcome.error().message}});
    return;
  }
  log::Info("job attempt failed", {{"job_id", job.id},
                                   {"kind", job.kind},
                                   {"attempt", job.attempt},
                                   {"stop_reason", StopReasonName(reason)},
                                   {"error", error.message},
                                   {"now", JobStateName(outcome->state)}});
}

void WorkerPool::SupervisorLoop() {
  auto tick = std::min(options_.heartbeat_interval, options_.progress_interval) / 4;
  tick = std::clamp(tick, std::chrono::milliseconds(5), std::chrono::milliseconds(250));
  while (true) {
    std::vector<std::shared_ptr<JobContext>> snapshot;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, tick, [&] { return supervisor_exit_; });
      if (supervisor_exit_) return;
      for (auto& [id, ctx] : running_) snapshot.push_back(ctx);
    }
    for (auto& ctx : snapshot) Supervise(*ctx);
  }
}

void WorkerPool::Supervise(JobContext& ctx) {
  auto now = Clock::now();
  {
    std::lock_guard lock(ctx.mu_);
    if (ctx.handed_back_) return;
  }
  if (ctx.job_.timeout_seconds > 0) {
    auto timeout = std::chrono::seconds(ctx.job_.timeout_seconds);
    if (now - ctx.started_ > timeout && ctx.stop_reason() == StopReason::kNone) {
      log::Warn("job timed out; asking its handler to stop",
                {{"job_id", ctx.job_.id}, {"timeout_seconds", ctx.job_.timeout_seconds}});
      ctx.RequestStop(StopReason::kTimeout);
    }
    // A handler that ignores the request keeps its thread, but not the job: without heartbeats
    // the lease lapses and another worker retries it.
    if (now - ctx.started_ > timeout + options_.timeout_grace) return;
  }
  std::optional<JobProgress> progress;
  if (now - ctx.last_progress_write_ >= options_.progress_interval) progress = ctx.TakeProgress();
  if (!progress && now - ctx.last_heartbeat_ < options_.heartbeat_interval) return;
  Status st = queue_.Heartbeat(ctx.job_, options_.lease, progress);
  ctx.last_heartbeat_ = now;
  if (progress) ctx.last_progress_write_ = now;
  if (st.ok()) return;
  if (IsLeaseLost(st.error())) {
    ctx.RequestStop(StopReason::kLeaseLost);
  } else if (st.error().code == ErrorCode::kCancelled) {
    ctx.RequestStop(StopReason::kCancelRequested);
  } else {
    log::Warn("job heartbeat failed; retrying",
              {{"job_id", ctx.job_.id}, {"error", st.error().message}});
    if (progress) {
      std::lock_guard lock(ctx.mu_);
      if (!ctx.progress_dirty_) {
        ctx.progress_ = *progress;
        ctx.progress_dirty_ = true;
      }
    }
  }
}

void WorkerPool::HandBack(JobContext& ctx) {
  {
    std::lock_guard lock(ctx.mu_);
    if (ctx.handed_back_) return;
    ctx.handed_back_ = true;
  }
  Status st = queue_.Release(ctx.job_);
  if (st.ok())
    log::Info("job handed back to the queue", {{"job_id", ctx.job_.id}, {"kind", ctx.job_.kind}});
  else
    log::Warn("cannot hand a job back; its lease will lapse",
              {{"job_id", ctx.job_.id}, {"error", st.error().message}});
}

}  // namespace crm::jobs
