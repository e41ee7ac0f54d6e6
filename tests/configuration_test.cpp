// What the configuration promises is what runs: a value whose backend this build lacks stops the
// start with one line, and the session cookie's attributes follow APP_URL and the session
// lifetime.
#include <gtest/gtest.h>

#include "test_server.h"

namespace crm::testing {
namespace {

TEST(Configuration, EveryValueWithoutABackendStopsTheStartWithOneLine) {
  const std::vector<std::pair<std::string, std::string>> unbuilt = {{"QUEUE_CONNECTION", "redis"},
                                                                    {"CACHE_STORE", "redis"},
                                                                    {"STORAGE_DRIVER", "s3"},
                                                                    {"DB_CONNECTION", "mariadb"}};
  for (const auto& [name, value] : unbuilt) {
    // The settings each backend needs are given, so only the missing backend can stop it.
    TestServer s(Env{{name, value},
                     {"AWS_BUCKET", "recordings"},
                     {"MAIL_HOST", "127.0.0.1"},
                     {"GOTENBERG_URL", "http://127.0.0.1:3001"},
                     {"DB_USERNAME", "crm"}});
    EXPECT_FALSE(s.Start()) << name << "=" << value << " started";
    EXPECT_NE(s.log().find(name + "=" + value + " is not available in this build"),
              std::string::npos)
        << s.log();
    auto worker = s.Run({"migrate", "--status"});
    EXPECT_NE(worker.exit_code, 0) << name;
  }
}

// SUMMARY_MODE=openai has its backend (openai_reports_test exercises it): the server starts with
// it, and its settings are validated at start.
TEST(Configuration, OpenAiSummariesStartAndTheirSettingsAreChecked) {
  TestServer ok(Env{{"SUMMARY_MODE", "openai"}, {"OPENAI_BASE_URL", "http://127.0.0.1:9/v1"}});
  EXPECT_TRUE(ok.Start()) << ok.log();
  EXPECT_EQ(ok.log().find("is not available in this build"), std::string::npos) << ok.log();
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"OPENAI_CHAT_TIMEOUT", "0"},
                                                        {"OPENAI_CHAT_RETRIES", "11"},
                                                        {"SUMMARY_CHUNK_CHARS", "10"},
                                                        {"OPENAI_CHAT_MODEL", "gpt 4"}}) {
    TestServer bad(Env{{"SUMMARY_MODE", "openai"}, {name, value}});
    EXPECT_FALSE(bad.Start()) << name << "=" << value;
    EXPECT_NE(bad.log().find("invalid configuration: " + name + "="), std::string::npos)
        << bad.log();
  }
}

// MAIL_MAILER=smtp has its backend now: it starts; its settings are checked at the start.
TEST(Configuration, SmtpMailStartsAndBadMailSettingsStopTheStart) {
  TestServer smtp(Env{{"MAIL_MAILER", "smtp"},
                      {"MAIL_HOST", "127.0.0.1"},
                      {"MAIL_PORT", "2525"},
                      {"MAIL_PASSWORD", "pw-never-logged"}});
  ASSERT_TRUE(smtp.Start()) << smtp.log();
  EXPECT_EQ(smtp.log().find("pw-never-logged"), std::string::npos);
  auto ready = smtp.Get("/health/ready");
  EXPECT_NE(ready.body.find("smtp://127.0.0.1:2525"), std::string::npos) << ready.body;
  EXPECT_EQ(ready.body.find("pw-never-logged"), std::string::npos);
  auto doctor = smtp.Run({"doctor"});
  EXPECT_EQ((doctor.out + doctor.err).find("pw-never-logged"), std::string::npos);
  const std::vector<std::pair<Env, std::string>> bad = {
      {{{"MAIL_MAILER", "smtp"}}, "MAIL_HOST"},
      {{{"MAIL_ENCRYPTION", "tlsv9"}}, "MAIL_ENCRYPTION='tlsv9'"},
      {{{"MAIL_CA_FILE", "/nonexistent/ca.pem"}}, "MAIL_CA_FILE"},
      {{{"MAIL_FROM_ADDRESS", "nobody"}}, "MAIL_FROM_ADDRESS"},
      {{{"MAIL_TRIES", "0"}}, "MAIL_TRIES"}};
  for (const auto& [env, name] : bad) {
    TestServer s(env);
    EXPECT_FALSE(s.Start()) << name;
    EXPECT_NE(s.log().find(name), std::string::npos) << s.log();
  }
}

TEST(Configuration, SessionCookieIsSecureBehindHttpsAndLivesAsLongAsTheSession) {
  TestServer https(Env{{"APP_URL", "https://crm.cabinet.example"}});
  ASSERT_TRUE(https.Start()) << https.log();
  TestFirm a = CreateFirm(https, "Cabinet Alpha");
  auto login =
      https.Call("POST", "/api/auth/login", {{"email", a.admin_email}, {"password", a.password}});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string cookie = login.header("set-cookie");
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("Max-Age=43200"), std::string::npos) << cookie;  // 12 h sessions
  Session session{cookie.substr(0, cookie.find(';')), login.json()["csrf_token"]};
  auto logout = https.Call("POST", "/api/auth/logout", nullptr, session.Headers());
  EXPECT_EQ(logout.status, 204);
  EXPECT_NE(logout.header("set-cookie").find("Max-Age=0; Secure"), std::string::npos)
      << logout.header("set-cookie");

  TestServer http;
  ASSERT_TRUE(http.Start()) << http.log();
  TestFirm b = CreateFirm(http, "Cabinet Beta");
  auto plain =
      http.Call("POST", "/api/auth/login", {{"email", b.admin_email}, {"password", b.password}});
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.header("set-cookie").find("Secure"), std::string::npos);
}

}  // namespace
}  // namespace crm::testing
