// Routes: method + pattern ("/api/clients/{id}") → handler, with the options the middleware
// applies before the handler runs (authentication, role, CSRF, body limits, streaming sinks)
// and the description that goes into the OpenAPI document.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/message.h"

namespace crm::http {

enum class AuthMode { kNone, kRequired, kOptional };

struct RouteOptions {
  AuthMode auth = AuthMode::kRequired;
  // Lowest role allowed: "member" < "admin" < "owner"; "platform_admin" for platform routes.
  std::string min_role = "member";
  // The platform admin belongs to no firm, so min_role refuses it on firm routes; set on routes
  // about the caller itself or the whole platform (who am I, sign out, the job queue), where the
  // handler scopes by the principal.
  bool platform_admin_too = false;
  bool csrf = true;           // cookie-authenticated unsafe methods need X-CSRF-Token
  size_t max_body = 1 << 20;  // bytes; larger bodies → 413
  BodySinkFactory body_sink;  // set: the body streams into it instead of memory
  bool rate_limited = true;
  // Requests without a body run their middleware and handler on the I/O thread instead of the
  // handler pool, saving two thread hops. Only for handlers that read a few indexed rows or a
  // cache (list pages): never files, the network, writes or bulk work.
  bool light = false;
  // How errors raised before the handler (auth, limits, CSRF) are written; empty = the API's
  // {"error": {"code", "message", "details"}}.
  std::function<Response(const Error&)> error_format;
  // OpenAPI: summary (required), tag, and optional operation fields (requestBody, responses...).
  std::string summary;
  std::string tag;
  nlohmann::json doc = nlohmann::json::object();
};

struct Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;
  Handler handler;
  RouteOptions options;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  bool path_exists = false;  // some route has this path with another method (→ 405)
  std::string allowed;       // "GET, PATCH" for the Allow header
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  RouteMatch Match(const std::string& method, const std::string& path) const;
  const std::vector<Route>& routes() const { return routes_; }
  // Answers GET and HEAD on the paths no route has and `accepts` takes: the web application's
  // own (client-side) routes, which all get its index page. Not part of the OpenAPI document.
  void SetFallback(std::function<bool(const std::string& path)> accepts, Handler handler,
                   RouteOptions options = {});
  // How errors are written for the paths under `prefix` when no route's own error_format applies
  // (an unknown path, another method, malformed HTTP): an API with its own error shape (OpenAI's
  // under /v1/) keeps it for every answer its clients can get.
  void SetErrorFormat(std::string prefix, std::function<Response(const Error&)> format);
  // The format for `path` (request target or decoded path), or nullptr for the API's own.
  const std::function<Response(const Error&)>* ErrorFormatFor(std::string_view path) const;

 private:
  std::vector<Route> routes_;
  std::optional<Route> fallback_;
  std::function<bool(const std::string&)> fallback_accepts_;
  std::vector<std::pair<std::string, std::function<Response(const Error&)>>> error_formats_;
};

// Role order for RouteOptions::min_role checks.
bool RoleAtLeast(const std::string& role, const std::string& min_role);

}  // namespace crm::http
