// Against a real SQLite database with every migration applied: the firm data version that list
// caches are validated against, and the throttled, deferred recording of API keys' last use.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "common/ids.h"
#include "common/text.h"
#include "domain/auth.h"
#include "domain/crm.h"
#include "domain/firms.h"
#include "domain/records.h"
#include "storage/migrations/migrations.h"
#include "storage/store.h"
#include "storage/temp_database.h"

namespace crm::domain {
namespace {

class AuthRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::TempDatabase::Create("crm-auth-records");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store_ = &db_->store();
    firm_ = AddFirm("Cabinet A");
    other_firm_ = AddFirm("Cabinet B");
  }
  void TearDown() override {
    store_ = nullptr;
    db_.reset();
  }
  std::string AddFirm(const std::string& name) {
    auto f = CreateFirm(*store_, {{"name", name}});
    EXPECT_TRUE(f.ok()) << f.error().message;
    return (*f)["id"];
  }
  std::optional<std::string> LastUsed(const std::string& key_id) {
    auto row = store_->QueryOne("SELECT last_used_at FROM api_keys WHERE id = ?", {key_id});
    EXPECT_TRUE(row.ok() && row->has_value());
    return (*row)->OptText("last_used_at");
  }

  std::unique_ptr<storage::TempDatabase> db_;
  storage::Store* store_ = nullptr;
  std::string firm_, other_firm_;
};

TEST_F(AuthRecordsTest, DataVersionMovesWithEveryWriteToTheFirmsRecordsAndOnlyTheirs) {
  RecordStore records(*store_);
  auto v = [&](const std::string& firm) { return records.DataVersion(firm).value(); };
  EXPECT_EQ(v(firm_), 0);
  auto client = records.Create(firm_, ClientSpec(), {{"name", "Hélène Dupré"}});
  ASSERT_TRUE(client.ok()) << client.error().message;
  std::string id = (*client)["id"];
  int64_t after_create = v(firm_);
  EXPECT_GT(after_create, 0);
  ASSERT_TRUE(records.Update(firm_, ClientSpec(), id, {{"notes", "Succession"}}, std::nullopt).ok());
  int64_t after_update = v(firm_);
  EXPECT_GT(after_update, after_create);
  auto contact = records.Create(firm_, ContactSpec(), {{"name", "Paul"}}, {{"client_id", id}});
  ASSERT_TRUE(contact.ok()) << contact.error().message;
  int64_t after_contact = v(firm_);
  EXPECT_GT(after_contact, after_update);
  // Another server (its own connection pool on the same database) sees it at once and moves it.
  auto other_server = db_->OpenAnother();
  ASSERT_TRUE(other_server.ok());
  RecordStore elsewhere(**other_server);
  EXPECT_EQ(elsewhere.DataVersion(firm_).value(), after_contact);
  ASSERT_TRUE(elsewhere.Update(firm_, ContactSpec(), (*contact)["id"], {{"name", "Paul M."}},
                               std::nullopt)
                  .ok());
  int64_t after_other = v(firm_);
  EXPECT_GT(after_other, after_contact);
  // Deleting the client removes its contacts by cascade: one write, one move.
  ASSERT_TRUE(records.Delete(firm_, ClientSpec(), id, std::nullopt).ok());
  EXPECT_GT(v(firm_), after_other);
  EXPECT_EQ(v(other_firm_), 0);  // another firm's writes never touch it
  // A refused write (stale version) moves nothing.
  auto kept = records.Create(firm_, ClientSpec(), {{"name", "Gardé"}});
  int64_t before_stale = v(firm_);
  EXPECT_FALSE(records.Update(firm_, ClientSpec(), (*kept)["id"], {{"notes", "x"}}, 99).ok());
  EXPECT_FALSE(records.Delete(firm_, ClientSpec(), (*kept)["id"], 99).ok());
  EXPECT_EQ(v(firm_), before_stale);
}

// The version is domain code, not a trigger: on MariaDB no trigger fires for a cascade, so the
// schema must not count on one (the FTS5 index of transcripts is SQLite's own search index).
TEST_F(AuthRecordsTest, NoTriggerKeepsDerivedDataOfTheFirmsRecords) {
  auto triggers = store_->Query(
      "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('clients', "
      "'contacts', 'meetings', 'tasks', 'voiceprints', 'users', 'firms')");
  ASSERT_TRUE(triggers.ok());
  for (const auto& t : *triggers) ADD_FAILURE() << "trigger " << t.Text("name");
  // A write outside the domain does not move the version: the domain is the only writer.
  RecordStore records(*store_);
  auto client = records.Create(firm_, ClientSpec(), {{"name", "Hélène"}});
  int64_t before = records.DataVersion(firm_).value();
  ASSERT_TRUE(store_->Exec("UPDATE clients SET notes = 'x' WHERE id = ?", {(*client)["id"].get<std::string>()}).ok());
  EXPECT_EQ(records.DataVersion(firm_).value(), before);
}

TEST_F(AuthRecordsTest, AWriteThatRollsBackLeavesTheVersionAsItWas) {
  RecordStore records(*store_);
  ASSERT_TRUE(records.Create(firm_, ClientSpec(), {{"name", "Client"}}).ok());
  int64_t before = records.DataVersion(firm_).value();
  Status st = store_->Transaction([&](storage::Connection& c) -> Status {
    CRM_TRY(c.Exec("UPDATE clients SET name = 'Annulé' WHERE firm_id = ?", {firm_}));
    CRM_TRY(BumpFirmDataVersionIn(c, firm_));
    return Internal("abandoned");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(records.DataVersion(firm_).value(), before);
}

TEST_F(AuthRecordsTest, ApiKeyLastUseIsWrittenOncePerIntervalAndNotOnTheRequestPath) {
  AuthOptions options;
  options.last_used_flush_ms = 3600 * 1000;  // the test flushes by hand
  AuthService auth(*store_, options);
  auto key = auth.CreateApiKey(firm_, "compta", "admin", "");
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto p = auth.Authenticate("", key->key, "127.0.0.1");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->firm_id, firm_);
  EXPECT_EQ(p->role, "admin");
  EXPECT_FALSE(LastUsed(key->id)) << "written while authenticating";
  ASSERT_TRUE(auth.FlushLastUsed().ok());
  auto first = LastUsed(key->id);
  ASSERT_TRUE(first);
  // Within the interval, further uses note nothing new.
  ASSERT_TRUE(store_->Exec("UPDATE api_keys SET last_used_at = 'marker' WHERE id = ?", {key->id}).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(auth.Authenticate("", key->key, "127.0.0.1").ok());
  ASSERT_TRUE(auth.FlushLastUsed().ok());
  EXPECT_EQ(LastUsed(key->id), "marker");
}

TEST_F(AuthRecordsTest, PendingLastUseIsWrittenWhenTheServiceStops) {
  std::string key_id;
  {
    AuthOptions options;
    options.last_used_flush_ms = 3600 * 1000;
    AuthService auth(*store_, options);
    auto key = auth.CreateApiKey(firm_, "compta", "member", "");
    ASSERT_TRUE(key.ok());
    key_id = key->id;
    ASSERT_TRUE(auth.Authenticate("", key->key, "127.0.0.1").ok());
    EXPECT_FALSE(LastUsed(key_id));
  }
  EXPECT_TRUE(LastUsed(key_id));
}

TEST_F(AuthRecordsTest, SessionLastSeenAndEndedSessionsAreWrittenOffTheRequestPath) {
  AuthOptions options;
  options.last_used_flush_ms = 3600 * 1000;
  AuthService auth(*store_, options);
  ASSERT_TRUE(auth.CreateUser(firm_, "marie@exemple.fr", "Marie", "member", "motdepasse-solide-1").ok());
  auto login = auth.Login("marie@exemple.fr", "motdepasse-solide-1", "127.0.0.1", "test");
  ASSERT_TRUE(login.ok()) << login.error().message;
  std::string token = login->session_token;
  auto seen = [&]() {
    auto row = store_->QueryOne("SELECT last_seen_at FROM sessions WHERE user_id = ?", {login->principal.user_id});
    EXPECT_TRUE(row.ok());
    return row->has_value() ? (*row)->Int("last_seen_at") : int64_t{-1};
  };
  int64_t old_seen = NowUnix() - 120;
  ASSERT_TRUE(store_->Exec("UPDATE sessions SET last_seen_at = ?", {old_seen}).ok());
  auto p = auth.Authenticate(token, "", "127.0.0.1");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->firm_id, firm_);
  EXPECT_EQ(seen(), old_seen) << "written while authenticating";
  ASSERT_TRUE(auth.FlushLastUsed().ok());
  EXPECT_GE(seen(), NowUnix() - 5);
  // Idle too long: refused at once; the row goes with the next flush.
  ASSERT_TRUE(store_->Exec("UPDATE sessions SET last_seen_at = ?", {NowUnix() - 3 * 3600}).ok());
  auto ended = auth.Authenticate(token, "", "127.0.0.1");
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(seen(), -1);
  ASSERT_TRUE(auth.FlushLastUsed().ok());
  EXPECT_EQ(seen(), -1);
  EXPECT_FALSE(auth.Authenticate(token, "", "127.0.0.1").ok());
}

TEST_F(AuthRecordsTest, RevokedAndUnknownKeysAreRefused) {
  AuthService auth(*store_, AuthOptions{});
  auto key = auth.CreateApiKey(firm_, "compta", "admin", "");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(auth.Authenticate("", "crm_unknown", "127.0.0.1").error().code, ErrorCode::kUnauthenticated);
  ASSERT_TRUE(auth.RevokeApiKey(firm_, key->id).ok());
  auto r = auth.Authenticate("", key->key, "127.0.0.1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace crm::domain
