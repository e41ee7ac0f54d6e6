// /health/live, /health/ready, /metrics and /api/openapi.json: unauthenticated.
#include "api/app.h"
#include "common/ids.h"
#include "common/text.h"
#include "domain/installation.h"

namespace crm::api {

using http::AuthMode;
using http::Request;
using http::Response;
using nlohmann::json;

void RegisterHealthRoutes(http::Router& r, App& app) {
  r.Add("GET", "/health/live",
        [](Request&) {
          return Response::Json(200, {{"status", "ok"}});
        },
        {.auth = AuthMode::kNone,
         .rate_limited = false,
         .summary = "Le processus répond",
         .tag = "health"});

  r.Add("GET", "/health/ready",
        [&app](Request&) {
          json checks = json::object();
          bool failed = false;
          for (auto& c : RunChecks(app)) {
            checks[c.name] = {{"status", c.level}, {"detail", c.detail}};
            if (!c.action.empty()) checks[c.name]["action"] = c.action;
            failed |= c.level == "fail";
          }
          return Response::Json(failed ? 503 : 200,
                                {{"status", failed ? "fail" : "ok"}, {"checks", checks}});
        },
        {.auth = AuthMode::kNone,
         .rate_limited = false,
         .summary = "Prêt à servir : une entrée par dépendance (200 sauf échec bloquant)",
         .tag = "health"});

  r.Add("GET", "/metrics",
        [&app](Request& req) {
          const std::string& token = app.config.metrics_token;
          if (!token.empty()) {
            std::string got = req.Header("Authorization");
            if (got.size() < 7 || !ConstantTimeEquals(got.substr(7), token))
              return Response::FromError(
                  Error(ErrorCode::kUnauthenticated, "Bearer token required for /metrics"));
          } else if (req.remote_ip != "127.0.0.1" && req.remote_ip != "::1" &&
                     req.remote_ip.rfind("127.", 0) != 0) {
            return Response::FromError(Error(
                ErrorCode::kForbidden, "/metrics answers on loopback only; set METRICS_TOKEN"));
          }
          std::string out;
          out += "# HELP crm_up 1 when the server runs\n# TYPE crm_up gauge\ncrm_up 1\n";
          out +=
              "# HELP crm_uptime_seconds Seconds since start\n# TYPE crm_uptime_seconds "
              "gauge\ncrm_uptime_seconds " +
              std::to_string(NowUnix() - app.started_unix) + "\n";
          if (auto counts = domain::CountInstallation(*app.store); counts.ok()) {
            const std::pair<const char*, int64_t> gauges[] = {{"firms", counts->firms},
                                                              {"users", counts->users},
                                                              {"clients", counts->clients},
                                                              {"meetings", counts->meetings}};
            for (const auto& [k, n] : gauges)
              out += std::string("# TYPE crm_") + k + " gauge\ncrm_" + k + " " + std::to_string(n) +
                     "\n";
          }
          for (auto& m : app.metrics) out += m();
          out +=
              "# HELP crm_check_ok 1 when a readiness check passes (or only warns)\n"
              "# TYPE crm_check_ok gauge\n";
          for (auto& c : RunChecks(app))
            out +=
                "crm_check_ok{check=\"" + c.name + "\"} " + (c.level == "fail" ? "0" : "1") + "\n";
          return Response::Text(200, out, "text/plain; version=0.0.4");
        },
        {.auth = AuthMode::kNone,
         .rate_limited = false,
         .summary = "Métriques Prometheus",
         .tag = "health"});
}

}  // namespace crm::api
