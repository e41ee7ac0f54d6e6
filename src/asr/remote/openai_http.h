// What every client of an OpenAI-compatible server shares (transcriptions, chat completions):
// reading OpenAI's error bodies, mapping statuses to our errors, the retry loop with exponential
// backoff and Retry-After, and keeping the API key out of logs and messages.
#pragma once

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "asr/remote/http_post.h"
#include "common/progress.h"
#include "common/result.h"

namespace crm::asr::remote {

// Who is called, for messages and logs; the key only ever goes into the Authorization header.
struct OpenAiService {
  std::string name = "the transcription server";  // "the summary server", ...
  std::string base_url;                           // includes /v1
  std::string api_key;                            // may be empty (local servers)
  std::string model;
};

struct RetryPolicy {
  int max_retries = 4;                   // after the first attempt
  double initial_backoff_seconds = 1.0;  // doubled after each failure, with jitter
  double max_backoff_seconds = 60;       // also the longest Retry-After honoured
};

struct UpstreamError {
  std::string message, type, param, code;
};

// The server's address without credentials that may be embedded in it, for logs.
std::string LoggableUrl(const std::string& url);
// `text` with every occurrence of `secret` replaced by ***.
std::string Redact(std::string text, const std::string& secret);
// OpenAI's {"error": {"message", "type", "param", "code"}} (or a "detail" string, or the body).
UpstreamError ReadUpstreamError(const HttpResponse& r);
// 408, 409, 429 (but an exhausted quota) and 5xx are worth another attempt.
bool Retryable(long status, const UpstreamError& e);
// 401/403 → kUnavailable naming OPENAI_API_KEY, 413 → kPayloadTooLarge, 429 → kRateLimited,
// 5xx → kUnavailable, other → kBadRequest; details: http_status, attempts, type, param, code.
Error MapHttpError(long status, const UpstreamError& e, int attempts, const OpenAiService& service,
                   const std::string& request_id);
// Seconds the server asks us to wait (Retry-After, retry-after-ms), or < 0 when it does not say.
double RetryAfterSeconds(const HttpResponse& r);
Status SleepUnlessCancelled(double seconds, const ProgressSink& progress);

// "Authorization: Bearer <key>" when there is a key.
std::vector<std::string> AuthHeaders(const OpenAiService& service);

// Sends with `send` until an answer is accepted: transport failures (unreachable, timeout) and
// retryable statuses are tried again up to policy.max_retries more times, waiting Retry-After or
// an exponential backoff; a 2xx answer goes to `accept`, whose error is final unless it is
// marked retryable (details "retryable": true: an answer that is not what was asked for). The
// last error is returned with the attempts made; every message is free of the API key.
class RetryingCaller {
 public:
  RetryingCaller(OpenAiService service, RetryPolicy policy, ProgressSink progress);

  Status Call(const std::function<Result<HttpResponse>()>& send,
              const std::function<Status(const HttpResponse&)>& accept);

  const OpenAiService& service() const { return service_; }

 private:
  double Backoff(int attempt);

  OpenAiService service_;
  RetryPolicy policy_;
  ProgressSink progress_;
  std::mt19937 rng_;
};

}  // namespace crm::asr::remote
