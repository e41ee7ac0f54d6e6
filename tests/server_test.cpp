// The real server on a loopback port: health, OpenAPI coverage, authentication, CSRF, API keys,
// bad input, optimistic concurrency, search, pagination and graceful shutdown.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>
#include <thread>

#include "test_server.h"

namespace crm::testing {
namespace {

using nlohmann::json;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new TestServer(std::map<std::string, std::string>{{"RATE_LIMIT_LOGIN", "5/min"}});
    ASSERT_TRUE(server_->Start()) << server_->log();
    a_ = new TestFirm(CreateFirm(*server_, "Cabinet Alpha"));
  }
  static void TearDownTestSuite() {
    delete a_;
    delete server_;
  }
  static TestServer* server_;
  static TestFirm* a_;
};
TestServer* ServerTest::server_ = nullptr;
TestFirm* ServerTest::a_ = nullptr;

TEST_F(ServerTest, HealthEndpointsAnswerWithoutAuthentication) {
  auto live = server_->Get("/health/live");
  EXPECT_EQ(live.status, 200);
  auto ready = server_->Get("/health/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.json()["checks"]["database"]["status"], "ok");
  EXPECT_EQ(server_->Get("/metrics").status, 200);
}

TEST_F(ServerTest, WebApplicationIsServedFromBesideTheExecutable) {
  auto home = server_->Get("/");
  if (home.status == 503) GTEST_SKIP() << "web application not built (CRM_BUILD_WEB=OFF)";
  ASSERT_EQ(home.status, 200);
  EXPECT_EQ(home.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(home.header("cache-control"), "no-cache");
  EXPECT_NE(home.body.find("lang=\"fr\""), std::string::npos);
  // No inline script: the page works under the Content-Security-Policy it is served with.
  EXPECT_EQ(home.body.find("<script>"), std::string::npos);
  EXPECT_NE(home.header("content-security-policy").find("script-src 'self'"), std::string::npos);
  auto at = home.body.find("src=\"/assets/");
  ASSERT_NE(at, std::string::npos) << home.body;
  std::string script = home.body.substr(at + 5, home.body.find('"', at + 5) - at - 5);
  auto js = server_->Get(script);
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js.header("cache-control"), "public, max-age=31536000, immutable");
  auto gz = server_->Get(script, {{"Accept-Encoding", "br, gzip"}});
  EXPECT_EQ(gz.header("content-encoding"), "gzip");
  EXPECT_LT(gz.body.size(), js.body.size());

  // Client-side routes get the index page; the API's paths and missing files do not.
  auto deep = server_->Get("/clients/abc?x=1");
  EXPECT_EQ(deep.status, 200);
  EXPECT_EQ(deep.body, home.body);
  EXPECT_EQ(server_->Get("/meetings/m1/recordings/r1").status, 200);
  auto api = server_->Get("/api/no-such-thing");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.json()["error"]["code"], "not_found");
  EXPECT_EQ(server_->Get("/v1/nothing").status, 404);
  EXPECT_EQ(server_->Get("/healthz").status, 200);  // not /health: a client route
  EXPECT_EQ(server_->Get("/health/nothing").status, 404);
  EXPECT_EQ(server_->Get("/assets/missing-0000.js").status, 404);
  EXPECT_EQ(server_->Get("/../../etc/passwd").body.find("root:"), std::string::npos);
  EXPECT_EQ(server_->Call("POST", "/clients", nlohmann::json::object()).status, 404);
}

TEST_F(ServerTest, SecurityHeadersAndRequestIdOnEveryResponse) {
  auto r = server_->Get("/api/clients", {{"X-Request-Id", "trace-123"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("x-request-id"), "trace-123");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_NE(r.header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(r.header("referrer-policy"), "same-origin");
  EXPECT_EQ(r.json()["error"]["code"], "unauthenticated");
}

TEST_F(ServerTest, OpenApiDescribesEveryRouteAndOnlyRealOnes) {
  auto r = server_->Get("/api/openapi.json");
  ASSERT_EQ(r.status, 200);
  json doc = r.json();
  EXPECT_EQ(doc["openapi"], "3.1.0");
  int described = 0;
  for (auto& [path, methods] : doc["paths"].items()) {
    for (auto& [method, op] : methods.items()) {
      ++described;
      EXPECT_FALSE(op["summary"].get<std::string>().empty()) << method << " " << path;
      EXPECT_TRUE(op.contains("responses")) << method << " " << path;
      // Every path parameter is declared.
      for (size_t p = path.find('{'); p != std::string::npos; p = path.find('{', p + 1)) {
        std::string name = path.substr(p + 1, path.find('}', p) - p - 1);
        bool declared = false;
        for (auto& prm : op.value("parameters", json::array())) declared |= prm["name"] == name;
        EXPECT_TRUE(declared) << name << " in " << path;
      }
      // A described route exists: the server does not answer 404 "no such endpoint" for it.
      std::string target = path;
      for (size_t p; (p = target.find('{')) != std::string::npos;) target.replace(p, target.find('}', p) - p + 1, "x");
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(c));
      auto res = Send(server_->port(), {upper, target, upper == "GET" || upper == "DELETE" ? "" : "{}", Bearer(a_->api_key)});
      EXPECT_FALSE(res.status == 404 && res.body.find("No such endpoint") != std::string::npos) << upper << " " << target;
      EXPECT_NE(res.status, 405) << upper << " " << target;
    }
  }
  EXPECT_GT(described, 25);
  // An undescribed route is unknown to the server.
  EXPECT_EQ(server_->Get("/api/not-a-route", Bearer(a_->api_key)).status, 404);
}

TEST_F(ServerTest, LoginSetsAHardenedCookieAndLogoutEndsTheSession) {
  auto r = server_->Call("POST", "/api/auth/login", {{"email", a_->admin_email}, {"password", a_->password}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string cookie = r.header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
  std::string value = cookie.substr(cookie.find('=') + 1, cookie.find(';') - cookie.find('=') - 1);
  EXPECT_GE(value.size(), 22u);  // 128 bits, base64url
  Session s{cookie.substr(0, cookie.find(';')), r.json()["csrf_token"]};
  EXPECT_EQ(server_->Get("/api/auth/me", {{"Cookie", s.cookie}}).json()["email"], a_->admin_email);
  EXPECT_EQ(server_->Call("POST", "/api/auth/logout", nullptr, s.Headers()).status, 204);
  EXPECT_EQ(server_->Get("/api/auth/me", {{"Cookie", s.cookie}}).status, 401);
}

TEST_F(ServerTest, WrongPasswordAndUnknownAccountGiveTheSameAnswerThenThrottle) {
  auto unknown = server_->Call("POST", "/api/auth/login", {{"email", "nobody@nowhere.test"}, {"password", "whatever-123"}});
  auto wrong = server_->Call("POST", "/api/auth/login", {{"email", a_->member_email}, {"password", "not-the-password"}});
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.json()["error"], wrong.json()["error"]);
  int limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = server_->Call("POST", "/api/auth/login", {{"email", "victim@alpha.test"}, {"password", "guess-" + std::to_string(i)}});
    if (r.status == 429) {
      ++limited;
      EXPECT_FALSE(r.header("retry-after").empty());
    }
  }
  EXPECT_GE(limited, 1);
}

TEST_F(ServerTest, CookieWritesNeedTheCsrfTokenApiKeysDoNot) {
  auto s = Login(*server_, a_->member_email, a_->password);
  ASSERT_TRUE(s);
  auto no_token = server_->Call("POST", "/api/clients", {{"name", "Sans jeton"}}, {{"Cookie", s->cookie}});
  EXPECT_EQ(no_token.status, 403);
  EXPECT_EQ(no_token.json()["error"]["code"], "csrf_failed");
  auto bad_token = server_->Call("POST", "/api/clients", {{"name", "Mauvais jeton"}}, {{"Cookie", s->cookie}, {"X-CSRF-Token", "nope"}});
  EXPECT_EQ(bad_token.status, 403);
  EXPECT_EQ(server_->Call("POST", "/api/clients", {{"name", "Avec jeton"}}, s->Headers()).status, 201);
  EXPECT_EQ(server_->Call("POST", "/api/clients", {{"name", "Par clé"}}, Bearer(a_->api_key)).status, 201);
  EXPECT_EQ(server_->Call("POST", "/api/clients", {{"name", "Par X-API-Key"}}, {{"X-API-Key", a_->api_key}}).status, 201);
}

TEST_F(ServerTest, ApiKeysAreShownOnceStoredHashedAndRevocable) {
  auto created = server_->Call("POST", "/api/api-keys", {{"name", "Intégration comptable"}}, Bearer(a_->api_key));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string key = created.json()["key"];
  std::string id = created.json()["id"];
  EXPECT_EQ(server_->Get("/api/clients", Bearer(key)).status, 200);
  auto list = server_->Get("/api/api-keys", Bearer(a_->api_key));
  EXPECT_EQ(list.body.find(key), std::string::npos);  // never shown again
  EXPECT_EQ(server_->Call("DELETE", "/api/api-keys/" + id, nullptr, Bearer(a_->api_key)).status, 204);
  auto after = server_->Get("/api/clients", Bearer(key));
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(server_->Get("/api/clients", Bearer("crm_forged")).status, 401);
}

TEST_F(ServerTest, BadInputGetsClearErrors) {
  auto h = Bearer(a_->api_key);
  auto malformed = Send(server_->port(), {"POST", "/api/clients", "{\"name\": ", h});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.json()["error"]["code"], "invalid_json");
  auto wrong_type = server_->Call("POST", "/api/clients", {{"name", 42}, {"tags", "x"}}, h);
  EXPECT_EQ(wrong_type.status, 422);
  EXPECT_EQ(wrong_type.json()["error"]["details"]["name"], "must_be_string");
  EXPECT_EQ(wrong_type.json()["error"]["details"]["tags"], "must_be_array_of_strings");
  auto unknown = server_->Call("POST", "/api/clients", {{"name", "X"}, {"colour", "blue"}}, h);
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.json()["error"]["details"]["colour"], "unknown_field");
  auto missing = server_->Call("POST", "/api/clients", json::object(), h);
  EXPECT_EQ(missing.json()["error"]["details"]["name"], "required");
  auto not_object = Send(server_->port(), {"POST", "/api/clients", "[1,2]", h});
  EXPECT_EQ(not_object.status, 400);
  auto bad_utf8 = Send(server_->port(), {"POST", "/api/clients", "{\"name\": \"\xC3\x28\"}", h});
  EXPECT_EQ(bad_utf8.status, 400);
  std::string huge = "{\"name\": \"" + std::string(10 * 1024 * 1024, 'a') + "\"}";
  auto too_big = Send(server_->port(), {"POST", "/api/clients", huge, h});
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(too_big.json()["error"]["code"], "payload_too_large");
  auto bad_limit = server_->Get("/api/clients?limit=1000", h);
  EXPECT_EQ(bad_limit.status, 422);
  auto bad_date = server_->Call("POST", "/api/tasks", {{"title", "T"}, {"due_date", "31/12/2026"}}, h);
  EXPECT_EQ(bad_date.json()["error"]["details"]["due_date"], "invalid_date");
  EXPECT_EQ(server_->Call("PUT", "/api/clients", json::object(), h).status, 405);
  std::string garbage = SendRaw(server_->port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_NE(garbage.find(" 400 "), std::string::npos) << garbage;
  // The server is still fine afterwards.
  EXPECT_EQ(server_->Get("/health/live").status, 200);
}

TEST_F(ServerTest, StaleUpdatesAreRefusedNotSilentlyOverwritten) {
  auto h = Bearer(a_->api_key);
  auto c = server_->Call("POST", "/api/clients", {{"name", "Versionné"}}, h);
  ASSERT_EQ(c.status, 201);
  std::string id = c.json()["id"];
  EXPECT_EQ(c.header("etag"), "\"1\"");
  auto first = server_->Call("PATCH", "/api/clients/" + id, {{"phone", "01 23 45 67 89"}}, {{"Authorization", h[0].second}, {"If-Match", "\"1\""}});
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json()["version"], 2);
  auto stale = server_->Call("PATCH", "/api/clients/" + id, {{"phone", "00"}}, {{"Authorization", h[0].second}, {"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.json()["error"]["code"], "conflict");
  auto stale_body = server_->Call("PATCH", "/api/clients/" + id, {{"phone", "00"}, {"version", 1}}, h);
  EXPECT_EQ(stale_body.status, 409);
  EXPECT_EQ(server_->Get("/api/clients/" + id, h).json()["phone"], "01 23 45 67 89");
  // Two writers racing on the same version: exactly one wins.
  std::atomic<int> ok{0}, conflict{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < 6; ++i)
    writers.emplace_back([&, i] {
      auto r = server_->Call("PATCH", "/api/clients/" + id, {{"notes", "écrit par " + std::to_string(i)}, {"version", 2}}, h);
      (r.status == 200 ? ok : conflict)++;
    });
  for (auto& w : writers) w.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(conflict.load(), 5);
}

TEST_F(ServerTest, SearchIgnoresAccentsAndCaseAndPaginates) {
  auto h = Bearer(a_->api_key);
  for (const char* n : {"Hélène Dubœuf", "HELENE MARTIN", "Héloïse Brûlé", "Zoé Noël"})
    ASSERT_EQ(server_->Call("POST", "/api/clients", {{"name", n}, {"tags", json::array({"prioritaire"})}}, h).status, 201);
  auto found = server_->Get("/api/clients?q=helene", h).json();
  std::set<std::string> names;
  for (auto& c : found["data"]) names.insert(c["name"]);
  EXPECT_TRUE(names.count("Hélène Dubœuf") && names.count("HELENE MARTIN"));
  EXPECT_FALSE(names.count("Zoé Noël"));
  EXPECT_EQ(server_->Get("/api/clients?q=BRULE", h).json()["data"].size(), 1u);
  EXPECT_EQ(server_->Get("/api/clients?q=duboeuf", h).json()["data"].size(), 1u);
  // Walk every page sorted by name: no duplicates, nothing missed.
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  size_t total = 0;
  do {
    auto page = server_->Get("/api/clients?limit=2&sort=name" + (cursor.empty() ? "" : "&cursor=" + cursor), h).json();
    for (auto& c : page["data"]) {
      EXPECT_TRUE(seen.insert(c["id"].get<std::string>()).second);
      ++total;
    }
    cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
    ++pages;
  } while (!cursor.empty() && pages < 100);
  auto all = server_->Get("/api/clients?limit=200", h).json();
  EXPECT_EQ(total, all["data"].size());
  EXPECT_EQ(server_->Get("/api/clients?cursor=garbage!", h).status, 422);
}

TEST_F(ServerTest, ClientsFilterOnOneExactTag) {
  auto h = Bearer(a_->api_key);
  ASSERT_EQ(server_->Call("POST", "/api/clients", {{"name", "Tag Un"}, {"tags", json::array({"succession", "vip"})}}, h).status, 201);
  ASSERT_EQ(server_->Call("POST", "/api/clients", {{"name", "Tag Deux"}, {"tags", json::array({"successions"})}}, h).status, 201);
  ASSERT_EQ(server_->Call("POST", "/api/clients", {{"name", "Tag 100%"}, {"tags", json::array({"100%_sûr"})}}, h).status, 201);
  auto one = server_->Get("/api/clients?tags=succession", h).json();
  ASSERT_EQ(one["data"].size(), 1u) << one.dump();
  EXPECT_EQ(one["data"][0]["name"], "Tag Un");
  EXPECT_EQ(server_->Get("/api/clients?tags=vip&q=tag", h).json()["data"].size(), 1u);
  // LIKE wildcards in the tag are literal.
  EXPECT_EQ(server_->Get("/api/clients?tags=100%25_s%C3%BBr", h).json()["data"].size(), 1u);
  EXPECT_EQ(server_->Get("/api/clients?tags=1__%25", h).json()["data"].size(), 0u);
  EXPECT_EQ(server_->Get("/api/clients?tags=absent", h).json()["data"].size(), 0u);
}

TEST_F(ServerTest, MembersCannotDoAdminThings) {
  auto h = Bearer(a_->member_api_key);
  EXPECT_EQ(server_->Get("/api/api-keys", h).status, 403);
  EXPECT_EQ(server_->Call("POST", "/api/invitations", {{"email", "x@y.fr"}}, h).status, 403);
  EXPECT_EQ(server_->Get("/api/audit", h).status, 403);
  EXPECT_EQ(server_->Call("PATCH", "/api/firm", {{"name", "Pirate"}}, h).status, 403);
  EXPECT_EQ(server_->Get("/api/admin/firms", Bearer(a_->api_key)).status, 403);
}

TEST_F(ServerTest, InvitationAndPasswordResetLinksWork) {
  auto inv = server_->Call("POST", "/api/invitations", {{"email", "nouvelle@alpha.test"}, {"role", "member"}}, Bearer(a_->api_key));
  ASSERT_EQ(inv.status, 201) << inv.body;
  std::string link = inv.json()["invitation_link"];
  std::string token = link.substr(link.find("token=") + 6);
  EXPECT_EQ(server_->Call("POST", "/api/invitations/accept", {{"token", token}, {"password", "court"}}).status, 422);
  EXPECT_EQ(server_->Call("POST", "/api/invitations/accept", {{"token", token}, {"password", "un-long-mot-de-passe"}, {"name", "Inès"}}).status, 201);
  EXPECT_EQ(server_->Call("POST", "/api/invitations/accept", {{"token", token}, {"password", "un-long-mot-de-passe"}}).status, 404);
  ASSERT_TRUE(Login(*server_, "nouvelle@alpha.test", "un-long-mot-de-passe"));
  auto reset_unknown = server_->Call("POST", "/api/auth/password-reset", {{"email", "absent@alpha.test"}});
  auto reset_known = server_->Call("POST", "/api/auth/password-reset", {{"email", "nouvelle@alpha.test"}});
  EXPECT_EQ(reset_unknown.status, 202);
  EXPECT_EQ(reset_unknown.body, reset_known.body);
  auto cli = server_->Run({"user", "reset-link", "--email", "nouvelle@alpha.test"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  std::string reset_token = cli.out.substr(cli.out.find("token=") + 6);
  reset_token.pop_back();
  EXPECT_EQ(server_->Call("POST", "/api/auth/password-reset/confirm", {{"token", reset_token}, {"password", "encore-plus-long-123"}}).status, 204);
  EXPECT_FALSE(Login(*server_, "nouvelle@alpha.test", "un-long-mot-de-passe"));
  EXPECT_TRUE(Login(*server_, "nouvelle@alpha.test", "encore-plus-long-123"));
  EXPECT_EQ(server_->log().find(reset_token), std::string::npos);  // links from the CLI are never logged
}

TEST_F(ServerTest, AuditLogRecordsWhoDidWhat) {
  auto h = Bearer(a_->api_key);
  auto c = server_->Call("POST", "/api/clients", {{"name", "À supprimer"}}, h);
  std::string id = c.json()["id"];
  EXPECT_EQ(server_->Call("DELETE", "/api/clients/" + id, nullptr, h).status, 204);
  EXPECT_EQ(server_->Get("/api/clients/" + id, h).status, 404);
  auto audit = server_->Get("/api/audit", h).json();
  bool found = false;
  for (auto& e : audit["data"]) found |= e["action"] == "clients.delete" && e["object_id"] == id && !e["actor_api_key_id"].is_null();
  EXPECT_TRUE(found) << audit.dump();
}

TEST(ServerLifecycle, SigtermFinishesTheRequestInFlightThenExitsZero) {
  TestServer s;
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Lent");
  // Headers and half of the body arrive, then SIGTERM, then the rest of the body: the request
  // in flight is still served, new connections are refused, and the process exits 0.
  std::string body = "{\"name\": \"Arrivé pendant l'arrêt\"}";
  std::string head = "POST /api/clients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + f.api_key +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  RawConnection conn(s.port());
  ASSERT_TRUE(conn.ok());
  conn.Write(head + body.substr(0, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::atomic<int> code{-1};
  std::thread stopper([&] { code = s.Stop(SIGTERM); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(RawConnection(s.port()).ok(), false);  // no longer accepting
  conn.Write(body.substr(10));
  std::string response = conn.ReadAll(5000);
  stopper.join();
  EXPECT_EQ(response.substr(0, 12), "HTTP/1.1 201") << response;
  EXPECT_EQ(code.load(), 0) << s.log();
  EXPECT_NE(s.log().find("\"msg\":\"stopped\""), std::string::npos);
}

}  // namespace
}  // namespace crm::testing
