#include "config/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/ids.h"

namespace crm::config {
namespace {

TEST(Config, DefaultsFollowTheContract) {
  auto c = Load({}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->app_port, 8000);
  EXPECT_EQ(c->data_dir, "./storage");
  EXPECT_EQ(c->upload_max_bytes, 209715200);
  EXPECT_EQ(c->transcription_mode, "whisper_local");
  EXPECT_EQ(c->whisper_model, "./storage/models/ggml-base.bin");
  EXPECT_TRUE(c->diarization);
  EXPECT_EQ(c->rate_limit_login.count, 10);
}

TEST(Config, EnvironmentWinsOverDotEnv) {
  auto c = Load({{"APP_PORT", "9000"}}, {{"APP_PORT", "9001"}, {"DATA_DIR", "/tmp/x"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->app_port, 9000);
  EXPECT_EQ(c->data_dir, "/tmp/x");
}

TEST(Config, InvalidValueNamesVariableValueAndAllowed) {
  auto c = Load({{"APP_PORT", "eighty"}}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("APP_PORT"), std::string::npos);
  EXPECT_NE(c.error().message.find("eighty"), std::string::npos);
  EXPECT_NE(c.error().message.find("0 to 65535"), std::string::npos);
  auto m = Load({{"TRANSCRIPTION_MODE", "magic"}}, {});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("whisper_local, openai"), std::string::npos);
  EXPECT_FALSE(Load({{"RATE_LIMIT_API", "lots"}}, {}).ok());
  EXPECT_FALSE(Load({{"DIARIZATION", "maybe"}}, {}).ok());
  auto cache = Load({{"CACHE_MEMORY_MB", "-1"}}, {});
  ASSERT_FALSE(cache.ok());
  EXPECT_NE(cache.error().message.find("CACHE_MEMORY_MB"), std::string::npos);
  EXPECT_EQ(Load({{"CACHE_MEMORY_MB", "0"}}, {})->cache_memory_mb, 0);
  EXPECT_EQ(Load({}, {})->cache_memory_mb, 32);
}

TEST(Config, SecretsAreNeverEchoedInErrors) {
  auto c = Load({{"TRANSCRIPTION_MODE", "openai"},
                 {"OPENAI_BASE_URL", "ftp://x"},
                 {"OPENAI_API_KEY", "sk-secret"}},
                {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message.find("sk-secret"), std::string::npos);
  for (auto& line : Describe(*Load({{"OPENAI_API_KEY", "sk-secret"}}, {})))
    EXPECT_EQ(line.find("sk-secret"), std::string::npos);
}

TEST(Config, ReadsSecretsFromFiles) {
  auto path = std::filesystem::temp_directory_path() / ("crm-secret-" + RandomHex(4));
  std::ofstream(path) << "from-file\n";
  auto c = Load({{"OPENAI_API_KEY_FILE", path.string()}}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->openai_api_key, "from-file");
  std::filesystem::remove(path);
  EXPECT_FALSE(Load({{"OPENAI_API_KEY_FILE", "/nonexistent/secret"}}, {}).ok());
}

TEST(Config, ParsesDotEnvAndNotesIgnoredSeedVariables) {
  auto path = std::filesystem::temp_directory_path() / ("crm-env-" + RandomHex(4));
  std::ofstream(path)
      << "# comment\nexport APP_PORT=8123\nAPP_URL=\"http://crm.example\"\nHUGGINGFACE_TOKEN=hf_x "
         "# old\n";
  auto env = ReadDotEnv(path.string());
  ASSERT_TRUE(env.ok());
  auto c = Load({}, *env);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->app_port, 8123);
  EXPECT_EQ(c->app_url, "http://crm.example");
  ASSERT_EQ(c->notices.size(), 1u);
  EXPECT_NE(c->notices[0].find("HUGGINGFACE_TOKEN"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(Config, GeneratesAppKeyOnceAndRefusesDemoKeysInProduction) {
  ASSERT_TRUE(InitCrypto());
  auto dir = std::filesystem::temp_directory_path() / ("crm-data-" + RandomHex(4));
  auto c = Load({{"DATA_DIR", dir.string()}}, {});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(PrepareDataDir(*c).ok());
  std::string first = c->app_key;
  EXPECT_FALSE(first.empty());
  auto c2 = Load({{"DATA_DIR", dir.string()}}, {});
  ASSERT_TRUE(PrepareDataDir(*c2).ok());
  EXPECT_EQ(c2->app_key, first);
  EXPECT_TRUE(std::filesystem::exists(dir / "tmp"));
  auto prod =
      Load({{"DATA_DIR", dir.string()}, {"APP_ENV", "production"}, {"APP_KEY", "changeme"}}, {});
  ASSERT_TRUE(prod.ok());
  EXPECT_FALSE(PrepareDataDir(*prod).ok());
  std::filesystem::remove_all(dir);
}

TEST(Config, OpenAiSummarySettings) {
  auto d = Load({{"SUMMARY_MODE", "openai"}}, {});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(RefuseUnbuiltBackends(*d).ok()) << "SUMMARY_MODE=openai has its backend";
  EXPECT_EQ(d->openai_chat_model, "gpt-4o-mini");
  EXPECT_EQ(d->openai_chat_timeout, 120);
  EXPECT_EQ(d->openai_chat_retries, 4);
  EXPECT_EQ(d->summary_chunk_chars, 24000);
  auto c = Load({{"SUMMARY_MODE", "openai"},
                 {"OPENAI_CHAT_MODEL", " llama3.1:8b "},
                 {"OPENAI_CHAT_TIMEOUT", "30"},
                 {"OPENAI_CHAT_RETRIES", "0"},
                 {"SUMMARY_CHUNK_CHARS", "4000"}},
                {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->openai_chat_model, "llama3.1:8b");
  EXPECT_EQ(c->openai_chat_timeout, 30);
  EXPECT_EQ(c->openai_chat_retries, 0);
  EXPECT_EQ(c->summary_chunk_chars, 4000);
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"OPENAI_CHAT_MODEL", ""},
                                                        {"OPENAI_CHAT_MODEL", "a b"},
                                                        {"OPENAI_CHAT_TIMEOUT", "0"},
                                                        {"OPENAI_CHAT_TIMEOUT", "x"},
                                                        {"OPENAI_CHAT_RETRIES", "-1"},
                                                        {"SUMMARY_CHUNK_CHARS", "999"}}) {
    auto bad = Load({{k, v}}, {});
    ASSERT_FALSE(bad.ok()) << k << "=" << v;
    EXPECT_NE(bad.error().message.find(k), std::string::npos) << bad.error().message;
  }
}

TEST(Config, AValueWithoutABackendInThisBuildIsValidButRefusedAtStart) {
  EXPECT_TRUE(RefuseUnbuiltBackends(*Load({}, {})).ok());  // the defaults all run
  const Environment needs = {{"AWS_BUCKET", "b"},
                             {"MAIL_HOST", "smtp.example"},
                             {"GOTENBERG_URL", "http://127.0.0.1:3001"},
                             {"DB_USERNAME", "crm"}};
  ASSERT_FALSE(UnbuiltBackends().empty());
  for (const auto& b : UnbuiltBackends()) {
    Environment env = needs;
    env[b.variable] = b.value;
    auto c = Load(env, {});
    ASSERT_TRUE(c.ok()) << b.variable << ": " << c.error().message;
    EXPECT_EQ((*c).*b.setting, b.value) << b.variable;
    Status refused = RefuseUnbuiltBackends(*c);
    ASSERT_FALSE(refused.ok()) << b.variable << "=" << b.value;
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(refused.error().message.find(std::string(b.variable) + "=" + b.value),
              std::string::npos);
    EXPECT_NE(refused.error().message.find(std::string(b.variable) + "=" + b.instead),
              std::string::npos)
        << "says what to set instead";
    env[b.variable] = b.instead;
    EXPECT_TRUE(RefuseUnbuiltBackends(*Load(env, {})).ok()) << b.variable << "=" << b.instead;
  }
}

TEST(Config, SeedAliasesRunAsTheirEquivalentAndSaySo) {
  auto c =
      Load({{"QUEUE_CONNECTION", "sync"}, {"CACHE_STORE", "file"}, {"MAIL_MAILER", "log"}}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->queue_connection, "database");
  EXPECT_EQ(c->cache_store, "memory");
  EXPECT_EQ(c->mail_mailer, "outbox");
  EXPECT_EQ(c->notices.size(), 3u);
}

TEST(Config, MailSettingsAreCheckedAndTheirAliasesNormalised) {
  auto smtp = Load({{"MAIL_MAILER", "smtp"},
                    {"MAIL_HOST", "smtp.example"},
                    {"MAIL_PORT", "465"},
                    {"MAIL_ENCRYPTION", "SMTPS"},
                    {"MAIL_TRIES", "7"},
                    {"MAIL_RETRY_SECONDS", "5"},
                    {"MAIL_REMINDER_INTERVAL", "0"}},
                   {});
  ASSERT_TRUE(smtp.ok()) << smtp.error().message;
  EXPECT_TRUE(RefuseUnbuiltBackends(*smtp).ok());  // SMTP is built in
  EXPECT_EQ(smtp->mail_encryption, "ssl");
  EXPECT_EQ(smtp->mail_port, 465);
  EXPECT_EQ(smtp->mail_tries, 7);
  EXPECT_EQ(smtp->mail_retry_seconds, 5);
  EXPECT_EQ(smtp->mail_reminder_interval, 0);
  EXPECT_EQ(Load({{"MAIL_ENCRYPTION", "starttls"}}, {})->mail_encryption, "tls");
  EXPECT_EQ(Load({{"MAIL_ENCRYPTION", "null"}}, {})->mail_encryption, "none");
  EXPECT_EQ(Load({{"MAIL_ENCRYPTION", ""}}, {})->mail_encryption, "");
  const std::vector<std::pair<Environment, std::string>> bad = {
      {{{"MAIL_ENCRYPTION", "tls1.3"}}, "MAIL_ENCRYPTION='tls1.3'"},
      {{{"MAIL_FROM_ADDRESS", "crm-ai"}}, "MAIL_FROM_ADDRESS"},
      {{{"MAIL_FROM_NAME", "crm\r\nBcc: x@y.fr"}}, "MAIL_FROM_ADDRESS"},
      {{{"MAIL_CA_FILE", "/nonexistent/ca.pem"}}, "MAIL_CA_FILE"},
      {{{"MAIL_TIMEOUT", "0"}}, "MAIL_TIMEOUT"},
      {{{"MAIL_MAILER", "smtp"}}, "MAIL_HOST"}};
  for (const auto& [env, name] : bad) {
    auto c = Load(env, {});
    ASSERT_FALSE(c.ok()) << name;
    EXPECT_NE(c.error().message.find(name), std::string::npos) << c.error().message;
  }
  // The password is a secret: never shown.
  auto described = Describe(*Load({{"MAIL_PASSWORD", "pw-in-clear"}}, {}));
  for (const auto& line : described) EXPECT_EQ(line.find("pw-in-clear"), std::string::npos);
}

TEST(Config, CookiesAreSecureExactlyWhenThePublicUrlIsHttps) {
  EXPECT_FALSE(Load({}, {})->secure_cookies());
  EXPECT_TRUE(Load({{"APP_URL", "https://crm.example"}}, {})->secure_cookies());
}

}  // namespace
}  // namespace crm::config
