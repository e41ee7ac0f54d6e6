#include "asr/remote/openai_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace crm::asr::remote {

using nlohmann::json;

std::string LoggableUrl(const std::string& url) {
  size_t scheme = url.find("://");
  size_t host = scheme == std::string::npos ? 0 : scheme + 3;
  size_t at = url.find('@', host);
  size_t slash = url.find('/', host);
  if (at != std::string::npos && (slash == std::string::npos || at < slash))
    return url.substr(0, host) + url.substr(at + 1);
  return url;
}

std::string Redact(std::string text, const std::string& secret) {
  if (secret.size() < 4) return text;
  for (size_t at; (at = text.find(secret)) != std::string::npos;)
    text.replace(at, secret.size(), "***");
  return text;
}

UpstreamError ReadUpstreamError(const HttpResponse& r) {
  UpstreamError e;
  json doc = json::parse(r.body, nullptr, false);
  auto str = [](const json& obj, const char* key) {
    auto it = obj.find(key);
    return (it != obj.end() && it->is_string()) ? it->get<std::string>() : std::string();
  };
  if (doc.is_object() && doc.contains("error")) {
    const json& err = doc["error"];
    if (err.is_object()) {
      e.message = str(err, "message");
      e.type = str(err, "type");
      e.param = str(err, "param");
      auto code = err.find("code");
      if (code != err.end())
        e.code = code->is_string() ? code->get<std::string>() : code->is_null() ? "" : code->dump();
    } else if (err.is_string()) {
      e.message = err.get<std::string>();
    }
  } else if (doc.is_object() && doc.contains("detail")) {
    e.message = doc["detail"].is_string() ? doc["detail"].get<std::string>() : doc["detail"].dump();
  }
  if (e.message.empty()) e.message = r.body.substr(0, 300);
  for (char& c : e.message)
    if (c == '\n' || c == '\r') c = ' ';
  return e;
}

bool Retryable(long status, const UpstreamError& e) {
  if (status == 429) return e.code != "insufficient_quota";
  return status == 408 || status == 409 || status >= 500;
}

Error MapHttpError(long status, const UpstreamError& e, int attempts, const OpenAiService& o,
                   const std::string& request_id) {
  json details = {{"http_status", status}, {"attempts", attempts}};
  if (!e.type.empty()) details["type"] = e.type;
  if (!e.param.empty()) details["param"] = e.param;
  if (!e.code.empty()) details["code"] = e.code;
  if (!request_id.empty()) details["request_id"] = request_id;
  const std::string said = Redact(e.message, o.api_key);
  const std::string where = " by " + o.name + " " + LoggableUrl(o.base_url);
  const std::string http =
      " (HTTP " + std::to_string(status) + (e.type.empty() ? "" : " " + e.type) + ": " + said + ")";
  if (status == 401)
    return Error(ErrorCode::kUnavailable,
                 "the OpenAI API key was refused" + where + http + "; check OPENAI_API_KEY",
                 details);
  if (status == 403)
    return Error(ErrorCode::kUnavailable,
                 "access was refused" + where + http +
                     "; check OPENAI_API_KEY and that the account may use model '" + o.model + "'",
                 details);
  if (status == 413)
    return Error(ErrorCode::kPayloadTooLarge,
                 "the upload was refused as too large" + where + http +
                     "; lower the upload size limit of the client",
                 details);
  if (status == 429 && e.code == "insufficient_quota")
    return Error(ErrorCode::kRateLimited,
                 "the account has no quota left" + where + http + "; check its billing", details);
  if (status == 429)
    return Error(ErrorCode::kRateLimited,
                 "requests are being rate limited" + where + http + " after " +
                     std::to_string(attempts) + " attempts; try again later",
                 details);
  if (status >= 500)
    return Error(ErrorCode::kUnavailable,
                 o.name + " " + LoggableUrl(o.base_url) + " failed" + http + " after " +
                     std::to_string(attempts) + " attempts; try again later",
                 details);
  return Error(ErrorCode::kBadRequest, "the request was refused" + where + http, details);
}

double RetryAfterSeconds(const HttpResponse& r) {
  if (!r.retry_after_ms.empty()) {
    char* end = nullptr;
    double ms = std::strtod(r.retry_after_ms.c_str(), &end);
    if (end != r.retry_after_ms.c_str() && ms >= 0) return ms / 1000.0;
  }
  if (r.retry_after.empty()) return -1;
  char* end = nullptr;
  double s = std::strtod(r.retry_after.c_str(), &end);
  if (end != r.retry_after.c_str() && *end == '\0' && s >= 0) return s;
  time_t when = curl_getdate(r.retry_after.c_str(), nullptr);  // an HTTP date
  if (when < 0) return -1;
  return std::max(0.0, std::difftime(when, std::time(nullptr)));
}

Status SleepUnlessCancelled(double seconds, const ProgressSink& progress) {
  auto until = std::chrono::steady_clock::now() +
               std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  while (std::chrono::steady_clock::now() < until) {
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "cancelled");
    auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50)));
  }
  return OkStatus();
}

std::vector<std::string> AuthHeaders(const OpenAiService& service) {
  if (service.api_key.empty()) return {};
  return {"Authorization: Bearer " + service.api_key};
}

RetryingCaller::RetryingCaller(OpenAiService service, RetryPolicy policy, ProgressSink progress)
    : service_(std::move(service)),
      policy_(policy),
      progress_(std::move(progress)),
      rng_(std::random_device{}()) {}

double RetryingCaller::Backoff(int attempt) {
  double full = std::min(policy_.max_backoff_seconds,
                         policy_.initial_backoff_seconds * std::pow(2.0, attempt));
  return full * std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
}

Status RetryingCaller::Call(const std::function<Result<HttpResponse>()>& send,
                            const std::function<Status(const HttpResponse&)>& accept) {
  Error last;
  for (int attempt = 0;; ++attempt) {
    if (progress_.Cancelled()) return Error(ErrorCode::kCancelled, "cancelled");
    double wait = -1;
    auto posted = send();
    if (!posted.ok()) {
      last = posted.take_error();
      last.message = Redact(last.message, service_.api_key);
      if (last.code != ErrorCode::kUnavailable && last.code != ErrorCode::kTimeout) return last;
      last.details = {{"attempts", attempt + 1}};
    } else {
      const HttpResponse& r = *posted;
      if (r.status >= 200 && r.status < 300) {
        Status accepted = accept(r);
        if (accepted.ok()) return OkStatus();
        last = accepted.error();
        last.message = Redact(last.message, service_.api_key);
        const bool again = last.details.is_object() && last.details.value("retryable", false);
        if (!last.details.is_object()) last.details = json::object();
        last.details["attempts"] = attempt + 1;
        if (!again) return last;
      } else {
        UpstreamError e = ReadUpstreamError(r);
        last = MapHttpError(r.status, e, attempt + 1, service_, r.request_id);
        if (!Retryable(r.status, e)) return last;
        wait = RetryAfterSeconds(r);
        if (wait > policy_.max_backoff_seconds) {
          last.message += " (the server asks to wait " + std::to_string(std::lround(wait)) +
                          " s, longer than the client waits)";
          return last;
        }
      }
    }
    if (attempt >= policy_.max_retries) return last;
    if (wait < 0) wait = Backoff(attempt);
    log::Warn("request to " + service_.name + " failed, retrying",
              {{"server", LoggableUrl(service_.base_url)},
               {"error", last.message},
               {"attempt", attempt + 1},
               {"retry_in_seconds", wait}});
    CRM_TRY(SleepUnlessCancelled(wait, progress_));
  }
}

}  // namespace crm::asr::remote
