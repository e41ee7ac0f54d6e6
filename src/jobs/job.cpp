#include "jobs/job.h"

#include <algorithm>
#include <cmath>

#include "common/text.h"

namespace crm::jobs {

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kSucceeded:
      return "succeeded";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "queued";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (JobState s : {JobState::kQueued, JobState::kRunning, JobState::kSucceeded, JobState::kFailed,
                     JobState::kCancelled})
    if (name == JobStateName(s)) return s;
  return std::nullopt;
}

bool IsTerminal(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

nlohmann::json Job::ToJson() const {
  nlohmann::json j;
  j["id"] = id;
  j["firm_id"] = firm_id ? nlohmann::json(*firm_id) : nlohmann::json(nullptr);
  j["kind"] = kind;
  j["state"] = JobStateName(state);
  j["payload"] = payload;
  j["priority"] = priority;
  j["attempts"] = attempts;
  j["max_attempts"] = max_attempts;
  j["timeout_seconds"] = timeout_seconds;
  j["run_after"] = FormatIsoUtc(run_after_ms / 1000);
  j["cancel_requested"] = cancel_requested;
  j["progress"] = {{"percent", std::round(progress * 1000.0) / 10.0},
                   {"stage", stage.empty() ? nlohmann::json(nullptr) : nlohmann::json(stage)},
                   {"eta_seconds", eta_seconds ? nlohmann::json(*eta_seconds) : nullptr}};
  if (last_error)
    j["error"] = {{"code", last_error->CodeName()}, {"message", last_error->message}};
  else
    j["error"] = nullptr;
  j["created_at"] = created_at;
  j["updated_at"] = updated_at;
  j["started_at"] = started_at ? nlohmann::json(*started_at) : nullptr;
  j["finished_at"] = finished_at ? nlohmann::json(*finished_at) : nullptr;
  return j;
}

nlohmann::json QueueStats::ToJson() const {
  return {{"depth", depth},
          {"scheduled", scheduled},
          {"running", running},
          {"failed", failed},
          {"cancelled", cancelled},
          {"succeeded_last_hour", succeeded_last_hour},
          {"throughput_per_minute", throughput_per_minute},
          {"oldest_due_age_seconds",
           oldest_due_age_ms ? nlohmann::json(*oldest_due_age_ms / 1000.0) : nullptr}};
}

std::chrono::milliseconds BackoffDelay(int attempt, std::chrono::milliseconds base,
                                       std::chrono::milliseconds cap, uint64_t random) {
  int64_t b = std::max<int64_t>(base.count(), 1);
  int64_t c = std::max<int64_t>(cap.count(), b);
  int shift = std::clamp(attempt - 1, 0, 40);
  // Doubling stops as soon as the cap is reached, so the shift never overflows.
  int64_t d = b;
  for (int i = 0; i < shift && d < c; ++i) d *= 2;
  d = std::min(d, c);
  int64_t half = d / 2;
  int64_t jitter = half > 0 ? static_cast<int64_t>(random % static_cast<uint64_t>(half + 1)) : 0;
  return std::chrono::milliseconds(d - half + jitter);
}

int JobTimeoutSeconds(int queue_timeout, double audio_seconds, double factor) {
  double scaled = std::ceil(std::max(0.0, audio_seconds) * std::max(0.0, factor));
  if (scaled > 1e9) scaled = 1e9;
  return std::max(queue_timeout, static_cast<int>(scaled));
}

bool IsRetryable(const Error& error) {
  if (error.details.is_object() && error.details.contains("retryable") &&
      error.details["retryable"].is_boolean())
    return error.details["retryable"].get<bool>();
  switch (error.code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
    case ErrorCode::kRateLimited:
      return true;
    default:
      return false;
  }
}

Error LeaseLost(std::string_view job_id) {
  return Error(ErrorCode::kConflict,
               "job " + std::string(job_id) +
                   ": this worker no longer holds it (lease expired and taken over, or handed "
                   "back); its results were discarded",
               nullptr, "lease_lost");
}

bool IsLeaseLost(const Error& error) {
  return error.code == ErrorCode::kConflict && error.api_code == "lease_lost";
}

}  // namespace crm::jobs
