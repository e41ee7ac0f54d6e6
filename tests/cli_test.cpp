// The administration commands of the binary: migrate, seed, firm/user/apikey, doctor, help,
// version, and clear one-line failures.
#include <gtest/gtest.h>

#include "test_server.h"

namespace crm::testing {
namespace {

TEST(Cli, VersionAndHelp) {
  TestServer s;
  auto v = s.Run({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("crm-ai ", 0), 0u);
  auto h = s.Run({"help"});
  EXPECT_EQ(h.exit_code, 0);
  for (const char* c : {"serve", "worker", "migrate", "seed", "doctor", "transcribe", "diarize", "models", "firm", "user", "apikey"})
    EXPECT_NE(h.out.find(c), std::string::npos) << c;
  auto unknown = s.Run({"frobnicate"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("unknown command"), std::string::npos);
}

TEST(Cli, MigrateListsAndAppliesOnce) {
  TestServer s;
  auto before = s.Run({"migrate", "--status"});
  EXPECT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.out.find("pending 1 core"), std::string::npos) << before.out;
  auto apply = s.Run({"migrate"});
  EXPECT_EQ(apply.exit_code, 0) << apply.err;
  auto after = s.Run({"migrate", "--status"});
  EXPECT_NE(after.out.find("applied 1 core"), std::string::npos) << after.out;
  EXPECT_EQ(after.out.find("pending"), std::string::npos);
  EXPECT_NE(s.Run({"migrate"}).out.find("0 migration(s) applied"), std::string::npos);
}

TEST(Cli, SeedLoadsFrenchDemoDataOnceAndPrintsLogins) {
  TestServer s;
  auto seed = s.Run({"seed"});
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  EXPECT_NE(seed.out.find("@"), std::string::npos);
  EXPECT_NE(s.Run({"seed"}).exit_code, 0);             // not twice
  EXPECT_EQ(s.Run({"seed", "--if-empty"}).exit_code, 0);  // quietly skipped
  auto firms = s.Run({"firm", "list"});
  EXPECT_NE(firms.out.find("Cabinet Dupont & Associés"), std::string::npos);
  ASSERT_TRUE(s.Start());
  auto login = Login(s, "dupont@dupont-avocats.fr", "demo-crm-ai-2026");
  ASSERT_TRUE(login);
  auto clients = s.Get("/api/clients?limit=200", {{"Cookie", login->cookie}}).json()["data"];
  EXPECT_GE(clients.size(), 12u);
  EXPECT_EQ(s.Get("/api/clients?q=helene%20caille", {{"Cookie", login->cookie}}).json()["data"].size(), 1u);
  auto prod = TestServer(Env{{"APP_ENV", "production"}}).Run({"seed"});
  EXPECT_NE(prod.exit_code, 0);
}

TEST(Cli, AdministrationCommandsValidateTheirInput) {
  TestServer s;
  auto firm = s.Run({"firm", "create", "--name", "Étude Notariale Mérieux"});
  ASSERT_EQ(firm.exit_code, 0) << firm.err;
  std::string id = firm.out.substr(0, firm.out.size() - 1);
  EXPECT_EQ(id.size(), 26u);
  EXPECT_NE(s.Run({"firm", "create", "--name", "X", "--siret", "123"}).exit_code, 0);
  auto weak = s.Run({"user", "create", "--firm", id, "--email", "a@b.fr", "--role", "owner", "--password-stdin"}, "court\n");
  EXPECT_NE(weak.exit_code, 0);
  EXPECT_NE(weak.err.find("10"), std::string::npos);
  EXPECT_EQ(s.Run({"user", "create", "--firm", id, "--email", "Notaire@Merieux.fr", "--role", "owner", "--password-stdin"},
                  "un-mot-de-passe-long\n").exit_code, 0);
  auto dup = s.Run({"user", "create", "--firm", id, "--email", "notaire@merieux.FR", "--role", "admin", "--password-stdin"},
                   "un-mot-de-passe-long\n");
  EXPECT_NE(dup.exit_code, 0);  // emails are unique case-insensitively
  EXPECT_NE(s.Run({"user", "create", "--firm", "nope", "--email", "x@y.fr", "--role", "owner"}).exit_code, 0);
  EXPECT_NE(s.Run({"user", "create", "--firm", id, "--email", "x@y.fr", "--role", "king"}).exit_code, 0);
  EXPECT_EQ(s.Run({"user", "create", "--platform-admin", "--email", "root@crm.fr", "--password-stdin"}, "un-mot-de-passe-long\n").exit_code, 0);
  auto key = s.Run({"apikey", "create", "--firm", id, "--name", "compta"});
  ASSERT_EQ(key.exit_code, 0);
  EXPECT_EQ(key.out.rfind("crm_", 0), 0u);
  auto list = s.Run({"apikey", "list", "--firm", id});
  EXPECT_NE(list.out.find("compta"), std::string::npos);
  EXPECT_EQ(list.out.find(key.out.substr(0, key.out.size() - 1)), std::string::npos);
  auto bad_option = s.Run({"firm", "create", "--nmae", "x"});
  EXPECT_NE(bad_option.exit_code, 0);
  EXPECT_NE(bad_option.err.find("--nmae"), std::string::npos);
}

TEST(Cli, InvalidConfigurationStopsWithTheVariableValueAndWhatIsAllowed) {
  TestServer s(Env{{"QUEUE_WORKERS", "lots"}});
  auto r = s.Run({"doctor"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("QUEUE_WORKERS"), std::string::npos) << r.out << r.err;
  TestServer s2(Env{{"APP_PORT", "99999"}});
  EXPECT_FALSE(s2.Start());
  EXPECT_NE(s2.log().find("APP_PORT='99999'"), std::string::npos) << s2.log();
}

TEST(Cli, DoctorReportsOneLinePerCheck) {
  TestServer s;
  auto r = s.Run({"doctor"});
  EXPECT_NE(r.out.find("ok\tdatabase"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("\tstorage"), std::string::npos);
  EXPECT_NE(r.out.find("\tffmpeg"), std::string::npos);
  EXPECT_NE(r.out.find("warn\tspeech\tspeech model file not found: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\tvad\t"), std::string::npos);
  EXPECT_EQ(r.exit_code, 0);                          // warnings only
  EXPECT_NE(s.Run({"doctor", "--strict"}).exit_code, 0);  // --strict fails on them
}

TEST(Cli, ProductionRefusesDemoSecrets) {
  TestServer s(Env{{"APP_ENV", "production"}, {"APP_KEY", "changeme"}});
  EXPECT_FALSE(s.Start());
  EXPECT_NE(s.log().find("APP_KEY"), std::string::npos);
  EXPECT_EQ(s.log().find("changeme"), std::string::npos);  // the secret itself is not echoed
}

}  // namespace
}  // namespace crm::testing
