// Result<T> and Error: how every module reports failure across its edges.
//
// A module never throws across its public interface. It returns Result<T>, which holds either a
// value or an Error. An Error carries a machine-readable code (mapped to an HTTP status in one
// place, http/error_map.cpp), a message meant for the person who has to act on it, and optional
// details (for example the names of the fields that were wrong).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

namespace crm {

enum class ErrorCode {
  kInvalidArgument,     // a value is wrong (422 at the HTTP edge)
  kInvalidJson,         // the body is not JSON (400)
  kBadRequest,          // the request itself is malformed (400)
  kUnauthenticated,     // no or bad credentials (401)
  kForbidden,           // authenticated but not allowed (403)
  kNotFound,            // missing, or belonging to another firm (404)
  kConflict,            // stale version, duplicate (409)
  kPayloadTooLarge,     // over a size limit (413)
  kUnsupportedMediaType,// not audio/video, wrong content type (415)
  kUndecodable,         // audio that cannot be decoded (422)
  kRateLimited,         // too many requests (429)
  kUnavailable,         // a dependency is down (503)
  kCancelled,           // the caller asked to stop
  kTimeout,             // took too long
  kIo,                  // disk or network failure
  kCorrupt,             // a file or record is damaged
  kInternal,            // a bug
};

// Stable snake_case name of a code, as used in API error bodies.
const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  nlohmann::json details = nullptr;  // null when there is nothing more to say
  std::string api_code;              // overrides ErrorCodeName(code) in API bodies when set

  Error() = default;
  Error(ErrorCode c, std::string msg, nlohmann::json d = nullptr, std::string api = {})
      : code(c), message(std::move(msg)), details(std::move(d)), api_code(std::move(api)) {}

  std::string CodeName() const { return api_code.empty() ? ErrorCodeName(code) : api_code; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}              // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}          // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }
  Error&& take_error() { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;
inline Status OkStatus() { return Ok{}; }

// Shorthands for the common errors.
inline Error InvalidArgument(std::string msg, nlohmann::json details = nullptr) {
  return Error(ErrorCode::kInvalidArgument, std::move(msg), std::move(details));
}
inline Error NotFound(std::string msg) { return Error(ErrorCode::kNotFound, std::move(msg)); }
inline Error Internal(std::string msg) { return Error(ErrorCode::kInternal, std::move(msg)); }
inline Error IoError(std::string msg) { return Error(ErrorCode::kIo, std::move(msg)); }

}  // namespace crm

// Propagates an error from an expression returning Result<...>/Status.
#define CRM_TRY(expr)                                      \
  do {                                                     \
    auto crm_try_r_ = (expr);                              \
    if (!crm_try_r_.ok()) return crm_try_r_.take_error();  \
  } while (0)

#define CRM_CONCAT_INNER(a, b) a##b
#define CRM_CONCAT(a, b) CRM_CONCAT_INNER(a, b)
// CRM_ASSIGN_OR_RETURN(auto x, Compute()); binds the value or returns the error.
#define CRM_ASSIGN_OR_RETURN(decl, expr)                        \
  auto CRM_CONCAT(crm_r_, __LINE__) = (expr);                   \
  if (!CRM_CONCAT(crm_r_, __LINE__).ok())                       \
    return CRM_CONCAT(crm_r_, __LINE__).take_error();           \
  decl = std::move(CRM_CONCAT(crm_r_, __LINE__)).value()
