// The platform admin acting inside a firm (the firm switcher): it reaches nothing of a firm
// until it starts acting in one, then sees exactly that firm as its admin would — another
// firm's ids stay 404 — and every step is written to the firm's audit log and the platform's.
// It also sees and retries every firm's jobs from its own view.
#include <gtest/gtest.h>

#include "test_server.h"

namespace crm::testing {
namespace {

using nlohmann::json;

class ActingFirm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new TestServer(Env{{"QUEUE_WORKERS", "0"}});
    ASSERT_TRUE(s_->Start()) << s_->log();
    a_ = new TestFirm(CreateFirm(*s_, "Cabinet Alpha"));
    b_ = new TestFirm(CreateFirm(*s_, "Cabinet Bêta"));
    auto created = s_->Run(
        {"user", "create", "--platform-admin", "--email", "root@plateforme.fr", "--password-stdin"},
        "motdepasse-solide-1\n");
    ASSERT_EQ(created.exit_code, 0) << created.err;
  }
  static void TearDownTestSuite() {
    delete b_;
    delete a_;
    delete s_;
  }
  static Session Root() {
    auto session = Login(*s_, "root@plateforme.fr", "motdepasse-solide-1");
    EXPECT_TRUE(session);
    return session.value_or(Session{});
  }
  static HttpResult Act(const Session& who, const json& body) {
    return s_->Call("PUT", "/api/auth/acting-firm", body, who.Headers());
  }
  static std::vector<std::string> Actions(const HttpResult& page) {
    std::vector<std::string> out;
    const json body = page.json();  // kept: a range over a temporary's member would dangle
    for (auto& e : body["data"]) out.push_back(e["action"]);
    return out;
  }
  static TestServer* s_;
  static TestFirm *a_, *b_;
};
TestServer* ActingFirm::s_ = nullptr;
TestFirm* ActingFirm::a_ = nullptr;
TestFirm* ActingFirm::b_ = nullptr;

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST_F(ActingFirm, PlatformAdminActsInOneFirmOnlyAndEveryStepIsAudited) {
  std::string a_client =
      s_->Call("POST", "/api/clients", {{"name", "Client d'Alpha"}}, Bearer(a_->api_key))
          .json()["id"];
  std::string b_client =
      s_->Call("POST", "/api/clients", {{"name", "Client de Bêta"}}, Bearer(b_->api_key))
          .json()["id"];
  Session root = Root();
  auto me = s_->Get("/api/auth/me", root.Headers());
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json()["role"], "platform_admin");
  EXPECT_TRUE(me.json()["platform_admin"].get<bool>());
  EXPECT_TRUE(me.json()["acting_firm"].is_null());
  // Without a firm, firm routes refuse it.
  EXPECT_EQ(s_->Get("/api/clients", root.Headers()).status, 403);

  // Bad requests first: unknown firm, wrong body, no CSRF token.
  EXPECT_EQ(Act(root, {{"firm_id", "no-such-firm"}}).status, 404);
  EXPECT_EQ(Act(root, {{"firm", a_->id}}).status, 422);
  EXPECT_EQ(Act(root, {{"firm_id", 3}}).status, 422);
  EXPECT_EQ(Send(s_->port(), {"PUT",
                              "/api/auth/acting-firm",
                              json{{"firm_id", a_->id}}.dump(),
                              {{"Cookie", root.cookie}}})
                .status,
            403);

  auto started = Act(root, {{"firm_id", a_->id}});
  ASSERT_EQ(started.status, 200) << started.body;
  EXPECT_EQ(started.json()["role"], "admin");
  EXPECT_EQ(started.json()["firm_id"], a_->id);
  EXPECT_EQ(started.json()["acting_firm"]["name"], "Cabinet Alpha");
  EXPECT_TRUE(started.json()["platform_admin"].get<bool>());
  // The session itself now acts in Alpha (the state is on the session row, not in this answer).
  me = s_->Get("/api/auth/me", root.Headers());
  EXPECT_EQ(me.json()["acting_firm"]["id"], a_->id);
  auto clients = s_->Get("/api/clients", root.Headers());
  ASSERT_EQ(clients.status, 200) << clients.body;
  ASSERT_EQ(clients.json()["data"].size(), 1u);
  EXPECT_EQ(clients.json()["data"][0]["id"], a_client);
  EXPECT_EQ(s_->Get("/api/clients/" + a_client, root.Headers()).status, 200);
  // Another firm's data is still exactly as missing, whatever the method.
  EXPECT_EQ(s_->Get("/api/clients/" + b_client, root.Headers()).status, 404);
  EXPECT_EQ(s_->Call("PATCH", "/api/clients/" + b_client, {{"name", "x"}}, root.Headers()).status,
            404);
  EXPECT_EQ(Send(s_->port(), {"DELETE", "/api/clients/" + b_client, "", root.Headers()}).status,
            404);
  // Platform routes wait until it stops acting.
  EXPECT_EQ(s_->Get("/api/admin/firms", root.Headers()).status, 403);

  // What it does there is marked as the platform admin's in the firm's log.
  auto key = s_->Call("POST", "/api/api-keys", {{"name", "assistance"}}, root.Headers());
  ASSERT_EQ(key.status, 201) << key.body;
  auto a_log = s_->Get("/api/audit", Bearer(a_->api_key));
  ASSERT_EQ(a_log.status, 200);
  bool marked = false;
  const json a_entries = a_log.json();
  for (auto& e : a_entries["data"])
    if (e["action"] == "api_key.created" && e["object_id"] == key.json()["id"])
      marked = e["details"]["acting_platform_admin"]["email"] == "root@plateforme.fr";
  EXPECT_TRUE(marked) << a_log.body;
  EXPECT_TRUE(Has(Actions(a_log), "platform_admin.acting_started"));

  // Switching straight to Bêta ends Alpha first.
  auto switched = Act(root, {{"firm_id", b_->id}});
  ASSERT_EQ(switched.status, 200) << switched.body;
  EXPECT_EQ(s_->Get("/api/clients/" + a_client, root.Headers()).status, 404);
  EXPECT_EQ(s_->Get("/api/clients/" + b_client, root.Headers()).status, 200);
  EXPECT_TRUE(
      Has(Actions(s_->Get("/api/audit", Bearer(a_->api_key))), "platform_admin.acting_stopped"));
  EXPECT_TRUE(
      Has(Actions(s_->Get("/api/audit", Bearer(b_->api_key))), "platform_admin.acting_started"));

  auto stopped = Send(s_->port(), {"DELETE", "/api/auth/acting-firm", "", root.Headers()});
  ASSERT_EQ(stopped.status, 200) << stopped.body;
  EXPECT_EQ(stopped.json()["role"], "platform_admin");
  EXPECT_TRUE(stopped.json()["firm_id"].is_null());
  EXPECT_EQ(s_->Get("/api/clients", root.Headers()).status, 403);
  EXPECT_TRUE(
      Has(Actions(s_->Get("/api/audit", Bearer(b_->api_key))), "platform_admin.acting_stopped"));
  // Stopping again changes nothing.
  EXPECT_EQ(Send(s_->port(), {"DELETE", "/api/auth/acting-firm", "", root.Headers()}).status, 200);

  // The platform's own log has the four steps; no firm's log has the platform's entries.
  auto platform = s_->Get("/api/admin/audit", root.Headers());
  ASSERT_EQ(platform.status, 200) << platform.body;
  int starts = 0, stops = 0;
  for (auto& a : Actions(platform)) {
    starts += a == "platform_admin.acting_started";
    stops += a == "platform_admin.acting_stopped";
  }
  EXPECT_EQ(starts, 2);
  EXPECT_EQ(stops, 2);
  EXPECT_EQ(s_->Get("/api/admin/audit", Bearer(a_->api_key)).status, 403);
  EXPECT_EQ(s_->Get("/api/admin/audit?limit=0", root.Headers()).status, 422);
  EXPECT_EQ(s_->Get("/api/admin/audit?limit=1", root.Headers()).json()["data"].size(), 1u);
}

TEST_F(ActingFirm, NobodyElseCanActInAFirm) {
  auto owner = Login(*s_, a_->owner_email, a_->password);
  ASSERT_TRUE(owner);
  EXPECT_EQ(Act(*owner, {{"firm_id", b_->id}}).status, 403);
  EXPECT_EQ(Send(s_->port(), {"DELETE", "/api/auth/acting-firm", "", owner->Headers()}).status,
            403);
  auto member = Login(*s_, a_->member_email, a_->password);
  ASSERT_TRUE(member);
  EXPECT_EQ(Act(*member, {{"firm_id", b_->id}}).status, 403);
  // An API key is a firm's already.
  EXPECT_EQ(
      s_->Call("PUT", "/api/auth/acting-firm", {{"firm_id", b_->id}}, Bearer(a_->api_key)).status,
      403);
  // Still in its own firm afterwards.
  EXPECT_EQ(s_->Get("/api/auth/me", owner->Headers()).json()["firm_id"], a_->id);
}

TEST_F(ActingFirm, SigningOutEndsActingAndANewSessionStartsOutsideAnyFirm) {
  Session root = Root();
  ASSERT_EQ(Act(root, {{"firm_id", a_->id}}).status, 200);
  EXPECT_EQ(Send(s_->port(), {"POST", "/api/auth/logout", "", root.Headers()}).status, 204);
  EXPECT_EQ(s_->Get("/api/auth/me", root.Headers()).status, 401);
  Session again = Root();
  auto me = s_->Get("/api/auth/me", again.Headers());
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_TRUE(me.json()["acting_firm"].is_null());
}

TEST_F(ActingFirm, PlatformAdminSeesEveryFirmsJobsAndRetriesThem) {
  std::string audio = ReadFile(SourceDir() + "/tests/data/asr/jfk.wav");
  ASSERT_FALSE(audio.empty());
  std::string meeting =
      s_->Call(
            "POST", "/api/meetings",
            {{"client_id", s_->Call("POST", "/api/clients", {{"name", "Jobs"}}, Bearer(b_->api_key))
                               .json()["id"]},
             {"title", "RDV"},
             {"starts_at", "2026-12-01T09:00:00Z"}},
            Bearer(b_->api_key))
          .json()["id"];
  auto rec = Send(s_->port(),
                  {"POST",
                   "/api/meetings/" + meeting + "/recordings?consent=true",
                   audio,
                   {{"Authorization", "Bearer " + b_->api_key}, {"Content-Type", "audio/wav"}}});
  ASSERT_EQ(rec.status, 201) << rec.body;
  std::string job = rec.json()["job_id"];
  Session root = Root();
  auto all = s_->Get("/api/jobs", root.Headers());
  ASSERT_EQ(all.status, 200) << all.body;
  bool listed = false;
  const json all_jobs = all.json();
  for (auto& j : all_jobs["data"]) listed = listed || j["id"] == job;
  EXPECT_TRUE(listed) << all.body;
  EXPECT_EQ(s_->Get("/api/jobs?firm_id=" + a_->id, root.Headers()).json()["data"].size(), 0u);
  // A firm's admin cannot reach another firm's job; the platform admin can.
  EXPECT_EQ(
      s_->Call("POST", "/api/jobs/" + job + "/cancel", json::object(), Bearer(a_->api_key)).status,
      404);
  auto cancelled = s_->Call("POST", "/api/jobs/" + job + "/cancel", json::object(), root.Headers());
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json()["state"], "cancelled");
  auto retried = s_->Call("POST", "/api/jobs/" + job + "/retry", json::object(), root.Headers());
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.json()["state"], "queued");
  // Both in the firm's log (marked as the platform admin's) and in the platform's.
  auto b_log = s_->Get("/api/audit", Bearer(b_->api_key)).json();
  bool in_firm = false;
  for (auto& e : b_log["data"])
    if (e["action"] == "job.retried" && e["object_id"] == job)
      in_firm = e["details"].contains("acting_platform_admin");
  EXPECT_TRUE(in_firm) << b_log;
  EXPECT_TRUE(Has(Actions(s_->Get("/api/admin/audit", root.Headers())), "job.retried"));
  // A member still cannot.
  EXPECT_EQ(
      s_->Call("POST", "/api/jobs/" + job + "/retry", json::object(), Bearer(b_->member_api_key))
          .status,
      403);
}

}  // namespace
}  // namespace crm::testing
