// Meeting reports with SUMMARY_MODE=openai through the real server, against the stand-in
// speaking OpenAI's chat completions wire format (tests/stand_ins/openai_stand_in.py): the
// structured request, a report of the extractive one's shape whose times are our segments',
// a long transcript summarised in chunks then merged, a 500 retried, a server without
// structured outputs asked for a JSON object, persistent garbage failing the report with a clear
// error, and the API key in no log.
#include <gtest/gtest.h>

#include <chrono>
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

const char* kKey = "sk-stand-in-5f2a9c1e77d04b1c";

asr::Transcript Meeting(int repeat) {
  asr::Transcript t;
  t.language = "fr";
  const char* lines[][2] = {
      {"SPEAKER_1", "Bonjour Madame, nous parlons aujourd'hui de la succession de votre père."},
      {"SPEAKER_2", "Mon frère conteste l'estimation de la maison de Quimper par le notaire."},
      {"SPEAKER_1", "Il faut une contre-expertise de la maison par un expert indépendant."},
      {"SPEAKER_1", "Je vous envoie le projet de lettre au notaire avant le 15 décembre."},
      {"SPEAKER_2", "Oui, je cherche l'acte de donation de 2015 dans les papiers de mon père."},
      {"SPEAKER_1", "Nous avons décidé de proposer une médiation à votre frère."}};
  double at = 3;
  for (int r = 0; r < repeat; ++r)
    for (auto& l : lines) {
      asr::Segment s;
      s.start = at;
      s.end = at + 4.5;
      s.text = l[1];
      s.speaker = l[0];
      t.segments.push_back(s);
      at += 5.25;
    }
  t.duration = at;
  return t;
}

class OpenAiReports : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    InitCrypto();
    stand_in_ = new StandIn({"--api-key", kKey});
    ASSERT_FALSE(stand_in_->url().empty());
    s_ = new TestServer(Env{{"QUEUE_WORKERS", "1"},
                            {"SUMMARY_MODE", "openai"},
                            {"OPENAI_BASE_URL", stand_in_->url()},
                            {"OPENAI_API_KEY", kKey},
                            {"OPENAI_CHAT_MODEL", "gpt-4o-mini"},
                            {"OPENAI_CHAT_RETRIES", "2"},
                            {"SUMMARY_CHUNK_CHARS", "1200"},
                            {"LOG_LEVEL", "debug"}});
    ASSERT_TRUE(s_->Start()) << s_->log();
    a_ = new TestFirm(CreateFirm(*s_, "Cabinet Dupont"));
    auto store = storage::OpenSqlite({s_->data_dir() + "/crm-ai.sqlite3", 2});
    ASSERT_TRUE(store.ok());
    db_ = store->release();
    auto h = Bearer(a_->api_key);
    client_ = s_->Call("POST", "/api/clients", {{"name", "Hélène Lefèvre"}}, h).json()["id"];
    meeting_ =
        s_->Call("POST", "/api/meetings",
                 {{"client_id", client_},
                  {"title", "Succession Lefèvre"},
                  {"starts_at", "2026-12-01T09:00:00Z"},
                  {"participants",
                   json::array({{{"name", "Maître Dupont"}}, {{"name", "Hélène Lefèvre"}}})}},
                 h)
            .json()["id"];
    short_ = Recording(1);
    long_ = Recording(12);  // 72 segments, about 5,500 characters of lines
  }
  static void TearDownTestSuite() {
    delete db_;
    delete a_;
    delete s_;
    delete stand_in_;
  }
  void SetUp() override { stand_in_->Control({{"reset", true}}); }

  static std::string Recording(int repeat) {
    std::string id = NewId();
    EXPECT_TRUE(db_->Exec("INSERT INTO recordings (id, firm_id, client_id, meeting_id, title, "
                          "blob_key, size_bytes, sha256, consent, created_at, updated_at) VALUES "
                          "(?, ?, ?, ?, 'RDV', ?, 1, 'x', 1, ?, ?)",
                          {id, a_->id, client_, meeting_, "recordings/" + a_->id + "/" + id,
                           NowIsoUtc(), NowIsoUtc()})
                    .ok());
    EXPECT_TRUE(db_->Transaction([&](storage::Connection& c) {
                     return domain::SaveEngineTranscript(c, a_->id, id, Meeting(repeat));
                   })
                    .ok());
    auto named = s_->Call("PATCH", "/api/recordings/" + id + "/speakers",
                          {{"SPEAKER_1", "Maître Dupont"}, {"SPEAKER_2", "Hélène Lefèvre"}},
                          Bearer(a_->api_key));
    EXPECT_EQ(named.status / 100, 2) << named.body;
    return id;
  }

  static json Generate(const std::string& recording) {
    auto h = Bearer(a_->api_key);
    auto req = s_->Call("POST", "/api/recordings/" + recording + "/reports", json::object(), h);
    EXPECT_EQ(req.status, 202) << req.body;
    std::string id = req.json().value("id", "");
    json r;
    for (int i = 0; i < 600; ++i) {
      r = s_->Get("/api/reports/" + id, h).json();
      if (r["status"] != "generating") return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return r;
  }

  static json ChatRequests() {
    json out = json::array();
    for (auto& r : stand_in_->Requests())
      if (r["path"] == "/v1/chat/completions") out.push_back(r);
    return out;
  }

  // Every item cites one of the recording's segments, with that segment's own time.
  static void ExpectTimesFromSegments(const json& report, const std::string& recording) {
    json t = s_->Get("/api/recordings/" + recording + "/transcript", Bearer(a_->api_key)).json();
    std::map<std::string, json> segments;
    for (auto& s : t["segments"]) segments[s["id"]] = s;
    for (const char* list : {"summary", "decisions", "excerpts", "actions"})
      for (auto& item : report[list]) {
        auto it = segments.find(item["segment_id"]);
        ASSERT_NE(it, segments.end()) << list << " " << item.dump();
        EXPECT_NEAR(item["start"].get<double>(), it->second["start"].get<double>(), 0.011)
            << list << " " << item.dump();
      }
    for (auto& e : report["excerpts"]) {
      EXPECT_EQ(e["text"], segments[e["segment_id"]]["text"]) << "an excerpt is the transcript's";
      EXPECT_EQ(
          e["audio_url"].get<std::string>().rfind("/api/recordings/" + recording + "/audio#t=", 0),
          0u);
    }
  }

  static inline StandIn* stand_in_ = nullptr;
  static inline TestServer* s_ = nullptr;
  static inline TestFirm* a_ = nullptr;
  static inline storage::Store* db_ = nullptr;
  static inline std::string client_, meeting_, short_, long_;
};

TEST_F(OpenAiReports, AReportFromTheChatServerInTheExtractiveShape) {
  json rep = Generate(short_);
  ASSERT_EQ(rep["status"], "draft") << rep.dump();
  EXPECT_EQ(rep["mode"], "openai");
  EXPECT_EQ(rep["title"], "Compte rendu — Succession Lefèvre");
  EXPECT_EQ(rep["header"]["firm"], "Cabinet Dupont");
  EXPECT_EQ(rep["header"]["participants"], json::array({"Maître Dupont", "Hélène Lefèvre"}));
  ASSERT_FALSE(rep["summary"].empty());
  ASSERT_EQ(rep["decisions"].size(), 1u) << rep.dump();
  EXPECT_NE(rep["decisions"][0]["text"].get<std::string>().find("médiation"), std::string::npos);
  bool letter = false;
  for (auto& a : rep["actions"])
    if (a["what"].get<std::string>().find("projet de lettre") != std::string::npos) {
      letter = true;
      EXPECT_EQ(a["who"], "Maître Dupont");
      EXPECT_EQ(a["start"], 3 + 3 * 5.25);
    }
  EXPECT_TRUE(letter) << rep["actions"].dump();
  ASSERT_FALSE(rep["excerpts"].empty());
  ExpectTimesFromSegments(rep, short_);
  // The draft is reviewed like an extractive one.
  auto edited =
      s_->Call("PATCH", "/api/reports/" + rep["id"].get<std::string>(),
               {{"title", "Compte rendu relu"}, {"version", rep["version"]}}, Bearer(a_->api_key));
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(edited.json()["mode"], "openai");
  EXPECT_EQ(edited.json()["summary"], rep["summary"]);

  // One request, in the chat completions wire format, structured output asked for.
  json reqs = ChatRequests();
  ASSERT_EQ(reqs.size(), 1u) << reqs.dump();
  EXPECT_EQ(reqs[0]["status"], 200);
  EXPECT_EQ(reqs[0]["headers"]["Authorization"], std::string("Bearer ") + kKey);
  const json& body = reqs[0]["json"];
  EXPECT_EQ(body["model"], "gpt-4o-mini");
  EXPECT_EQ(body["response_format"]["type"], "json_schema");
  EXPECT_EQ(body["response_format"]["json_schema"]["strict"], true);
  ASSERT_EQ(body["messages"].size(), 2u);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_NE(body["messages"][1]["content"].get<std::string>().find(
                "[S4 00:18] Maître Dupont : Je vous envoie le projet de lettre"),
            std::string::npos)
      << body["messages"][1]["content"];
}

TEST_F(OpenAiReports, ALongTranscriptIsSummarisedInChunksThenMerged) {
  json rep = Generate(long_);
  ASSERT_EQ(rep["status"], "draft") << rep.dump();
  json reqs = ChatRequests();
  // About 5,500 characters at 1,200 per request: at least five chunks, and the merge.
  ASSERT_GE(reqs.size(), 6u) << reqs.size();
  std::set<std::string> first_refs;
  for (size_t i = 0; i + 1 < reqs.size(); ++i) {
    std::string user = reqs[i]["json"]["messages"][1]["content"];
    EXPECT_NE(
        user.find("Partie " + std::to_string(i + 1) + " sur " + std::to_string(reqs.size() - 1)),
        std::string::npos)
        << user;
    EXPECT_LE(user.size(), 1200u + 400u) << "a chunk stays near SUMMARY_CHUNK_CHARS";
  }
  std::string merge = reqs[reqs.size() - 1]["json"]["messages"][1]["content"];
  EXPECT_NE(merge.find("Comptes rendus partiels"), std::string::npos) << merge;
  // The last chunk's segments are in the report: the merge saw every part.
  EXPECT_NE(merge.find("[S72]"), std::string::npos) << merge;
  EXPECT_FALSE(rep["summary"].empty());
  EXPECT_FALSE(rep["actions"].empty());
  ExpectTimesFromSegments(rep, long_);
}

TEST_F(OpenAiReports, AServerErrorIsRetried) {
  stand_in_->Control({{"chat_fail", 1}, {"fail_status", 500}});
  json rep = Generate(short_);
  ASSERT_EQ(rep["status"], "draft") << rep.dump();
  json reqs = ChatRequests();
  ASSERT_EQ(reqs.size(), 2u) << reqs.dump();
  EXPECT_EQ(reqs[0]["status"], 500);
  EXPECT_EQ(reqs[1]["status"], 200);
  EXPECT_NE(s_->log().find("request to the summary server failed, retrying"), std::string::npos);
}

TEST_F(OpenAiReports, MalformedJsonOnceIsAskedAgain) {
  stand_in_->Control({{"chat_garbage", 1}});
  json rep = Generate(short_);
  ASSERT_EQ(rep["status"], "draft") << rep.dump();
  EXPECT_EQ(ChatRequests().size(), 2u);
}

TEST_F(OpenAiReports, AServerWithoutStructuredOutputsIsAskedForAJsonObject) {
  stand_in_->Control({{"no_json_schema", true}});
  json rep = Generate(short_);
  ASSERT_EQ(rep["status"], "draft") << rep.dump();
  json reqs = ChatRequests();
  ASSERT_EQ(reqs.size(), 2u) << reqs.dump();
  EXPECT_EQ(reqs[0]["status"], 400);
  EXPECT_EQ(reqs[1]["json"]["response_format"]["type"], "json_object");
}

TEST_F(OpenAiReports, PersistentGarbageFailsTheReportClearly) {
  stand_in_->Control({{"chat_garbage", -1}});
  json rep = Generate(short_);
  ASSERT_EQ(rep["status"], "failed") << rep.dump();
  EXPECT_EQ(rep["error"]["code"], "summary_invalid_answer");
  std::string message = rep["error"]["message"];
  EXPECT_NE(message.find("not a report"), std::string::npos) << message;
  EXPECT_NE(message.find("3 time(s)"), std::string::npos) << message;
  EXPECT_NE(message.find("OPENAI_CHAT_MODEL"), std::string::npos) << message;
  EXPECT_EQ(message.find(kKey), std::string::npos);
  EXPECT_EQ(ChatRequests().size(), 3u) << "the first attempt and OPENAI_CHAT_RETRIES=2";
  EXPECT_TRUE(rep["summary"].is_null() || rep["summary"].empty()) << "nothing half-written";
}

TEST_F(OpenAiReports, PersistentServerErrorsFailTheReport) {
  stand_in_->Control({{"chat_fail", 100}, {"fail_status", 503}});
  json rep = Generate(short_);
  ASSERT_EQ(rep["status"], "failed") << rep.dump();
  EXPECT_EQ(rep["error"]["code"], "unavailable");
  EXPECT_NE(rep["error"]["message"].get<std::string>().find("HTTP 503"), std::string::npos)
      << rep.dump();
  EXPECT_EQ(ChatRequests().size(), 3u);
}

// Last (gtest runs a suite's tests in order): every request above went through the logs.
TEST_F(OpenAiReports, TheApiKeyIsInNoLog) {
  json rep = Generate(short_);
  ASSERT_EQ(rep["status"], "draft");
  const std::string log = s_->log();
  EXPECT_NE(log.find("summarising a transcript"), std::string::npos) << log;
  EXPECT_EQ(log.find(kKey), std::string::npos) << "the API key is in the server's log";
  EXPECT_EQ(log.find("5f2a9c1e"), std::string::npos);
}

}  // namespace
}  // namespace crm::testing
