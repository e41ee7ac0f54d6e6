// Tenant isolation, route by route: for every route of the OpenAPI document that takes an id,
// firm B gets 404 on firm A's ids with every method — even with a bad body or a stale version —
// and a member gets 403 on every admin-only route. A route whose path parameter this table does
// not know fails the test, so new routes cannot escape the matrix. Firm A's recording has a real
// transcript (written into the database as the pipeline writes it), so every {segment_id} is an
// existing segment of A, also tried through a recording of B's own.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <thread>

#include "common/ids.h"
#include "common/text.h"
#include "domain/transcripts.h"
#include "storage/store.h"
#include "test_server.h"

namespace crm::testing {
namespace {

using nlohmann::json;

struct FirmObjects {
  std::map<std::string, std::string>
      ids;  // "client", "contact", "meeting", "task", "api_key", "user"
};

// Three segments with word times, as an engine hands them to the pipeline.
asr::Transcript SeededTranscript(const std::string& who) {
  asr::Transcript t;
  t.language = "fr";
  const char* lines[] = {"Bonjour, voici le dossier confidentiel de ",
                         "Le contrat est signé à Paris.", "Nous envoyons le bilan demain."};
  double at = 0;
  for (const char* line : lines) {
    asr::Segment seg;
    seg.start = at;
    seg.speaker = "SPEAKER_1";
    seg.text = std::string(line) + (at == 0 ? who : "");
    for (const std::string& w : Split(seg.text, ' ')) {
      if (w.empty()) continue;
      seg.words.push_back({at, at + 0.4, " " + w, 0.9f, "SPEAKER_1"});
      at += 0.5;
    }
    seg.end = at;
    t.segments.push_back(seg);
    at += 0.5;
  }
  t.duration = at;
  return t;
}

// Waits until the job is no longer queued or running (the recording job must not write its own
// transcript over the seeded one; with no speech model here it fails at once).
void WaitForJob(const TestServer& s, const std::string& key, const std::string& job) {
  json j;
  for (int i = 0; i < 600; ++i) {
    j = s.Get("/api/jobs/" + job, Bearer(key)).json();
    std::string status = j.value("state", "");
    if (status != "queued" && status != "running" && !status.empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "job " << job << " did not finish: " << j.dump();
}

Status SeedTranscript(storage::Store& db, const std::string& firm, const std::string& recording) {
  return db.Transaction([&](storage::Connection& c) {
    return domain::SaveEngineTranscript(c, firm, recording, SeededTranscript(firm));
  });
}

FirmObjects Populate(const TestServer& s, const TestFirm& f, storage::Store& db) {
  FirmObjects o;
  auto h = Bearer(f.api_key);
  o.ids["client"] =
      s.Call("POST", "/api/clients", {{"name", "Client secret de " + f.id}}, h).json()["id"];
  o.ids["contact"] =
      s.Call("POST", "/api/clients/" + o.ids["client"] + "/contacts", {{"name", "Contact"}}, h)
          .json()["id"];
  o.ids["meeting"] = s.Call("POST", "/api/meetings",
                            {{"client_id", o.ids["client"]},
                             {"title", "RDV"},
                             {"starts_at", "2026-12-01T09:00:00Z"}},
                            h)
                         .json()["id"];
  o.ids["task"] =
      s.Call("POST", "/api/tasks", {{"title", "Tâche"}, {"client_id", o.ids["client"]}}, h)
          .json()["id"];
  o.ids["api_key"] = s.Call("POST", "/api/api-keys", {{"name", "matrice"}}, h).json()["id"];
  json users = s.Get("/api/users", h).json();
  for (auto& u : users["data"])
    if (u["email"] == f.member_email) o.ids["user"] = u["id"];
  // A recording (raw upload of a test WAV) brings its job; a resumable upload stays open.
  const char* src = std::getenv("CRM_SOURCE_DIR");
  std::ifstream wav(std::string(src ? src : ".") + "/tests/data/asr/jfk.wav", std::ios::binary);
  std::string audio((std::istreambuf_iterator<char>(wav)), std::istreambuf_iterator<char>());
  auto rec =
      Send(s.port(), {"POST",
                      "/api/meetings/" + o.ids["meeting"] + "/recordings?consent=true",
                      audio,
                      {{"Authorization", "Bearer " + f.api_key}, {"Content-Type", "audio/wav"}}})
          .json();
  o.ids["recording"] = rec.value("id", "");
  o.ids["job"] = rec.value("job_id", "");
  auto uh = h;
  uh.push_back({"Upload-Length", "1000"});
  o.ids["upload"] =
      s.Call("POST", "/api/uploads", {{"client_id", o.ids["client"]}, {"consent", true}}, uh)
          .json()
          .value("id", "");
  // The recording's transcript, written once its job is over; its first segment stands for
  // {segment_id} (a real segment of this firm).
  WaitForJob(s, f.api_key, o.ids["job"]);
  Status seeded = SeedTranscript(db, f.id, o.ids["recording"]);
  EXPECT_TRUE(seeded.ok()) << seeded.error().message;
  json t = s.Get("/api/recordings/" + o.ids["recording"] + "/transcript", h).json();
  EXPECT_EQ(t["segments"].size(), 3u) << t.dump();
  if (t.contains("segments") && !t["segments"].empty())
    o.ids["segment"] = t["segments"][0]["id"].get<std::string>();
  // A voiceprint enrolled from a stretch of the recording's audio; speaker labels are the same
  // words in every firm: the recording's firm decides.
  o.ids["voiceprint"] =
      s.Call("POST", "/api/voiceprints",
             {{"name", "Voix secrète"},
              {"sources", {{{"recording_id", o.ids["recording"]}, {"start", 0.5}, {"end", 10.5}}}}},
             h)
          .json()
          .value("id", "");
  o.ids["label"] = "SPEAKER_1";
  // A document of the client (multipart, a small text file); its first version; the template
  // kinds are the same words in every firm (the caller's firm decides).
  std::string part =
      "--bNd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"note.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\nNote confidentielle du cabinet.\r\n--bNd--\r\n";
  o.ids["document"] = Send(s.port(), {"POST",
                                      "/api/clients/" + o.ids["client"] + "/documents",
                                      part,
                                      {{"Authorization", "Bearer " + f.api_key},
                                       {"Content-Type", "multipart/form-data; boundary=bNd"}}})
                          .json()
                          .value("id", "");
  o.ids["number"] = "1";
  o.ids["kind"] = "report";
  // A report of the transcript (generated by its job) and a DOCX export of it.
  auto report =
      s.Call("POST", "/api/recordings/" + o.ids["recording"] + "/reports", json::object(), h);
  EXPECT_EQ(report.status, 202) << report.body;
  o.ids["report"] = report.json().value("id", "");
  for (int i = 0; i < 600 && !o.ids["report"].empty(); ++i) {
    if (s.Get("/api/reports/" + o.ids["report"], h).json().value("status", "") != "generating")
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  o.ids["export"] =
      s.Call("POST", "/api/reports/" + o.ids["report"] + "/exports", {{"format", "docx"}}, h)
          .json()
          .value("id", "");
  // A mail of the firm's outbox (an invitation); its attachment routes check the mail's firm first.
  o.ids["mail"] =
      s.Call("POST", "/api/invitations", {{"email", "invite-" + f.id + "@exemple.fr"}}, h)
          .json()
          .value("mail_id", "");
  o.ids["attachment"] = "attachment-" + f.id;
  for (auto& [k, v] : o.ids) EXPECT_FALSE(v.empty()) << k;
  return o;
}

// Which object a path parameter names, from the path's shape. Extend when routes are added.
std::string ObjectFor(const std::string& path, const std::string& param) {
  if (param == "contact_id") return "contact";
  if (param == "segment_id") return "segment";
  if (param == "label") return "label";
  if (param == "number") return "number";
  if (param == "kind") return "kind";
  if (param == "attachment_id") return "attachment";
  if (param != "id") return "";
  static const std::vector<std::pair<std::string, std::string>> prefixes = {
      {"/api/clients/", "client"},
      {"/api/meetings/", "meeting"},
      {"/api/tasks/", "task"},
      {"/api/api-keys/", "api_key"},
      {"/api/users/", "user"},
      {"/api/recordings/", "recording"},
      {"/api/jobs/", "job"},
      {"/api/documents/", "document"},
      {"/api/voiceprints/", "voiceprint"},
      {"/api/uploads/", "upload"},
      {"/api/reports/", "report"},
      {"/api/exports/", "export"},
      {"/api/mails/", "mail"},
  };
  for (auto& [prefix, object] : prefixes)
    if (path.rfind(prefix, 0) == 0) return object;
  return "";
}

std::string Fill(const std::string& pattern, const FirmObjects& o, std::string* missing) {
  std::string out = pattern;
  size_t p;
  while ((p = out.find('{')) != std::string::npos) {
    size_t e = out.find('}', p);
    std::string param = out.substr(p + 1, e - p - 1);
    std::string object = ObjectFor(pattern, param);
    auto it = o.ids.find(object);
    if (object.empty() || it == o.ids.end()) {
      *missing = param + " (" + object + ")";
      return "";
    }
    out.replace(p, e - p + 1, it->second);
  }
  return out;
}

std::string Upper(std::string m) {
  for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return m;
}

class TenantMatrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new TestServer();
    ASSERT_TRUE(s_->Start()) << s_->log();
    a_ = new TestFirm(CreateFirm(*s_, "Cabinet A"));
    b_ = new TestFirm(CreateFirm(*s_, "Cabinet B"));
    auto store = storage::OpenSqlite({s_->data_dir() + "/crm-ai.sqlite3", 2});
    ASSERT_TRUE(store.ok()) << store.error().message;
    db_ = store->release();
    a_objects_ = new FirmObjects(Populate(*s_, *a_, *db_));
    // B's own transcribed recording (a row and its transcript, no audio needed).
    auto hb = Bearer(b_->api_key);
    std::string client =
        s_->Call("POST", "/api/clients", {{"name", "Client de B"}}, hb).json()["id"];
    b_recording_ = new std::string(NewId());
    ASSERT_TRUE(
        db_->Exec(
               "INSERT INTO recordings (id, firm_id, client_id, title, blob_key, size_bytes, "
               "sha256, "
               "consent, created_at, updated_at) VALUES (?, ?, ?, 'RDV de B', ?, 1, 'x', 1, ?, ?)",
               {*b_recording_, b_->id, client, "recordings/" + b_->id + "/" + *b_recording_,
                NowIsoUtc(), NowIsoUtc()})
            .ok());
    ASSERT_TRUE(SeedTranscript(*db_, b_->id, *b_recording_).ok());
    doc_ = new json(s_->Get("/api/openapi.json").json());
  }
  static void TearDownTestSuite() {
    delete b_recording_;
    delete db_;
    delete doc_;
    delete a_objects_;
    delete b_;
    delete a_;
    delete s_;
  }
  // Calls every firm route that takes an id; `check(method, target, response)`.
  void ForEachIdRoute(
      const std::function<void(const std::string&, const std::string&, const json&)>& fn) {
    int count = 0;
    for (auto& [path, methods] : (*doc_)["paths"].items()) {
      // Templates are named by kind within the caller's own firm: no other firm's id to try.
      if (path.find('{') == std::string::npos || path.rfind("/api/admin/", 0) == 0 ||
          path.rfind("/api/", 0) != 0 || path.rfind("/api/templates/", 0) == 0)
        continue;
      for (auto& [method, op] : methods.items()) {
        std::string missing;
        std::string target = Fill(path, *a_objects_, &missing);
        ASSERT_TRUE(missing.empty())
            << "the tenant matrix does not know the parameter " << missing << " of "
            << Upper(method) << " " << path << ": add it to ObjectFor()";
        fn(Upper(method), target, op);
        ++count;
      }
    }
    EXPECT_GT(count, 12);
  }
  static TestServer* s_;
  static TestFirm *a_, *b_;
  static FirmObjects* a_objects_;
  static json* doc_;
  static storage::Store* db_;
  static std::string* b_recording_;
};
TestServer* TenantMatrix::s_ = nullptr;
TestFirm* TenantMatrix::a_ = nullptr;
TestFirm* TenantMatrix::b_ = nullptr;
FirmObjects* TenantMatrix::a_objects_ = nullptr;
json* TenantMatrix::doc_ = nullptr;
storage::Store* TenantMatrix::db_ = nullptr;
std::string* TenantMatrix::b_recording_ = nullptr;

TEST_F(TenantMatrix, AnotherFirmGets404OnEveryIdRouteWithEveryMethod) {
  ForEachIdRoute([&](const std::string& method, const std::string& target, const json&) {
    std::string body =
        method == "GET" || method == "DELETE" ? "" : R"({"bogus_field": 1, "version": 999})";
    auto r =
        Send(s_->port(), {method,
                          target,
                          body,
                          {{"Authorization", "Bearer " + b_->api_key}, {"If-Match", "\"999\""}}});
    EXPECT_EQ(r.status, 404) << method << " " << target << " → " << r.body;
  });
  // A's objects are all still there, untouched.
  auto h = Bearer(a_->api_key);
  EXPECT_EQ(s_->Get("/api/clients/" + a_objects_->ids["client"], h).json()["version"], 1);
  EXPECT_EQ(s_->Get("/api/tasks/" + a_objects_->ids["task"], h).status, 200);
}

// Every {segment_id} route, with bodies that would succeed for the owner: A's existing segment
// is 404 to B through A's recording and through B's own transcribed recording, and A's
// transcript is unchanged afterwards. A's own key reaches the same segment (so the id is real).
TEST_F(TenantMatrix, SegmentRoutesNeverReachAnotherFirmsSegment) {
  auto ha = Bearer(a_->api_key);
  const std::string rec_a = a_objects_->ids["recording"], seg_a = a_objects_->ids["segment"];
  ASSERT_FALSE(seg_a.empty());
  const json before = s_->Get("/api/recordings/" + rec_a + "/transcript", ha).json();
  ASSERT_EQ(before["segments"].size(), 3u);
  auto body_for = [](const std::string& path) -> std::string {
    if (path.ends_with("/split")) return R"({"word_index": 1})";
    if (path.ends_with("/merge")) return "{}";
    return R"({"text": "Texte réécrit par un autre cabinet"})";
  };
  int count = 0;
  for (auto& [path, methods] : (*doc_)["paths"].items()) {
    if (path.find("{segment_id}") == std::string::npos) continue;
    for (auto& [m, op] : methods.items()) {
      const std::string method = Upper(m);
      const std::string body = method == "GET" || method == "DELETE" ? "" : body_for(path);
      for (const std::string& rec : {rec_a, *b_recording_}) {
        std::string target = path;
        target.replace(target.find("{id}"), 4, rec);
        target.replace(target.find("{segment_id}"), 12, seg_a);
        auto r = Send(s_->port(), {method, target, body, Bearer(b_->api_key)});
        EXPECT_EQ(r.status, 404) << method << " " << target << " (B) → " << r.body;
      }
      ++count;
    }
  }
  EXPECT_GE(count, 4);
  // Nothing of A's transcript moved: same segments, texts and versions.
  json after = s_->Get("/api/recordings/" + rec_a + "/transcript", ha).json();
  ASSERT_EQ(after["segments"].size(), before["segments"].size());
  for (size_t i = 0; i < after["segments"].size(); ++i) {
    EXPECT_EQ(after["segments"][i]["id"], before["segments"][i]["id"]);
    EXPECT_EQ(after["segments"][i]["text"], before["segments"][i]["text"]);
    EXPECT_EQ(after["segments"][i]["version"], before["segments"][i]["version"]);
  }
  // The owner reaches it: the ids tried above are a real recording and segment.
  auto own =
      s_->Get("/api/recordings/" + rec_a + "/transcript/segments/" + seg_a + "/revisions", ha);
  EXPECT_EQ(own.status, 200) << own.body;
  auto edited = s_->Call("PATCH", "/api/recordings/" + rec_a + "/transcript/segments/" + seg_a,
                         {{"text", "Bonjour, dossier relu par le cabinet."}}, ha);
  EXPECT_EQ(edited.status, 200) << edited.body;
}

TEST_F(TenantMatrix, AnotherFirmsSessionGets404Too) {
  auto session = Login(*s_, b_->admin_email, b_->password);
  ASSERT_TRUE(session);
  ForEachIdRoute([&](const std::string& method, const std::string& target, const json&) {
    auto headers = session->Headers();
    std::string body = method == "GET" || method == "DELETE" ? "" : "{}";
    auto r = Send(s_->port(), {method, target, body, headers});
    EXPECT_EQ(r.status, 404) << method << " " << target << " → " << r.body;
  });
}

TEST_F(TenantMatrix, ListsAndSearchNeverShowAnotherFirmsRecords) {
  auto h = Bearer(b_->api_key);
  for (const char* list :
       {"/api/clients", "/api/meetings", "/api/tasks", "/api/api-keys", "/api/users", "/api/audit",
        "/api/voiceprints", "/api/documents", "/api/mails"}) {
    auto r = s_->Get(list, h);
    ASSERT_EQ(r.status, 200) << list;
    for (auto& [k, id] : a_objects_->ids) {
      if (k == "label" || k == "number" || k == "kind") continue;  // words every firm has
      EXPECT_EQ(r.body.find(id), std::string::npos) << list << " shows A's " << k;
    }
  }
  EXPECT_EQ(s_->Get("/api/clients?q=secret", h).json()["data"].size(), 0u);
  // A meeting of B cannot point at A's client.
  auto m = s_->Call("POST", "/api/meetings",
                    {{"client_id", a_objects_->ids["client"]},
                     {"title", "x"},
                     {"starts_at", "2026-12-01T09:00:00Z"}},
                    h);
  EXPECT_EQ(m.status, 422);
  EXPECT_EQ(m.json()["error"]["details"]["client_id"], "not_found");
}

// Every paged list of the OpenAPI document takes ?limit= from 1 to 200 and names `limit` in a
// 422 for anything else, rather than quietly answering a page of another size.
TEST_F(TenantMatrix, EveryPagedListRefusesABadLimit) {
  int count = 0;
  auto h = Bearer(a_->api_key);
  for (auto& [path, methods] : (*doc_)["paths"].items()) {
    if (!methods.contains("get") || path.rfind("/api/", 0) != 0) continue;
    // The platform's own lists answer a firm's key 403 (acting_firm_test checks their limit).
    if (methods["get"].value("x-min-role", "") == "platform_admin") continue;
    bool paged = false;
    for (auto& p : methods["get"].value("parameters", json::array()))
      if (p.value("name", "") == "limit" && p.value("in", "") == "query") paged = true;
    if (!paged) continue;
    std::string missing;
    std::string target =
        path.find('{') == std::string::npos ? path : Fill(path, *a_objects_, &missing);
    ASSERT_TRUE(missing.empty()) << missing;
    const std::string sep = path == "/api/search" ? "?q=client&" : "?";
    // Accepted (a speaker label this recording lacks is still 404, never 422).
    for (const char* good : {"1", "200"}) {
      auto r = s_->Get(target + sep + "limit=" + good, h);
      EXPECT_TRUE(r.status == 200 || r.status == 404)
          << path << " limit=" << good << " → " << r.body;
    }
    for (const char* bad : {"abc", "0", "201", "10x", "-5", ""}) {
      auto r = s_->Get(target + sep + "limit=" + bad, h);
      EXPECT_EQ(r.status, 422) << path << " limit=" << bad << " → " << r.body;
      EXPECT_TRUE(r.json()["error"]["details"].contains("limit")) << path << " " << r.body;
    }
    ++count;
  }
  EXPECT_GE(count, 10);
}

TEST_F(TenantMatrix, MembersGet403OnEveryAdminRoute) {
  int count = 0;
  auto session = Login(*s_, a_->member_email, a_->password);
  ASSERT_TRUE(session);
  for (auto& [path, methods] : (*doc_)["paths"].items()) {
    for (auto& [method, op] : methods.items()) {
      std::string role = op.value("x-min-role", "member");
      if (role != "admin" && role != "owner") continue;
      std::string missing;
      std::string target =
          path.find('{') == std::string::npos ? path : Fill(path, *a_objects_, &missing);
      ASSERT_TRUE(missing.empty()) << missing;
      std::string body = Upper(method) == "GET" || Upper(method) == "DELETE" ? "" : "{}";
      auto by_key = Send(s_->port(), {Upper(method), target, body, Bearer(a_->member_api_key)});
      EXPECT_EQ(by_key.status, 403) << Upper(method) << " " << target << " → " << by_key.body;
      auto by_session = Send(s_->port(), {Upper(method), target, body, session->Headers()});
      EXPECT_EQ(by_session.status, 403)
          << Upper(method) << " " << target << " → " << by_session.body;
      ++count;
    }
  }
  EXPECT_GE(count, 6);
}

}  // namespace
}  // namespace crm::testing
