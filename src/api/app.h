// The running application: configuration, store and services, built once by `serve` (and by
// tests) and handed to every route module. Route modules (one file per resource) register their
// routes on the Router; handlers translate HTTP <-> domain calls and nothing more.
#pragma once

#include <atomic>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "domain/auth.h"
#include "domain/records.h"
#include "http/router.h"
#include "http/server.h"
#include "storage/pages.h"
#include "storage/store.h"

namespace crm::mail {
class MailService;
}

namespace crm::api {

// A readiness check: name → ok/warn/fail with a detail and what to do.
struct Check {
  std::string name;
  std::string level;  // "ok", "warn", "fail"
  std::string detail;
  std::string action;  // what to do about it; empty when ok
};

// The session cookie's attributes, from the one place that decides them (OpenApp): it lives as
// long as a session may (AuthOptions::session_absolute_seconds) and is Secure behind HTTPS.
struct SessionCookieOptions {
  int max_age_seconds = domain::AuthOptions{}.session_absolute_seconds;
  bool secure = false;  // APP_URL is https://
};

struct App {
  config::Config config;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<domain::AuthService> auth;
  std::unique_ptr<domain::RecordStore> records;
  std::unique_ptr<domain::Throttle> api_throttle;
  SessionCookieOptions session_cookie;
  // Checks contributed by subsystems (queue, speech model, ...), run by /health/ready and doctor.
  std::vector<std::function<Check()>> checks;
  // Route modules contributed by subsystems, called by BuildRouter after the core ones.
  std::vector<std::function<void(http::Router&, App&)>> route_modules;
  // Lines of the Prometheus text format contributed by subsystems, appended to /metrics.
  std::vector<std::function<std::string()>> metrics;
  // The outbox, set by the subsystems that run it; null: invitations and resets are not mailed.
  mail::MailService* mail = nullptr;
  // Called before a client is deleted with its firm and id; each returns what to do once the
  // deletion has committed (remove the files of rows the deletion cascades to).
  std::vector<std::function<std::function<void()>(const std::string&, const std::string&)>>
      before_client_delete;
  std::atomic<int64_t> requests_total{0};
  int64_t started_unix = 0;
};

// Opens the store (applying migrations when `migrate` is set) and builds the services.
Result<std::unique_ptr<App>> OpenApp(config::Config config, bool migrate);

http::Router BuildRouter(App& app);
http::Middleware BuildMiddleware(App& app);
std::vector<Check> RunChecks(App& app);
// /metrics: the request families (fed by Middleware::finished), the database pool, free space and
// the newest backup (api/metrics.cpp). OpenApp calls AddCoreMetrics.
void RecordFinishedRequest(const http::FinishedRequest& request);
void AddCoreMetrics(App& app);

// Route modules of the core (one file each).
void RegisterHealthRoutes(http::Router& r, App& app);
void RegisterWebRoutes(http::Router& r, App& app);  // the home page at /
void RegisterAuthRoutes(http::Router& r, App& app);
void RegisterAdminRoutes(http::Router& r, App& app);
void RegisterCrmRoutes(http::Router& r, App& app);
void RegisterTranscriptRoutes(http::Router& r, App& app);  // transcripts: read, correct, export
void RegisterSearchRoutes(http::Router& r, App& app);      // GET /api/search
void RegisterVoiceprintRoutes(http::Router& r, App& app);  // voiceprints, recording speakers
// The OpenAPI 3.1 document of every route of `router`.
nlohmann::json BuildOpenApi(const http::Router& router);
void RegisterOpenApiRoute(http::Router& r, App& app);

// Helpers shared by route modules.
std::optional<int64_t> IfMatchVersion(const http::Request& req);  // If-Match: "3" or W/"3"
// ?limit=: 50 when absent; a whole number from 1 to 200, otherwise 422 naming `limit`.
Result<int> PageLimit(const http::Request& req);
// ?cursor= of the lists paged by id: empty when absent, else an id as the previous page gave it
// (26 characters of Crockford base32); anything else is a 422 naming `cursor`, never a page.
Result<std::string> PageCursor(const http::Request& req);
// A paged list's query: ?limit= (PageLimit) and ?cursor= (the last id of the previous page).
struct PageParams {
  int limit = 50;
  std::string cursor;
};
Result<PageParams> ListPageParams(const http::Request& req);
// An edit's JSON body: an object whose keys are all in `allowed` ("version" always is), else
// 422 naming each unknown key.
Result<nlohmann::json> EditBody(const http::Request& req,
                                std::initializer_list<std::string_view> allowed);
// The expected version of an edit: If-Match, else "version" in the body (422 when not an
// integer); neither is required.
Result<std::optional<int64_t>> EditVersion(const http::Request& req, const nlohmann::json& body);
http::Response Created(const nlohmann::json& object);
http::Response Ok(const nlohmann::json& object);  // with an ETag from "version"
http::Response Page(const std::vector<nlohmann::json>& data,
                    const std::optional<std::string>& next);
http::Response Page(const storage::Page& page);
// The same page from objects already serialised as JSON text.
http::Response Page(const std::vector<std::string>& json_objects,
                    const std::optional<std::string>& next);
std::string SessionCookieName();
// The Set-Cookie value carrying `token`; an empty token clears the cookie.
std::string SessionCookieHeader(const SessionCookieOptions& options, const std::string& token);
// A route's OpenAPI "requestBody": a required JSON body of the given schema.
nlohmann::json JsonBodyDoc(const nlohmann::json& schema);

}  // namespace crm::api
