// Jobs: the plain types of the durable queue (see job_queue.h for the contract).
//
// A job moves queued → running → succeeded | failed | cancelled. A running job is held by one
// worker through a lease (a random token with an expiry); a job whose lease expires is due again
// and counts another attempt. A failed attempt goes back to queued after an exponential backoff
// until max_attempts is reached, then stays failed with its error.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace crm::jobs {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };

// "queued", "running", "succeeded", "failed", "cancelled".
const char* JobStateName(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);
bool IsTerminal(JobState state);

// Which firm's jobs a call may see: one firm (API users) or all of them (platform admin,
// workers). A job of another firm behaves exactly like a missing one.
struct Scope {
  std::optional<std::string> firm_id;  // nullopt = every firm
  static Scope Firm(std::string id) { return Scope{std::move(id)}; }
  static Scope All() { return Scope{}; }
};

struct EnqueueOptions {
  // Unix milliseconds before which the job is not claimed; nullopt = now.
  std::optional<int64_t> run_after_ms;
  // Seconds a worker may spend on one attempt; 0 = the queue's default (QUEUE_TIMEOUT, 300).
  // Use JobTimeoutSeconds() for jobs whose cost grows with audio length.
  int timeout_seconds = 0;
  // Attempts before the job stays failed; 0 = the queue's default (QUEUE_TRIES, 3).
  int max_attempts = 0;
  // While a job with this key is queued or running, Enqueue returns that job's id instead of
  // adding another. Keys are global: build them from ids ("transcribe:<recording id>").
  std::string dedupe_key;
  // Higher runs first; among equal priorities the oldest due job runs first.
  int priority = 0;
};

// A job as the API and admin views see it.
struct Job {
  std::string id;
  std::optional<std::string> firm_id;  // nullopt for installation-wide jobs
  std::string kind;
  JobState state = JobState::kQueued;
  nlohmann::json payload = nlohmann::json::object();
  int priority = 0;
  std::string dedupe_key;
  int attempts = 0;
  int max_attempts = 0;
  int timeout_seconds = 0;
  int64_t run_after_ms = 0;
  std::optional<std::string> worker_id;
  std::optional<int64_t> lease_expires_ms;
  bool cancel_requested = false;
  double progress = 0;  // [0, 1]
  std::string stage;
  std::optional<int64_t> eta_seconds;
  std::optional<Error> last_error;  // kept after a retry until the job succeeds
  std::string created_at, updated_at;
  std::optional<std::string> started_at, finished_at;

  // snake_case JSON for the API: times ISO-8601 UTC, progress as a percentage.
  nlohmann::json ToJson() const;
};

// What a worker holds after Claim: enough to run the job and to prove it still holds it.
struct ClaimedJob {
  std::string id;
  std::optional<std::string> firm_id;
  std::string kind;
  nlohmann::json payload;
  int attempt = 1;  // 1 for the first run
  int max_attempts = 1;
  int timeout_seconds = 0;
  std::string worker_id;
  std::string lease_token;
};

struct JobProgress {
  double fraction = 0;  // [0, 1] of the whole job
  std::string stage;    // short machine name ("decoding", "transcribing", ...)
  std::optional<int64_t> eta_seconds;
};

struct ListFilter {
  std::optional<JobState> state;
  std::string kind;    // empty = any
  int limit = 50;      // clamped to [1, 200]
  std::string cursor;  // next_cursor of the previous page; empty = first page
};

struct JobPage {
  std::vector<Job> jobs;    // newest first
  std::string next_cursor;  // empty on the last page
};

struct QueueStats {
  int64_t depth = 0;      // queued and due now
  int64_t scheduled = 0;  // queued for later (backoff or run_after)
  int64_t running = 0;
  int64_t failed = 0;  // in the failed state (the failed-jobs list)
  int64_t cancelled = 0;
  int64_t succeeded_last_hour = 0;
  double throughput_per_minute = 0;          // jobs finished per minute over the last 5 minutes
  std::optional<int64_t> oldest_due_age_ms;  // how long the oldest due job has waited
  // Jobs per kind and state (every state; for /metrics). Not part of ToJson().
  struct KindState {
    std::string kind, state;
    int64_t count = 0;
  };
  std::vector<KindState> by_kind;
  nlohmann::json ToJson() const;
};

// What Fail() did with the job.
struct FailOutcome {
  JobState state = JobState::kFailed;  // kQueued (retry scheduled), kFailed or kCancelled
  int64_t retry_at_ms = 0;             // when state is kQueued
};

// Delay before attempt `attempt + 1` after `attempt` failed (attempt >= 1): base × 2^(attempt-1)
// capped at `cap`, then "equal jitter": half of it fixed, half uniformly random from `random`
// (any 64-bit value), so retries of many jobs failing together spread out.
std::chrono::milliseconds BackoffDelay(int attempt, std::chrono::milliseconds base,
                                       std::chrono::milliseconds cap, uint64_t random);

// Seconds allowed for a job over `audio_seconds` of audio: max(queue_timeout, factor × audio).
// The factor covers slower-than-real-time transcription on small CPUs.
inline constexpr double kAudioTimeoutFactor = 3.0;
int JobTimeoutSeconds(int queue_timeout, double audio_seconds, double factor = kAudioTimeoutFactor);

// Whether a failed attempt is worth another try: true for transient failures (unavailable,
// I/O, timeout, internal); false for bad inputs (undecodable audio, not found, ...). An error
// may force either way with details {"retryable": true|false}.
bool IsRetryable(const Error& error);

// The error Heartbeat/Complete/Fail/Release return when the worker no longer holds the job.
Error LeaseLost(std::string_view job_id);
bool IsLeaseLost(const Error& error);

}  // namespace crm::jobs
