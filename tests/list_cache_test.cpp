// List pages are cached per caller and validated against the firm's data version on every read:
// every write — through the API, to a parent's children, or by another server on the same
// database — is visible to the very next read. ETags answer 304 while nothing changed. The access
// log, written in batches, loses no line on a graceful stop.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "test_server.h"

namespace crm::testing {
namespace {

using nlohmann::json;

class ListCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new TestServer();
    ASSERT_TRUE(server_->Start()) << server_->log();
    a_ = new TestFirm(CreateFirm(*server_, "Cabinet Cache A"));
    b_ = new TestFirm(CreateFirm(*server_, "Cabinet Cache B"));
  }
  static void TearDownTestSuite() {
    delete a_;
    delete b_;
    delete server_;
  }
  static std::vector<std::string> Names(const HttpResult& r) {
    std::vector<std::string> out;
    json page = r.json();
    for (auto& c : page["data"]) out.push_back(c["name"]);
    return out;
  }
  static bool Has(const HttpResult& r, const std::string& name) {
    auto n = Names(r);
    return std::find(n.begin(), n.end(), name) != n.end();
  }
  static TestServer* server_;
  static TestFirm *a_, *b_;
};
TestServer* ListCacheTest::server_ = nullptr;
TestFirm* ListCacheTest::a_ = nullptr;
TestFirm* ListCacheTest::b_ = nullptr;

TEST_F(ListCacheTest, EveryApiWriteIsVisibleToTheNextRead) {
  auto h = Bearer(a_->api_key);
  auto created = server_->Call("POST", "/api/clients", {{"name", "Avant"}}, h);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json()["id"];
  ASSERT_TRUE(Has(server_->Get("/api/clients?limit=50", h), "Avant"));
  ASSERT_TRUE(Has(server_->Get("/api/clients?limit=50", h), "Avant"));  // now from the cache
  auto second = server_->Call("POST", "/api/clients", {{"name", "Deuxième"}}, h);
  ASSERT_EQ(second.status, 201);
  EXPECT_TRUE(Has(server_->Get("/api/clients?limit=50", h), "Deuxième"));
  ASSERT_EQ(server_->Call("PATCH", "/api/clients/" + id, {{"name", "Après"}}, h).status, 200);
  auto after_patch = server_->Get("/api/clients?limit=50", h);
  EXPECT_TRUE(Has(after_patch, "Après"));
  EXPECT_FALSE(Has(after_patch, "Avant"));
  ASSERT_EQ(server_->Call("DELETE", "/api/clients/" + id, nullptr, h).status, 204);
  EXPECT_FALSE(Has(server_->Get("/api/clients?limit=50", h), "Après"));
}

TEST_F(ListCacheTest, ChildrenWritesAreVisibleInTheirParentsList) {
  auto h = Bearer(a_->api_key);
  std::string client = server_->Call("POST", "/api/clients", {{"name", "Parent"}}, h).json()["id"];
  std::string path = "/api/clients/" + client + "/contacts";
  EXPECT_TRUE(Names(server_->Get(path, h)).empty());
  auto contact = server_->Call("POST", path, {{"name", "Conjoint"}}, h);
  ASSERT_EQ(contact.status, 201) << contact.body;
  EXPECT_TRUE(Has(server_->Get(path, h), "Conjoint"));
  std::string cid = contact.json()["id"];
  ASSERT_EQ(server_->Call("PATCH", path + "/" + cid, {{"name", "Gérant"}}, h).status, 200);
  EXPECT_TRUE(Has(server_->Get(path, h), "Gérant"));
  // Deleting the parent removes its contacts (cascade) and its list answers 404.
  ASSERT_EQ(server_->Call("DELETE", "/api/clients/" + client, nullptr, h).status, 204);
  EXPECT_EQ(server_->Get(path, h).status, 404);
}

TEST_F(ListCacheTest, AnotherProcessWriteIsVisibleToTheNextRead) {
  auto h = Bearer(a_->api_key);
  std::string id = server_->Call("POST", "/api/clients", {{"name", "Écrit par l'API"}}, h).json()["id"];
  ASSERT_TRUE(Has(server_->Get("/api/clients?limit=200", h), "Écrit par l'API"));
  // Another server process on the same database writes through its API.
  TestServer other(Env{{"DATA_DIR", server_->data_dir()}, {"QUEUE_WORKERS", "0"}});
  ASSERT_TRUE(other.Start()) << other.log();
  ASSERT_EQ(other.Call("PATCH", "/api/clients/" + id, {{"name", "Écrit ailleurs"}}, h).status, 200);
  auto after = server_->Get("/api/clients?limit=200", h);
  EXPECT_TRUE(Has(after, "Écrit ailleurs"));
  EXPECT_FALSE(Has(after, "Écrit par l'API"));
}

TEST_F(ListCacheTest, EachCallerSeesOnlyItsFirmsPageEvenForTheSameQuery) {
  server_->Call("POST", "/api/clients", {{"name", "Seulement A"}}, Bearer(a_->api_key));
  server_->Call("POST", "/api/clients", {{"name", "Seulement B"}}, Bearer(b_->api_key));
  for (int round = 0; round < 2; ++round) {
    auto a = server_->Get("/api/clients?limit=200", Bearer(a_->api_key));
    auto b = server_->Get("/api/clients?limit=200", Bearer(b_->api_key));
    auto member = server_->Get("/api/clients?limit=200", Bearer(a_->member_api_key));
    EXPECT_TRUE(Has(a, "Seulement A"));
    EXPECT_FALSE(Has(a, "Seulement B"));
    EXPECT_TRUE(Has(b, "Seulement B"));
    EXPECT_FALSE(Has(b, "Seulement A"));
    EXPECT_EQ(Names(member), Names(a));
  }
}

TEST_F(ListCacheTest, IfNoneMatchAnswers304UntilTheDataChanges) {
  auto h = Bearer(a_->api_key);
  server_->Call("POST", "/api/clients", {{"name", "Étiquette"}}, h);
  auto first = server_->Get("/api/clients?limit=20", h);
  ASSERT_EQ(first.status, 200);
  std::string etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(first.header("cache-control"), "no-store");
  auto same = server_->Get("/api/clients?limit=20", h);
  EXPECT_EQ(same.header("etag"), etag);
  EXPECT_EQ(same.body, first.body);
  auto h304 = h;
  h304.push_back({"If-None-Match", etag});
  auto not_modified = server_->Get("/api/clients?limit=20", h304);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(not_modified.header("etag"), etag);
  EXPECT_FALSE(not_modified.header("x-request-id").empty());
  // Another query, or another caller, has its own ETag.
  EXPECT_NE(server_->Get("/api/clients?limit=21", h).header("etag"), etag);
  EXPECT_EQ(server_->Get("/api/clients?limit=20", Bearer(a_->member_api_key)).status, 200);
  server_->Call("POST", "/api/clients", {{"name", "Nouveau"}}, h);
  auto changed = server_->Get("/api/clients?limit=20", h304);
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.header("etag"), etag);
}

// The value of one line of /metrics ("name value"), -1 when absent.
double Metric(const TestServer& s, const std::string& name) {
  std::istringstream in(s.Get("/metrics").body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

TEST_F(ListCacheTest, MetricsCountHitsAndMissesAndTheMemoryHeld) {
  auto h = Bearer(b_->api_key);
  const double hits = Metric(*server_, "crm_list_cache_hits_total");
  const double misses = Metric(*server_, "crm_list_cache_misses_total");
  ASSERT_GE(hits, 0);
  server_->Get("/api/meetings?limit=7", h);  // built
  server_->Get("/api/meetings?limit=7", h);  // served from the cache
  EXPECT_EQ(Metric(*server_, "crm_list_cache_misses_total"), misses + 1);
  EXPECT_EQ(Metric(*server_, "crm_list_cache_hits_total"), hits + 1);
  EXPECT_GT(Metric(*server_, "crm_list_cache_bytes"), 0);
  EXPECT_EQ(Metric(*server_, "crm_list_cache_max_bytes"), 32 << 20);
}

TEST(ListCacheSize, ZeroKeepsNoPageAndListsStayRight) {
  TestServer s(std::map<std::string, std::string>{{"CACHE_MEMORY_MB", "0"}});
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Sans Cache");
  auto h = Bearer(f.api_key);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(s.Get("/api/clients", h).status, 200);
  s.Call("POST", "/api/clients", {{"name", "Visible"}}, h);
  EXPECT_NE(s.Get("/api/clients", h).body.find("Visible"), std::string::npos);
  EXPECT_EQ(Metric(s, "crm_list_cache_hits_total"), 0);
  EXPECT_EQ(Metric(s, "crm_list_cache_bytes"), 0);
  EXPECT_EQ(Metric(s, "crm_list_cache_max_bytes"), 0);
}

TEST(AccessLog, EveryRequestLineIsWrittenWholeBeforeAGracefulStopEnds) {
  TestServer s;
  ASSERT_TRUE(s.Start()) << s.log();
  const int n = 120;
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(s.Get("/health/live", {{"X-Request-Id", "acces-" + std::to_string(i)}}).status, 200);
  ASSERT_EQ(s.Stop(SIGTERM), 0);
  std::istringstream log(s.log());
  std::string line;
  int seen = 0;
  while (std::getline(log, line)) {
    json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "a log line was cut or mixed: " << line;
    if (j["msg"] == "request" && j["request_id"].get<std::string>().rfind("acces-", 0) == 0) {
      EXPECT_EQ(j["request_id"], "acces-" + std::to_string(seen));
      EXPECT_EQ(j["status"], 200);
      EXPECT_EQ(j["path"], "/health/live");
      ++seen;
    }
  }
  EXPECT_EQ(seen, n);
}

}  // namespace
}  // namespace crm::testing
