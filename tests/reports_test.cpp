// Meeting reports against the real server: a transcript (written as the pipeline writes it)
// becomes a compte-rendu through the report job; the draft is edited and reviewed; accepted
// action items become tasks of the client and meeting, once each; another firm gets 404s.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/ids.h"
#include "common/text.h"
#include "domain/transcripts.h"
#include "storage/store.h"
#include "test_server.h"

namespace crm::testing {
namespace {

using nlohmann::json;

asr::Transcript Meeting() {
  asr::Transcript t;
  t.language = "fr";
  const char* lines[][2] = {
      {"SPEAKER_1", "Bonjour Madame, nous parlons aujourd'hui de la succession de votre père."},
      {"SPEAKER_2", "Mon frère conteste l'estimation de la maison de Quimper par le notaire."},
      {"SPEAKER_1", "Il faut une contre-expertise de la maison par un expert indépendant."},
      {"SPEAKER_1", "Je vous envoie le projet de lettre au notaire avant le 15 décembre."},
      {"SPEAKER_1", "Pourriez-vous retrouver l'acte de donation de 2015 d'ici vendredi ?"},
      {"SPEAKER_2", "Oui, je cherche l'acte de donation à la maison."},
      {"SPEAKER_1", "Nous avons décidé de proposer une médiation à votre frère."}};
  double at = 0;
  for (auto& l : lines) {
    asr::Segment s;
    s.start = at;
    s.end = at + 5;
    s.text = l[1];
    s.speaker = l[0];
    t.segments.push_back(s);
    at += 5.5;
  }
  t.duration = at;
  return t;
}

class Reports : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    InitCrypto();
    s_ = new TestServer(Env{{"QUEUE_WORKERS", "1"}});
    ASSERT_TRUE(s_->Start()) << s_->log();
    a_ = new TestFirm(CreateFirm(*s_, "Cabinet Dupont"));
    b_ = new TestFirm(CreateFirm(*s_, "Cabinet B"));
    auto store = storage::OpenSqlite({s_->data_dir() + "/crm-ai.sqlite3", 2});
    ASSERT_TRUE(store.ok());
    db_ = store->release();
    auto h = Bearer(a_->api_key);
    client_ = s_->Call("POST", "/api/clients", {{"name", "Hélène Lefèvre"}}, h).json()["id"];
    meeting_ = s_->Call("POST", "/api/meetings",
                        {{"client_id", client_},
                         {"title", "Succession Lefèvre"},
                         {"starts_at", "2026-12-01T09:00:00Z"},
                         {"participants", json::array({{{"name", "Maître Dupont"}},
                                                       {{"name", "Hélène Lefèvre"}}})}},
                        h)
                   .json()["id"];
    recording_ = NewId();
    ASSERT_TRUE(db_->Exec("INSERT INTO recordings (id, firm_id, client_id, meeting_id, title, "
                          "blob_key, size_bytes, sha256, consent, created_at, updated_at) VALUES "
                          "(?, ?, ?, ?, 'RDV', ?, 1, 'x', 1, ?, ?)",
                          {recording_, a_->id, client_, meeting_,
                           "recordings/" + a_->id + "/" + recording_, NowIsoUtc(), NowIsoUtc()})
                    .ok());
    ASSERT_TRUE(db_->Transaction([&](storage::Connection& c) {
                     return domain::SaveEngineTranscript(c, a_->id, recording_, Meeting());
                   }).ok());
    auto named = s_->Call("PATCH", "/api/recordings/" + recording_ + "/speakers",
                          {{"SPEAKER_1", "Maître Dupont"}, {"SPEAKER_2", "Hélène Lefèvre"}},
                          h);
    ASSERT_EQ(named.status / 100, 2) << named.body;
  }
  static void TearDownTestSuite() {
    delete db_;
    delete s_;
  }
  static json WaitForReport(const std::string& id) {
    json r;
    for (int i = 0; i < 200; ++i) {
      r = s_->Get("/api/reports/" + id, Bearer(a_->api_key)).json();
      if (r["status"] != "generating") return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return r;
  }
  static inline TestServer* s_ = nullptr;
  static inline TestFirm *a_ = nullptr, *b_ = nullptr;
  static inline storage::Store* db_ = nullptr;
  static inline std::string client_, meeting_, recording_;
};

TEST_F(Reports, TranscriptBecomesAReviewedReportAndTasks) {
  auto h = Bearer(a_->api_key);
  auto req = s_->Call("POST", "/api/recordings/" + recording_ + "/reports", json::object(), h);
  ASSERT_EQ(req.status, 202) << req.body;
  // The in-process worker may already have finished by the time the 202 is written.
  EXPECT_TRUE(req.json()["status"] == "generating" || req.json()["status"] == "draft");
  std::string id = req.json()["id"];
  json rep = WaitForReport(id);
  ASSERT_EQ(rep["status"], "draft") << rep.dump();
  EXPECT_EQ(rep["mode"], "extractive");
  EXPECT_EQ(rep["header"]["firm"], "Cabinet Dupont");
  EXPECT_EQ(rep["header"]["client"], "Hélène Lefèvre");
  EXPECT_EQ(rep["header"]["date"], "2026-12-01T09:00:00Z");
  EXPECT_EQ(rep["header"]["participants"], json::array({"Maître Dupont", "Hélène Lefèvre"}));
  EXPECT_EQ(rep["meeting_id"], meeting_);
  ASSERT_FALSE(rep["summary"].empty());
  ASSERT_EQ(rep["decisions"].size(), 1u);
  int letter = -1;
  for (size_t i = 0; i < rep["actions"].size(); ++i)
    if (rep["actions"][i]["what"].get<std::string>().find("projet de lettre") != std::string::npos)
      letter = static_cast<int>(i);
  ASSERT_GE(letter, 0) << rep["actions"].dump();
  EXPECT_EQ(rep["actions"][letter]["who"], "Maître Dupont");
  EXPECT_EQ(rep["actions"][letter]["due_date"], "2026-12-15");
  for (auto& e : rep["excerpts"])
    EXPECT_EQ(e["audio_url"].get<std::string>().rfind("/api/recordings/" + recording_ + "/audio#t=", 0), 0u);

  // The user corrects the draft; a stale version is refused.
  int64_t v = rep["version"];
  json actions = rep["actions"];
  actions[letter]["what"] = "Envoyer au notaire le projet de lettre";
  EXPECT_EQ(s_->Call("PATCH", "/api/reports/" + id, {{"actions", actions}, {"version", v - 1}}, h).status, 409);
  EXPECT_EQ(s_->Call("PATCH", "/api/reports/" + id, {{"actions", "x"}}, h).status, 422);
  EXPECT_EQ(s_->Call("PATCH", "/api/reports/" + id, {{"bogus", 1}}, h).status, 422);
  auto edited = s_->Call("PATCH", "/api/reports/" + id, {{"actions", actions}, {"version", v}}, h);
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(edited.json()["actions"][letter]["what"], "Envoyer au notaire le projet de lettre");

  auto reviewed = s_->Call("POST", "/api/reports/" + id + "/review", json::object(), h);
  ASSERT_EQ(reviewed.status, 200) << reviewed.body;
  EXPECT_EQ(reviewed.json()["status"], "reviewed");
  EXPECT_EQ(s_->Call("PATCH", "/api/reports/" + id, {{"title", "x"}}, h).status, 409);

  // Accepted actions become tasks, once.
  auto tasks = s_->Call("POST", "/api/reports/" + id + "/tasks", {{"actions", {letter}}}, h);
  ASSERT_EQ(tasks.status, 201) << tasks.body;
  json task = tasks.json()["data"][0];
  EXPECT_EQ(task["client_id"], client_);
  EXPECT_EQ(task["meeting_id"], meeting_);
  EXPECT_EQ(task["due_date"], "2026-12-15");
  EXPECT_EQ(task["title"], "Envoyer au notaire le projet de lettre");
  auto again = s_->Call("POST", "/api/reports/" + id + "/tasks", {{"actions", {letter}}}, h);
  ASSERT_EQ(again.status, 201);
  EXPECT_EQ(again.json()["data"][0]["id"], task["id"]);
  auto listed = s_->Get("/api/tasks?meeting_id=" + meeting_, h).json();
  EXPECT_EQ(listed["data"].size(), 1u) << listed.dump();
  EXPECT_EQ(s_->Call("POST", "/api/reports/" + id + "/tasks", {{"actions", {99}}}, h).status, 422);
}

TEST_F(Reports, AnotherFirmAndMissingTranscripts) {
  auto hb = Bearer(b_->api_key);
  EXPECT_EQ(s_->Call("POST", "/api/recordings/" + recording_ + "/reports", json::object(), hb).status, 404);
  auto mine = s_->Call("POST", "/api/recordings/" + recording_ + "/reports", json::object(),
                       Bearer(a_->api_key));
  ASSERT_EQ(mine.status, 202);
  std::string id = mine.json()["id"];
  EXPECT_EQ(s_->Get("/api/reports/" + id, hb).status, 404);
  EXPECT_EQ(s_->Call("PATCH", "/api/reports/" + id, {{"bogus", 1}}, hb).status, 404);
  EXPECT_EQ(s_->Call("POST", "/api/reports/" + id + "/review", json::object(), hb).status, 404);
  EXPECT_EQ(s_->Call("POST", "/api/reports/" + id + "/tasks", {{"actions", {0}}}, hb).status, 404);
  EXPECT_TRUE(s_->Get("/api/reports", hb).json()["data"].empty());
  // A recording without a transcript yet: a clear 409.
  std::string bare = NewId();
  ASSERT_TRUE(db_->Exec("INSERT INTO recordings (id, firm_id, client_id, title, blob_key, "
                        "size_bytes, sha256, consent, created_at, updated_at) VALUES (?, ?, ?, "
                        "'x', ?, 1, 'x', 1, ?, ?)",
                        {bare, a_->id, client_, "recordings/" + a_->id + "/" + bare, NowIsoUtc(),
                         NowIsoUtc()})
                  .ok());
  auto none = s_->Call("POST", "/api/recordings/" + bare + "/reports", json::object(), Bearer(a_->api_key));
  EXPECT_EQ(none.status, 409);
  EXPECT_EQ(none.json()["error"]["code"], "transcript_not_ready");
}

// The reviewed report as DOCX and as PDF (real headless LibreOffice), each stored as a document of
// the client's meeting; the PDF's text read back with pdftotext; the transcript exported too.
TEST_F(Reports, ExportsReportAndTranscriptAsDocxAndPdf) {
  auto h = Bearer(a_->api_key);
  auto req = s_->Call("POST", "/api/recordings/" + recording_ + "/reports", json::object(), h);
  ASSERT_EQ(req.status, 202);
  std::string id = req.json()["id"];
  ASSERT_EQ(WaitForReport(id)["status"], "draft");
  auto wait_export = [&](const std::string& export_id) {
    json e;
    for (int i = 0; i < 600; ++i) {
      e = s_->Get("/api/exports/" + export_id, h).json();
      if (e["status"] != "queued") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return e;
  };
  auto pdf = s_->Call("POST", "/api/reports/" + id + "/exports", {{"format", "pdf"}}, h);
  ASSERT_EQ(pdf.status, 202) << pdf.body;
  json done = wait_export(pdf.json()["id"]);
  ASSERT_EQ(done["status"], "done") << done.dump();
  json doc = s_->Get("/api/documents/" + done["document_id"].get<std::string>(), h).json();
  EXPECT_EQ(doc["content_type"], "application/pdf");
  EXPECT_EQ(doc["meeting_id"], meeting_);
  EXPECT_EQ(doc["name"], "Compte rendu — Succession Lefèvre 2026-12-01.pdf");
  std::string bytes = s_->Get(done["download_url"], h).body;
  ASSERT_EQ(bytes.rfind("%PDF-", 0), 0u);
  std::string path = s_->data_dir() + "/tmp-test-report.pdf";
  { std::ofstream(path, std::ios::binary) << bytes; }
  ASSERT_EQ(std::system(("pdftotext -enc UTF-8 " + path + " " + path + ".txt").c_str()), 0);
  std::string raw = ReadFile(path + ".txt"), text;
  for (char c : raw)  // table cells wrap: every run of white space as one space
    if (!std::isspace(static_cast<unsigned char>(c)) || (!text.empty() && text.back() != ' '))
      text += std::isspace(static_cast<unsigned char>(c)) ? ' ' : c;
  for (const char* want : {"Compte rendu", "Cabinet Dupont", "Hélène Lefèvre", "1er décembre 2026",
                           "projet de lettre", "15 décembre 2026", "médiation"})
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;

  auto docx = s_->Call("POST", "/api/recordings/" + recording_ + "/transcript/exports",
                       {{"format", "docx"}}, h);
  ASSERT_EQ(docx.status, 202) << docx.body;
  json tdone = wait_export(docx.json()["id"]);
  ASSERT_EQ(tdone["status"], "done") << tdone.dump();
  json tdoc = s_->Get("/api/documents/" + tdone["document_id"].get<std::string>(), h).json();
  EXPECT_EQ(tdoc["content_type"],
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  // The exported transcript is searchable like any document.
  for (int i = 0; i < 100 && s_->Get("/api/documents/" + tdoc["id"].get<std::string>(), h)
                                     .json()["text"]["state"] == "pending"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto hits = s_->Get("/api/search?q=contre%20expertise", h).json();
  bool found = false;
  for (auto& hit : hits["data"]) found = found || hit["document"].is_object() &&
                                                  hit["document"]["id"] == tdoc["id"];
  EXPECT_TRUE(found) << hits.dump();

  EXPECT_EQ(s_->Call("POST", "/api/reports/" + id + "/exports", {{"format", "odt"}}, h).status, 422);
  EXPECT_EQ(s_->Call("POST", "/api/reports/" + id + "/exports", {{"format", "pdf"}},
                     Bearer(b_->api_key)).status, 404);
}

}  // namespace
}  // namespace crm::testing
