// Transcripts through the real server: reading, corrections with versions and history, speaker
// names, exports in their exact formats, search, and tenant isolation on every transcript route.
// Transcripts are written into the server's own database file (SQLite WAL allows a second
// process) through the same domain function the recording pipeline calls when a job completes.
#include <gtest/gtest.h>

#include "asr/transcript.h"
#include "common/ids.h"
#include "common/text.h"
#include "domain/transcripts.h"
#include "storage/store.h"
#include "test_server.h"

namespace crm::testing {
namespace {

using nlohmann::json;

asr::Transcript KnownTranscript() {
  asr::Transcript t;
  t.language = "fr";
  t.duration = 7.25;
  asr::Segment a;
  a.start = 0;
  a.end = 2.5;
  a.text = " Bonjour Maître.";
  a.speaker = "SPEAKER_1";
  a.words = {{0, 1.1, " Bonjour", 0.75f, "SPEAKER_1"}, {1.1, 2.5, " Maître.", 0.5f, "SPEAKER_1"}};
  asr::Segment b;
  b.start = 2.5;
  b.end = 7.25;
  b.text = " Je viens pour la succession d'Hélène <Martin>.";
  b.speaker = "SPEAKER_2";
  t.segments = {a, b};
  return t;
}

class TranscriptsApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new TestServer();
    ASSERT_TRUE(s_->Start()) << s_->log();
    a_ = new TestFirm(CreateFirm(*s_, "Cabinet A"));
    b_ = new TestFirm(CreateFirm(*s_, "Cabinet B"));
    auto store = storage::OpenSqlite({s_->data_dir() + "/crm-ai.sqlite3", 2});
    ASSERT_TRUE(store.ok()) << store.error().message;
    db_ = store->release();
  }
  static void TearDownTestSuite() {
    delete db_;
    delete b_;
    delete a_;
    delete s_;
  }

  // A client, a meeting and a recording of `firm`, with KnownTranscript() saved for it.
  static std::string RecordingWithTranscript(const TestFirm& firm, const std::string& client_name) {
    auto h = Bearer(firm.api_key);
    std::string client = s_->Call("POST", "/api/clients", {{"name", client_name}}, h).json()["id"];
    std::string meeting = s_->Call("POST", "/api/meetings",
                                   {{"client_id", client},
                                    {"title", "Premier rendez-vous"},
                                    {"starts_at", "2026-11-20T09:00:00Z"}},
                                   h)
                              .json()["id"];
    std::string id = NewId();
    std::string now = NowIsoUtc();
    auto inserted = db_->Exec(
        "INSERT INTO recordings (id, firm_id, client_id, meeting_id, title, blob_key, size_bytes, "
        "sha256, consent, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, 'x', 1, ?, ?)",
        {id, firm.id, client, meeting, "Succession Martin", "recordings/" + firm.id + "/" + id,
         "2026-11-20T09:00:00Z", now});
    EXPECT_TRUE(inserted.ok()) << inserted.error().message;
    auto saved = db_->Transaction([&](storage::Connection& c) {
      return domain::SaveEngineTranscript(c, firm.id, id, KnownTranscript());
    });
    EXPECT_TRUE(saved.ok()) << saved.error().message;
    return id;
  }

  static json Transcript(const TestFirm& firm, const std::string& rec) {
    auto r = s_->Get("/api/recordings/" + rec + "/transcript", Bearer(firm.api_key));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }

  static TestServer* s_;
  static TestFirm *a_, *b_;
  static storage::Store* db_;
};
TestServer* TranscriptsApiTest::s_ = nullptr;
TestFirm* TranscriptsApiTest::a_ = nullptr;
TestFirm* TranscriptsApiTest::b_ = nullptr;
storage::Store* TranscriptsApiTest::db_ = nullptr;

TEST_F(TranscriptsApiTest, ReadsSegmentsWordsSpeakersAndVersion) {
  std::string rec = RecordingWithTranscript(*a_, "Hélène Martin");
  auto r = s_->Get("/api/recordings/" + rec + "/transcript", Bearer(a_->api_key));
  ASSERT_EQ(r.status, 200) << r.body;
  json t = r.json();
  EXPECT_EQ(r.header("etag"), "\"1\"");
  EXPECT_EQ(t["recording_id"], rec);
  EXPECT_EQ(t["language"], "fr");
  EXPECT_EQ(t["version"], 1);
  ASSERT_EQ(t["segments"].size(), 2u);
  EXPECT_EQ(t["segments"][0]["text"], "Bonjour Maître.");
  EXPECT_EQ(t["segments"][0]["speaker"], "SPEAKER_1");
  EXPECT_EQ(t["segments"][0]["speaker_name"], nullptr);
  EXPECT_EQ(t["segments"][0]["edited"], false);
  EXPECT_EQ(t["segments"][0]["words"][1],
            json({{"start", 1.1},
                  {"end", 2.5},
                  {"text", " Maître."},
                  {"confidence", 0.5},
                  {"edited", false}}));
  // A segment the engine gave no word times: one word per word of its text, times shared out
  // over the segment, confidence unknown.
  json words = t["segments"][1]["words"];
  ASSERT_EQ(words.size(), 7u);
  EXPECT_EQ(words[0]["start"], 2.5);
  EXPECT_EQ(words[6]["end"], 7.25);
  EXPECT_EQ(words[6]["text"], " <Martin>.");
  EXPECT_EQ(words[3]["confidence"], nullptr);
  EXPECT_EQ(t["speakers"], json::parse(R"([{"label":"SPEAKER_1","name":null},
                                           {"label":"SPEAKER_2","name":null}])"));
  EXPECT_EQ(s_->Get("/api/recordings/" + NewId() + "/transcript", Bearer(a_->api_key)).status, 404);
}

TEST_F(TranscriptsApiTest, CorrectionsUseVersionsAndKeepHistoryAndTheEngineText) {
  std::string rec = RecordingWithTranscript(*a_, "Client corrections");
  std::string seg = Transcript(*a_, rec)["segments"][1]["id"];
  std::string url = "/api/recordings/" + rec + "/transcript/segments/" + seg;
  auto h = Bearer(a_->api_key);
  auto ok = s_->Call("PATCH", url,
                     {{"text", "Je viens pour la succession de Mme Martin."}, {"version", 1}}, h);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json()["version"], 2);
  EXPECT_EQ(ok.json()["edited"], true);
  EXPECT_EQ(ok.json()["engine_text"], "Je viens pour la succession d'Hélène <Martin>.");

  auto stale = s_->Call("PATCH", url, {{"text", "Autre chose."}, {"version", 1}}, h);
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(stale.json()["error"]["code"], "conflict");
  auto h_stale = h;
  h_stale.push_back({"If-Match", "\"1\""});
  EXPECT_EQ(s_->Call("PATCH", url, {{"text", "Autre chose."}}, h_stale).status, 409);

  auto history = s_->Get(url + "/revisions", h);
  ASSERT_EQ(history.status, 200) << history.body;
  ASSERT_EQ(history.json()["data"].size(), 1u);
  json rev = history.json()["data"][0];
  EXPECT_EQ(rev["old_text"], "Je viens pour la succession d'Hélène <Martin>.");
  EXPECT_EQ(rev["new_text"], "Je viens pour la succession de Mme Martin.");
  EXPECT_EQ(rev["version"], 2);
  EXPECT_EQ(rev["user_id"], nullptr);
  EXPECT_FALSE(rev["api_key_id"].get<std::string>().empty());

  // The transcript's version moved, the engine's text is still there.
  json t = Transcript(*a_, rec);
  EXPECT_EQ(t["version"], 2);
  EXPECT_EQ(t["segments"][1]["text"], "Je viens pour la succession de Mme Martin.");
  EXPECT_EQ(t["segments"][1]["engine_text"], "Je viens pour la succession d'Hélène <Martin>.");
}

TEST_F(TranscriptsApiTest, ACorrectionKeepsTheTimesOfTheWordsThatDidNotChange) {
  std::string rec = RecordingWithTranscript(*a_, "Client alignement");
  std::string seg = Transcript(*a_, rec)["segments"][0]["id"];
  auto r = s_->Call("PATCH", "/api/recordings/" + rec + "/transcript/segments/" + seg,
                    {{"text", "Bonjour cher Maître."}, {"version", 1}}, Bearer(a_->api_key));
  ASSERT_EQ(r.status, 200) << r.body;
  json words = r.json()["words"];
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[0], json({{"start", 0},
                            {"end", 1.1},
                            {"text", " Bonjour"},
                            {"confidence", 0.75},
                            {"edited", false}}));
  EXPECT_EQ(words[1]["text"], " cher");
  EXPECT_EQ(words[1]["edited"], true);
  EXPECT_EQ(words[1]["start"], 1.1);  // between its neighbours
  EXPECT_EQ(words[2]["start"], 1.1);
  EXPECT_EQ(words[2]["end"], 2.5);
  EXPECT_EQ(words[2]["confidence"], 0.5);
  // The export's detailed JSON carries them too.
  auto v = s_->Get("/api/recordings/" + rec + "/transcript/export?format=verbose_json",
                   Bearer(a_->api_key));
  ASSERT_EQ(v.status, 200);
  EXPECT_NE(v.body.find("cher"), std::string::npos);
}

TEST_F(TranscriptsApiTest, SplitAndMergeKeepWordsOrderSearchAndHistory) {
  std::string rec = RecordingWithTranscript(*a_, "Client découpe");
  auto h = Bearer(a_->api_key);
  json t = Transcript(*a_, rec);
  std::string first = t["segments"][0]["id"], second = t["segments"][1]["id"];
  std::string base = "/api/recordings/" + rec + "/transcript/segments/";
  // Bad cuts: the field named, nothing changed.
  for (json body : {json{{"word_index", 0}}, json{{"word_index", 7}}, json{{"word_index", "2"}},
                    json::object(), json{{"word_index", 2}, {"bogus", 1}}}) {
    auto bad = s_->Call("POST", base + second + "/split", body, h);
    EXPECT_EQ(bad.status, 422) << body << bad.body;
  }
  EXPECT_EQ(s_->Call("POST", base + second + "/split", {{"word_index", 3}, {"version", 9}}, h)
                .status,
            409);
  auto split = s_->Call("POST", base + second + "/split", {{"word_index", 4}, {"version", 1}}, h);
  ASSERT_EQ(split.status, 200) << split.body;
  json parts = split.json()["segments"];
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0]["id"], second);
  EXPECT_EQ(parts[0]["text"], "Je viens pour la");
  EXPECT_EQ(parts[1]["text"], "succession d'Hélène <Martin>.");
  EXPECT_EQ(parts[1]["speaker"], "SPEAKER_2");
  EXPECT_EQ(parts[0]["edited"], false);
  EXPECT_EQ(parts[0]["end"], parts[0]["words"][3]["end"]);
  EXPECT_EQ(parts[1]["start"], parts[1]["words"][0]["start"]);
  EXPECT_EQ(parts[1]["end"], 7.25);
  t = Transcript(*a_, rec);
  ASSERT_EQ(t["segments"].size(), 3u);
  EXPECT_EQ(t["version"], 2);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t["segments"][i]["index"], i);
  std::string third = parts[1]["id"];
  EXPECT_EQ(t["segments"][2]["id"], third);
  auto history = s_->Get(base + third + "/revisions", h).json()["data"];
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["kind"], "split");

  // Merge the first with the second: one segment from 0 to the second's end.
  EXPECT_EQ(s_->Call("POST", base + first + "/merge", {{"version", 1}, {"next_version", 5}}, h)
                .status,
            409);
  auto merged = s_->Call("POST", base + first + "/merge", {{"version", 1}}, h);
  ASSERT_EQ(merged.status, 200) << merged.body;
  EXPECT_EQ(merged.json()["text"], "Bonjour Maître. Je viens pour la");
  EXPECT_EQ(merged.json()["start"], 0);
  EXPECT_EQ(merged.json()["end"], parts[0]["end"]);
  EXPECT_EQ(merged.json()["words"].size(), 6u);
  EXPECT_EQ(merged.json()["words"][1]["start"], 1.1);
  t = Transcript(*a_, rec);
  ASSERT_EQ(t["segments"].size(), 2u);
  EXPECT_EQ(t["segments"][1]["id"], third);
  EXPECT_EQ(t["segments"][1]["index"], 1);
  EXPECT_EQ(s_->Call("POST", base + third + "/merge", json::object(), h).status, 422);
  EXPECT_EQ(s_->Get(base + first + "/revisions", h).json()["data"][0]["kind"], "merge");
  // The SRT follows the new cut.
  auto srt = s_->Get("/api/recordings/" + rec + "/transcript/export?format=srt", h);
  EXPECT_NE(srt.body.find("Bonjour Maître. Je viens pour la"), std::string::npos) << srt.body;
}

TEST_F(TranscriptsApiTest, MalformedBodiesAreRefusedWithTheFieldNames) {
  std::string rec = RecordingWithTranscript(*a_, "Client erreurs");
  std::string seg = Transcript(*a_, rec)["segments"][0]["id"];
  std::string url = "/api/recordings/" + rec + "/transcript/segments/" + seg;
  auto h = Bearer(a_->api_key);
  h.push_back({"Content-Type", "application/json"});
  auto send = [&](const std::string& method, const std::string& target, const std::string& body) {
    return Send(s_->port(), {method, target, body, h});
  };
  EXPECT_EQ(send("PATCH", url, "{\"text\": ").status, 400);
  EXPECT_EQ(send("PATCH", url, "[1]").status, 400);
  auto missing = send("PATCH", url, "{}");
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(missing.json()["error"]["details"]["text"], "required");
  auto wrong = send("PATCH", url, R"({"text": 3, "version": "1", "colour": "red"})");
  EXPECT_EQ(wrong.status, 422);
  EXPECT_EQ(wrong.json()["error"]["details"], json({{"text", "must_be_string"},
                                                    {"version", "must_be_integer"},
                                                    {"colour", "unknown_field"}}));
  EXPECT_EQ(send("PATCH", url, R"({"text": "   "})").status, 422);

  std::string speakers = "/api/recordings/" + rec + "/speakers";
  EXPECT_EQ(send("PATCH", speakers, "nope").status, 400);
  EXPECT_EQ(send("PATCH", speakers, "{}").status, 422);
  auto bad = send("PATCH", speakers, R"({"SPEAKER_1": 5, "SPEAKER_9": "X"})");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.json()["error"]["details"]["SPEAKER_1"], "must_be_string");
  auto unknown = send("PATCH", speakers, R"({"SPEAKER_9": "X"})");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.json()["error"]["details"]["SPEAKER_9"], "unknown_speaker");

  auto format = s_->Get("/api/recordings/" + rec + "/transcript/export?format=docx", h);
  EXPECT_EQ(format.status, 422);
  EXPECT_EQ(format.json()["error"]["details"]["format"], "invalid");
}

TEST_F(TranscriptsApiTest, SpeakerNamesApplyToExportsInTheirExactFormats) {
  std::string rec = RecordingWithTranscript(*a_, "Client exports");
  auto h = Bearer(a_->api_key);
  auto named = s_->Call("PATCH", "/api/recordings/" + rec + "/speakers",
                        {{"SPEAKER_1", "Maître Dupont"}, {"version", 1}}, h);
  ASSERT_EQ(named.status, 200) << named.body;
  EXPECT_EQ(named.json()["version"], 2);
  EXPECT_EQ(named.json()["speakers"][0]["name"], "Maître Dupont");
  EXPECT_EQ(named.json()["segments"][0]["speaker_name"], "Maître Dupont");
  EXPECT_EQ(s_->Call("PATCH", "/api/recordings/" + rec + "/speakers",
                     {{"SPEAKER_2", "Mme Martin"}, {"version", 1}}, h)
                .status,
            409);

  std::string base = "/api/recordings/" + rec + "/transcript/export?format=";
  auto txt = s_->Get(base + "txt", h);
  ASSERT_EQ(txt.status, 200) << txt.body;
  EXPECT_EQ(txt.body,
            "[Maître Dupont] Bonjour Maître.\n"
            "[SPEAKER_2] Je viens pour la succession d'Hélène <Martin>.\n");
  EXPECT_EQ(txt.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(txt.header("content-disposition"),
            "attachment; filename=\"transcription-succession-martin-2026-11-20.txt\"");
  EXPECT_EQ(s_->Get("/api/recordings/" + rec + "/transcript/export", h).body, txt.body);

  auto srt = s_->Get(base + "srt", h);
  EXPECT_EQ(srt.body,
            "1\n00:00:00,000 --> 00:00:02,500\n[Maître Dupont] Bonjour Maître.\n\n"
            "2\n00:00:02,500 --> 00:00:07,250\n[SPEAKER_2] Je viens pour la succession "
            "d'Hélène <Martin>.\n\n");
  EXPECT_EQ(srt.header("content-disposition"),
            "attachment; filename=\"transcription-succession-martin-2026-11-20.srt\"");

  auto vtt = s_->Get(base + "vtt", h);
  EXPECT_EQ(vtt.body,
            "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\n<v Maître Dupont>Bonjour Maître.\n\n"
            "00:00:02.500 --> 00:00:07.250\n<v SPEAKER_2>Je viens pour la succession "
            "d'Hélène &lt;Martin&gt;.\n\n");

  auto js = s_->Get(base + "json", h);
  EXPECT_EQ(js.json(), json({{"text",
                              "Bonjour Maître. Je viens pour la succession d'Hélène "
                              "<Martin>."}}));

  auto verbose = s_->Get(base + "verbose_json", h);
  ASSERT_EQ(verbose.status, 200);
  json v = verbose.json();
  EXPECT_EQ(v["language"], "french");
  EXPECT_EQ(v["duration"], 7.25);
  EXPECT_EQ(v["segments"][0]["speaker"], "Maître Dupont");
  EXPECT_EQ(v["segments"][1]["start"], 2.5);
  EXPECT_EQ(v["words"][0]["word"], "Bonjour");
  EXPECT_EQ(v["words"][0]["speaker"], "Maître Dupont");
  EXPECT_EQ(verbose.header("content-disposition"),
            "attachment; filename=\"transcription-succession-martin-2026-11-20-detaillee.json\"");

  // Exports are audited.
  auto audit = s_->Get("/api/audit", h);
  EXPECT_NE(audit.body.find("transcript.export"), std::string::npos);
}

TEST_F(TranscriptsApiTest, SearchFindsAccentedWordsWithSnippetsAndNeverAcrossFirms) {
  std::string rec = RecordingWithTranscript(*a_, "Client recherche");
  std::string rec_b = RecordingWithTranscript(*b_, "Client de B");
  auto h = Bearer(a_->api_key);
  for (const char* q : {"helene", "HELENE", "H%C3%A9l%C3%A8ne"}) {
    auto r = s_->Get(std::string("/api/search?limit=200&q=") + q, h);
    ASSERT_EQ(r.status, 200) << r.body;
    json body = r.json();
    const json* hit = nullptr;
    for (const auto& d : body["data"])
      if (d["recording_id"] == rec) hit = &d;
    ASSERT_NE(hit, nullptr) << q << " " << r.body;
    EXPECT_EQ((*hit)["type"], "transcript");
    EXPECT_EQ((*hit)["client"]["name"], "Client recherche");
    EXPECT_EQ((*hit)["meeting"]["title"], "Premier rendez-vous");
    EXPECT_EQ((*hit)["start"], 2.5);
    EXPECT_FALSE((*hit)["segment_id"].get<std::string>().empty());
    EXPECT_EQ((*hit)["snippet"],
              "Je viens pour la succession d&#39;<mark>Hélène</mark> &lt;Martin&gt;.");
    EXPECT_EQ(r.body.find(rec_b), std::string::npos) << "firm A sees firm B's transcript";
  }
  // Client notes are searched too.
  ASSERT_EQ(s_->Call("POST", "/api/clients",
                     {{"name", "Dossier Lefèvre"}, {"notes", "Donation-partage à préparer"}}, h)
                .status,
            201);
  auto notes = s_->Get("/api/search?q=donation%20PARTAGE", h);
  ASSERT_EQ(notes.status, 200);
  ASSERT_EQ(notes.json()["data"].size(), 1u) << notes.body;
  EXPECT_EQ(notes.json()["data"][0]["type"], "client");
  EXPECT_EQ(notes.json()["data"][0]["snippet"],
            "<mark>Donation</mark>-<mark>partage</mark> à préparer");
  EXPECT_EQ(notes.json()["data"][0]["start"], nullptr);

  EXPECT_EQ(s_->Get("/api/search?q=donation", Bearer(b_->api_key)).json()["data"].size(), 0u);
  auto empty = s_->Get("/api/search?q=%20", h);
  EXPECT_EQ(empty.status, 422);
  EXPECT_EQ(empty.json()["error"]["details"]["q"], "required");
  EXPECT_EQ(s_->Get("/api/search?q=x&limit=0", h).status, 422);
  EXPECT_EQ(s_->Get("/api/search?q=x&cursor=abc", h).status, 422);
}

TEST_F(TranscriptsApiTest, SearchPagesWithTheCursor) {
  RecordingWithTranscript(*a_, "Client pages 1");
  RecordingWithTranscript(*a_, "Client pages 2");
  auto h = Bearer(a_->api_key);
  auto first = s_->Get("/api/search?q=bonjour&limit=1", h);
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(first.json()["data"].size(), 1u);
  ASSERT_TRUE(first.json()["next_cursor"].is_string()) << first.body;
  auto second = s_->Get(
      "/api/search?q=bonjour&limit=1&cursor=" + first.json()["next_cursor"].get<std::string>(), h);
  ASSERT_EQ(second.json()["data"].size(), 1u);
  EXPECT_NE(second.json()["data"][0]["segment_id"], first.json()["data"][0]["segment_id"]);
}

TEST_F(TranscriptsApiTest, AnotherFirmGets404OnEveryTranscriptRoute) {
  std::string rec = RecordingWithTranscript(*a_, "Client secret");
  std::string seg = Transcript(*a_, rec)["segments"][0]["id"];
  std::string base = "/api/recordings/" + rec;
  auto h = Bearer(b_->api_key);
  h.push_back({"If-Match", "\"999\""});
  struct Call {
    std::string method, target, body;
  };
  for (const auto& c : std::vector<Call>{
           {"GET", base + "/transcript", ""},
           {"GET", base + "/transcript/export?format=srt", ""},
           {"GET", base + "/transcript/export?format=bogus", ""},
           {"PATCH", base + "/transcript/segments/" + seg, R"({"text": "piraté", "version": 1})"},
           {"PATCH", base + "/transcript/segments/" + seg, R"({"bogus": 1})"},
           {"PATCH", base + "/transcript/segments/" + seg, "not json"},
           {"GET", base + "/transcript/segments/" + seg + "/revisions", ""},
           {"POST", base + "/transcript/segments/" + seg + "/split", R"({"word_index": 1})"},
           {"POST", base + "/transcript/segments/" + seg + "/split", "not json"},
           {"POST", base + "/transcript/segments/" + seg + "/merge", R"({"version": 1})"},
           {"GET", base + "/peaks", ""},
           {"PATCH", base + "/speakers", R"({"SPEAKER_1": "Pirate"})"},
           {"PATCH", base + "/speakers", "[]"},
       }) {
    auto r = Send(s_->port(), {c.method, c.target, c.body, h});
    EXPECT_EQ(r.status, 404) << c.method << " " << c.target << " → " << r.body;
    EXPECT_EQ(r.body.find("Bonjour"), std::string::npos);
  }
  json t = Transcript(*a_, rec);
  EXPECT_EQ(t["version"], 1);
  EXPECT_EQ(t["segments"][0]["text"], "Bonjour Maître.");
  EXPECT_EQ(t["speakers"][0]["name"], nullptr);
}

}  // namespace
}  // namespace crm::testing
