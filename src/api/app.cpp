#include "api/app.h"

#include <algorithm>
#include <filesystem>

#include "common/json_writer.h"
#include "common/log.h"
#include "common/text.h"
#include "storage/migrations/migrations.h"

namespace crm::api {

std::string SessionCookieName() { return "crm_session"; }

std::string SessionCookieHeader(const SessionCookieOptions& options, const std::string& token) {
  // An empty token clears the cookie (Max-Age=0) with the same attributes that set it.
  std::string cookie = SessionCookieName() + "=" + token +
                       "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                       std::to_string(token.empty() ? 0 : options.max_age_seconds);
  if (options.secure) cookie += "; Secure";
  return cookie;
}

Result<std::unique_ptr<App>> OpenApp(config::Config config, bool migrate) {
  auto app = std::make_unique<App>();
  app->config = std::move(config);
  const auto& c = app->config;
  CRM_TRY(config::RefuseUnbuiltBackends(c));
  CRM_ASSIGN_OR_RETURN(app->store, storage::OpenSqlite({c.DatabasePath()}));
  if (migrate) CRM_TRY(storage::ApplyMigrations(*app->store));
  domain::AuthOptions ao;
  ao.login_limit = c.rate_limit_login.count;
  ao.login_window_seconds = c.rate_limit_login.per_seconds;
  ao.login_limit_enabled = c.rate_limit_login.enabled;
  app->auth = std::make_unique<domain::AuthService>(*app->store, ao);
  app->session_cookie.max_age_seconds = ao.session_absolute_seconds;
  app->session_cookie.secure = c.secure_cookies();
  app->records = std::make_unique<domain::RecordStore>(*app->store);
  app->api_throttle = std::make_unique<domain::Throttle>(
      c.rate_limit_api.count, c.rate_limit_api.per_seconds, c.rate_limit_api.enabled);
  app->started_unix = NowUnix();
  AddCoreMetrics(*app);
  return app;
}

static std::string CookieValue(const std::string& header, const std::string& name) {
  for (auto& part : Split(header, ';')) {
    std::string p = Trim(part);
    if (p.size() > name.size() && p.compare(0, name.size(), name) == 0 && p[name.size()] == '=')
      return p.substr(name.size() + 1);
  }
  return {};
}

http::Middleware BuildMiddleware(App& app) {
  http::Middleware mw;
  mw.authenticate = [&app](const http::Request& req) -> Result<Principal> {
    std::string key = req.Header("X-API-Key");
    std::string authz = req.Header("Authorization");
    if (key.empty() && authz.size() > 7 && strncasecmp(authz.c_str(), "Bearer ", 7) == 0)
      key = Trim(authz.substr(7));
    std::string token = key.empty() ? CookieValue(req.Header("Cookie"), SessionCookieName()) : "";
    return app.auth->Authenticate(token, key, req.remote_ip);
  };
  mw.rate_limit = [&app](const http::Request& req) -> std::optional<int> {
    const auto& p = req.principal;
    if (!p.authenticated) return std::nullopt;
    return app.api_throttle->Hit(p.api_key_id.empty() ? "user:" + p.user_id
                                                      : "key:" + p.api_key_id);
  };
  mw.finished = RecordFinishedRequest;
  return mw;
}

http::Router BuildRouter(App& app) {
  http::Router r;
  RegisterHealthRoutes(r, app);
  RegisterWebRoutes(r, app);
  RegisterAuthRoutes(r, app);
  RegisterAdminRoutes(r, app);
  RegisterCrmRoutes(r, app);
  RegisterTranscriptRoutes(r, app);
  RegisterSearchRoutes(r, app);
  RegisterVoiceprintRoutes(r, app);
  for (auto& module : app.route_modules) module(r, app);
  RegisterOpenApiRoute(r, app);
  return r;
}

std::vector<Check> RunChecks(App& app) {
  std::vector<Check> out;
  auto ping = app.store->Ping();
  out.push_back(ping.ok() ? Check{"database", "ok", app.store->Describe(), ""}
                          : Check{"database", "fail", ping.error().message,
                                  "check DATA_DIR / DB_* settings"});
  std::error_code ec;
  auto space = std::filesystem::space(app.config.data_dir, ec);
  if (ec)
    out.push_back({"storage", "fail", "cannot read " + app.config.data_dir, "check DATA_DIR"});
  else if (space.available < (1ull << 30))
    out.push_back({"storage", "warn",
                   std::to_string(space.available >> 20) + " MiB free in " + app.config.data_dir,
                   "free disk space"});
  else
    out.push_back({"storage", "ok",
                   std::to_string(space.available >> 30) + " GiB free in " + app.config.data_dir,
                   ""});
  for (auto& check : app.checks) out.push_back(check());
  return out;
}

nlohmann::json JsonBodyDoc(const nlohmann::json& schema) {
  return {{"requestBody",
           {{"required", true}, {"content", {{"application/json", {{"schema", schema}}}}}}}};
}

Result<int> PageLimit(const http::Request& req) {
  auto l = req.Query("limit");
  if (!l) return 50;
  std::optional<int> n = ParseInt(*l, 1, 200);
  if (!n) {
    return InvalidArgument("Paramètres de liste invalides. / Invalid list parameters.",
                           {{"limit", "must_be_1_to_200"}});
  }
  return *n;
}

Result<std::string> PageCursor(const http::Request& req) {
  std::string c = req.Query("cursor").value_or("");
  if (c.empty()) return c;
  if (c.size() != 26 ||
      c.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") != std::string::npos)
    return InvalidArgument(
        "Curseur invalide : reprenez le next_cursor de la page précédente. / "
        "Invalid cursor: use the previous page's next_cursor.",
        {{"cursor", "invalid"}});
  return c;
}

Result<PageParams> ListPageParams(const http::Request& req) {
  CRM_ASSIGN_OR_RETURN(int limit, PageLimit(req));
  CRM_ASSIGN_OR_RETURN(std::string cursor, PageCursor(req));
  return PageParams{limit, std::move(cursor)};
}

Result<nlohmann::json> EditBody(const http::Request& req,
                                std::initializer_list<std::string_view> allowed) {
  CRM_ASSIGN_OR_RETURN(nlohmann::json body, req.JsonBody());
  if (!body.is_object()) return InvalidArgument("Objet JSON attendu. / JSON object expected.", {});
  nlohmann::json unknown = nlohmann::json::object();
  for (auto& [k, v] : body.items()) {
    bool known = k == "version";
    for (std::string_view a : allowed) known = known || k == a;
    if (!known) unknown[k] = "unknown";
  }
  if (!unknown.empty()) return InvalidArgument("Champs inconnus. / Unknown fields.", unknown);
  return body;
}

Result<std::optional<int64_t>> EditVersion(const http::Request& req, const nlohmann::json& body) {
  if (auto v = IfMatchVersion(req)) return std::optional<int64_t>(*v);
  if (body.is_object() && body.contains("version")) {
    if (!body["version"].is_number_integer())
      return InvalidArgument("version doit être un entier. / version must be an integer.",
                             {{"version", "invalid"}});
    return std::optional<int64_t>(body["version"].get<int64_t>());
  }
  return std::optional<int64_t>();
}

std::optional<int64_t> IfMatchVersion(const http::Request& req) {
  std::string v = Trim(req.Header("If-Match"));
  if (v.empty() || v == "*") return std::nullopt;
  if (v.rfind("W/", 0) == 0) v = v.substr(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  try {
    size_t pos = 0;
    int64_t n = std::stoll(v, &pos);
    if (pos == v.size()) return n;
  } catch (...) {
  }
  return int64_t{-1};  // unparsable: never matches, so the update is refused as stale
}

http::Response Created(const nlohmann::json& object) {
  auto res = http::Response::Json(201, object);
  if (object.contains("version"))
    res.Header("ETag", "\"" + std::to_string(object["version"].get<int64_t>()) + "\"");
  return res;
}

http::Response Ok(const nlohmann::json& object) {
  auto res = http::Response::Json(200, object);
  if (object.contains("version") && object["version"].is_number_integer())
    res.Header("ETag", "\"" + std::to_string(object["version"].get<int64_t>()) + "\"");
  return res;
}

http::Response Page(const std::vector<nlohmann::json>& data,
                    const std::optional<std::string>& next) {
  nlohmann::json j = {{"data", data}};
  j["next_cursor"] = next ? nlohmann::json(*next) : nlohmann::json(nullptr);
  return http::Response::Json(200, j);
}

http::Response Page(const storage::Page& page) { return Page(page.data, page.next_cursor); }

http::Response Page(const std::vector<std::string>& objects,
                    const std::optional<std::string>& next) {
  size_t total = 40;
  for (auto& o : objects) total += o.size() + 1;
  std::string body;
  body.reserve(total);
  body += "{\"data\":[";
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i) body.push_back(',');
    body += objects[i];
  }
  body += "],\"next_cursor\":";
  if (next)
    AppendJsonString(body, *next);
  else
    body += "null";
  body.push_back('}');
  return http::Response::Text(200, std::move(body), "application/json");
}

}  // namespace crm::api
