// Speakers known to the firm, through the real server: recordings of a real two-speaker file
// (tests/data/diarization/sample.wav) are uploaded and transcribed by the pipeline (OpenAI
// stand-in, real diarization); the pipeline stores their speakers' voiceprints and matches them
// against the firm's enrolled ones (pipeline::MatchKnownSpeakers after diarization). Then
// enrolment (from a diarized speaker and from time ranges decoded from the stored file), automatic
// names with their confidence, an unknown voice left unnamed, similar speakers, applied names,
// rename and deletion, roles, other firms' ids (404 everywhere, inside lists too), too little
// speech (422), and renames racing applied names.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "audio/decoder.h"
#include "audio/vad.h"
#include "diarization/diarization.h"
#include "pipeline/speaker_matching.h"
#include "storage/store.h"
#include "test_server.h"

namespace crm::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string SampleWav() { return SourceDir() + "/tests/data/diarization/sample.wav"; }

diarization::Diarization DiarizeSample() {
  auto pcm = audio::DecodeFile(SampleWav());
  EXPECT_TRUE(pcm.ok());
  auto vad = audio::MakeVoiceActivityDetector({"energy", ""});
  auto speech = vad->Detect(pcm->data(), pcm->size());
  EXPECT_TRUE(speech.ok());
  diarization::Diarizer diarizer;
  auto d = diarizer.Run(pcm->data(), pcm->size(), *speech);
  EXPECT_TRUE(d.ok()) << d.error().message;
  return d.ok() ? *d : diarization::Diarization{};
}

class VoiceprintsApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stand_in_ = new StandIn();
    s_ = new TestServer({{"TRANSCRIPTION_MODE", "openai"},
                         {"OPENAI_BASE_URL", stand_in_->url()},
                         {"OPENAI_API_KEY", "sk-stand-in"},
                         {"VAD", "energy"},
                         {"DIARIZATION", "on"}});
    ASSERT_TRUE(s_->Start()) << s_->log();
    a_ = new TestFirm(CreateFirm(*s_, "Cabinet A"));
    b_ = new TestFirm(CreateFirm(*s_, "Cabinet B"));
    auto store = storage::OpenSqlite({s_->data_dir() + "/crm-ai.sqlite3", 2});
    ASSERT_TRUE(store.ok()) << store.error().message;
    db_ = store->release();
    diarization_ = new diarization::Diarization(DiarizeSample());
    ASSERT_EQ(diarization_->num_speakers, 2);
  }
  static void TearDownTestSuite() {
    delete diarization_;
    delete db_;
    delete b_;
    delete a_;
    delete s_;
    delete stand_in_;
  }

  static std::string Meeting(const TestFirm& f, const json& participants) {
    auto h = Bearer(f.api_key);
    std::string client =
        s_->Call("POST", "/api/clients", {{"name", "Succession Martin"}}, h).json()["id"];
    return s_
        ->Call("POST", "/api/meetings",
               {{"client_id", client},
                {"title", "Rendez-vous"},
                {"starts_at", "2026-11-20T09:00:00Z"},
                {"participants", participants}},
               h)
        .json()["id"];
  }

  // Uploads sample.wav to the meeting and waits for its transcript (speakers matched by the
  // pipeline).
  static std::string ProcessedRecording(const TestFirm& f, const std::string& meeting) {
    auto up = Send(s_->port(),
                   {"POST",
                    "/api/meetings/" + meeting + "/recordings?consent=true",
                    ReadFile(SampleWav()),
                    {{"Authorization", "Bearer " + f.api_key}, {"Content-Type", "audio/wav"}}});
    EXPECT_EQ(up.status, 201) << up.body;
    std::string id = up.json().value("id", "");
    auto deadline = Clock::now() + std::chrono::seconds(60);
    json rec;
    while (Clock::now() < deadline) {
      rec = s_->Get("/api/recordings/" + id, Bearer(f.api_key)).json();
      if (rec["status"] == "done" || rec["status"] == "failed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(rec["status"], "done") << rec;
    return id;
  }

  static json Speakers(const TestFirm& f, const std::string& rec) {
    auto r = s_->Get("/api/recordings/" + rec + "/speakers", Bearer(f.api_key));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  static json Speaker(const json& speakers, const std::string& label) {
    for (const auto& s : speakers["speakers"])
      if (s["label"] == label) return s;
    return json();
  }

  static StandIn* stand_in_;
  static TestServer* s_;
  static TestFirm *a_, *b_;
  static storage::Store* db_;
  static diarization::Diarization* diarization_;
};
StandIn* VoiceprintsApiTest::stand_in_ = nullptr;
TestServer* VoiceprintsApiTest::s_ = nullptr;
TestFirm* VoiceprintsApiTest::a_ = nullptr;
TestFirm* VoiceprintsApiTest::b_ = nullptr;
storage::Store* VoiceprintsApiTest::db_ = nullptr;
diarization::Diarization* VoiceprintsApiTest::diarization_ = nullptr;

TEST_F(VoiceprintsApiTest, EnrolledSpeakerIsNamedInTheNextRecordingAndTheOtherVoiceIsNot) {
  auto admin = Bearer(a_->api_key), member = Bearer(a_->member_api_key);
  std::string meeting = Meeting(*a_, json::array({{{"name", "Me Kowalczyk"}}}));
  std::string first = ProcessedRecording(*a_, meeting);

  json before = Speakers(*a_, first);
  ASSERT_EQ(before["speakers"].size(), 2u) << before;
  for (const auto& s : before["speakers"]) {
    EXPECT_TRUE(s["has_voiceprint"].get<bool>()) << s;
    EXPECT_GT(s["seconds_of_speech"].get<double>(), 4.0) << s;
    EXPECT_EQ(s["name"], nullptr);
    ASSERT_EQ(s["suggestions"]["participants"].size(), 1u);
    EXPECT_EQ(s["suggestions"]["participants"][0]["name"], "Me Kowalczyk");
  }

  json body = {{"name", "Maître Dupont"},
               {"sources", {{{"recording_id", first}, {"label", "SPEAKER_1"}}}}};
  EXPECT_EQ(s_->Call("POST", "/api/voiceprints", body, member).status, 403);
  auto enrolled = s_->Call("POST", "/api/voiceprints", body, admin);
  ASSERT_EQ(enrolled.status, 201) << enrolled.body;
  json v = enrolled.json();
  EXPECT_EQ(v["name"], "Maître Dupont");
  EXPECT_EQ(v["source_count"], 1);
  EXPECT_EQ(v["sources"][0]["label"], "SPEAKER_1");
  EXPECT_EQ(enrolled.body.find("crm-voiceprint"), std::string::npos) << "the vector leaked";
  EXPECT_FALSE(v.contains("voiceprint"));

  // The same audio again: SPEAKER_1 gets the name automatically, SPEAKER_2 stays unnamed.
  std::string second = ProcessedRecording(*a_, meeting);
  json after = Speakers(*a_, second);
  json s1 = Speaker(after, "SPEAKER_1"), s2 = Speaker(after, "SPEAKER_2");
  EXPECT_EQ(s1["name"], "Maître Dupont") << after;
  EXPECT_EQ(s1["origin"], "automatic");
  EXPECT_GE(s1["confidence"].get<double>(), 0.9);
  EXPECT_EQ(s1["voiceprint_id"], v["id"]);
  EXPECT_EQ(s2["name"], nullptr) << after;
  EXPECT_EQ(s2["origin"], nullptr);
  EXPECT_TRUE(s2["suggestions"]["voiceprints"].empty()) << s2;
  EXPECT_EQ(after.dump().find("crm-voiceprint"), std::string::npos);
  // The transcript shows the name on SPEAKER_1's segments; members read all of it.
  json t = s_->Get("/api/recordings/" + second + "/transcript", member).json();
  bool named = false;
  for (const auto& seg : t["segments"]) named = named || seg["speaker_name"] == "Maître Dupont";
  EXPECT_TRUE(named) << t.dump().substr(0, 500);
  EXPECT_EQ(s_->Get("/api/recordings/" + second + "/speakers", member).status, 200);

  // Similar speakers of the firm's other recordings, best first.
  auto similar = s_->Get("/api/recordings/" + first + "/speakers/SPEAKER_1/similar", member);
  ASSERT_EQ(similar.status, 200) << similar.body;
  ASSERT_GE(similar.json()["data"].size(), 1u);
  json top = similar.json()["data"][0];
  EXPECT_EQ(top["recording_id"], second);
  EXPECT_EQ(top["label"], "SPEAKER_1");
  EXPECT_EQ(top["client_name"], "Succession Martin");
  EXPECT_EQ(top["recorded_at"], "2026-11-20T09:00:00Z");
  EXPECT_EQ(top["origin"], "automatic");
  EXPECT_EQ(
      s_->Get("/api/recordings/" + first + "/speakers/SPEAKER_1/similar?min_confidence=2", member)
          .status,
      422);
  EXPECT_EQ(s_->Get("/api/recordings/" + first + "/speakers/SPEAKER_7/similar", member).status,
            404);

  // Renaming the voiceprint renames its automatic names; deleting it clears them (audited).
  std::string url = "/api/voiceprints/" + v["id"].get<std::string>();
  EXPECT_EQ(s_->Call("PATCH", url, {{"name", "Me Jeanne Dupont"}}, member).status, 403);
  auto renamed = s_->Call("PATCH", url, {{"name", "Me Jeanne Dupont"}, {"version", 1}}, admin);
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.json()["automatic_names"], 1);
  EXPECT_EQ(Speaker(Speakers(*a_, second), "SPEAKER_1")["name"], "Me Jeanne Dupont");
  EXPECT_EQ(s_->Call("PATCH", url, {{"name", "X"}, {"version", 1}}, admin).status, 409);
  EXPECT_EQ(s_->Call("DELETE", url, {}, member).status, 403);
  EXPECT_EQ(s_->Call("DELETE", url, {}, admin).status, 204);
  EXPECT_EQ(s_->Get(url, admin).status, 404);
  EXPECT_EQ(Speaker(Speakers(*a_, second), "SPEAKER_1")["name"], nullptr);
  auto audit = s_->Get("/api/audit?limit=200", admin).body;
  for (const char* action : {"voiceprint.enrol", "voiceprint.update", "voiceprint.delete"})
    EXPECT_NE(audit.find(action), std::string::npos) << action;

  // A confirmed name applied to the other recording, all or nothing on versions.
  ASSERT_EQ(s_->Call("PATCH", "/api/recordings/" + first + "/speakers",
                     {{"SPEAKER_1", "Maître Dupont"}}, member)
                .status,
            200);
  std::string apply = "/api/recordings/" + first + "/speakers/SPEAKER_1/apply";
  auto stale = s_->Call(
      "POST", apply,
      {{"targets", {{{"recording_id", second}, {"label", "SPEAKER_1"}, {"version", 1}}}}}, member);
  EXPECT_EQ(stale.status, 409) << stale.body;
  int64_t version = Speakers(*a_, second)["version"];
  auto applied = s_->Call(
      "POST", apply,
      {{"targets", {{{"recording_id", second}, {"label", "SPEAKER_1"}, {"version", version}}}}},
      member);
  ASSERT_EQ(applied.status, 200) << applied.body;
  EXPECT_EQ(applied.json()["applied"][0]["version"], version + 1);
  json s1_now = Speaker(Speakers(*a_, second), "SPEAKER_1");
  EXPECT_EQ(s1_now["name"], "Maître Dupont");
  EXPECT_EQ(s1_now["origin"], "confirmed");
  EXPECT_EQ(s1_now["confidence"], nullptr);
  EXPECT_NE(s_->Get("/api/audit?limit=200", admin).body.find("speakers.apply"), std::string::npos);
}

TEST_F(VoiceprintsApiTest, TimeRangesAreDecodedFromTheStoredFileAndTooLittleSpeechIs422) {
  auto admin = Bearer(a_->api_key);
  std::string rec = ProcessedRecording(*a_, Meeting(*a_, json::array()));
  // Stretches of sample.rttm where the second speaker talks alone.
  json ok = {{"name", "Mme Martin"},
             {"sources",
              {{{"recording_id", rec}, {"start", 14.7}, {"end", 17.92}},
               {{"recording_id", rec}, {"ranges", {{21.78, 27.85}}}}}}};
  auto r = s_->Call("POST", "/api/voiceprints", ok, admin);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NEAR(r.json()["seconds_of_speech"].get<double>(), 3.22 + 6.07, 0.05);
  EXPECT_EQ(r.json()["sources"][1]["ranges"][0], json({{"start", 21.78}, {"end", 27.85}}));
  // Matching the recording again names the second speaker from the ranges' voiceprint.
  ASSERT_TRUE(pipeline::MatchKnownSpeakers(*db_, a_->id, rec, *diarization_).ok());
  json speakers = Speakers(*a_, rec);
  int named = 0;
  for (const auto& s : speakers["speakers"]) named += s["name"] == "Mme Martin";
  EXPECT_EQ(named, 1) << speakers;

  auto short_source = s_->Call(
      "POST", "/api/voiceprints",
      {{"name", "X"}, {"sources", {{{"recording_id", rec}, {"start", 10.0}, {"end", 10.5}}}}},
      admin);
  EXPECT_EQ(short_source.status, 422) << short_source.body;
  EXPECT_EQ(short_source.json()["error"]["details"]["sources[0]"], "too_short");
  auto short_total = s_->Call("POST", "/api/voiceprints",
                              {{"name", "X"},
                               {"sources",
                                {{{"recording_id", rec}, {"start", 14.7}, {"end", 16.2}},
                                 {{"recording_id", rec}, {"start", 22.0}, {"end", 23.5}}}}},
                              admin);
  ASSERT_EQ(short_total.status, 422) << short_total.body;
  EXPECT_EQ(
      short_total.json()["error"]["message"].get<std::string>().rfind("Pas assez de parole", 0), 0u)
      << short_total.body;
  EXPECT_EQ(short_total.json()["error"]["details"]["min_seconds"], 4.0);
  auto malformed = s_->Call(
      "POST", "/api/voiceprints",
      {{"name", 3}, {"colour", "red"}, {"sources", {{{"recording_id", rec}, {"label", 5}}}}},
      admin);
  EXPECT_EQ(malformed.status, 422);
  EXPECT_EQ(
      malformed.json()["error"]["details"],
      json({{"name", "must_be_string"}, {"colour", "unknown_field"}, {"sources[0]", "invalid"}}));
  EXPECT_EQ(Send(s_->port(), {"POST", "/api/voiceprints", "{\"name\":", admin}).status, 400);
}

TEST_F(VoiceprintsApiTest, AnotherFirmsIdsAreNotFoundEvenInsideLists) {
  auto a = Bearer(a_->api_key), b = Bearer(b_->api_key);
  std::string a_rec = ProcessedRecording(*a_, Meeting(*a_, json::array()));
  auto v = s_->Call(
      "POST", "/api/voiceprints",
      {{"name", "Secret A"}, {"sources", {{{"recording_id", a_rec}, {"label", "SPEAKER_2"}}}}}, a);
  ASSERT_EQ(v.status, 201) << v.body;
  std::string a_vp = v.json()["id"];
  json a_names = Speakers(*a_, a_rec);
  std::string b_rec = ProcessedRecording(*b_, Meeting(*b_, json::array()));

  // A's voiceprint never names B's speakers, and B sees none of A's.
  for (const auto& s : Speakers(*b_, b_rec)["speakers"]) {
    EXPECT_EQ(s["name"], nullptr) << s;
    EXPECT_TRUE(s["suggestions"]["voiceprints"].empty()) << s;
  }
  EXPECT_EQ(s_->Get("/api/voiceprints", b).json()["data"].size(), 0u);
  EXPECT_TRUE(s_->Get("/api/recordings/" + b_rec + "/speakers/SPEAKER_1/similar", b)
                  .json()["data"]
                  .empty());
  // A's ids in B's requests: in the path, in sources (even with a bad body), in targets, as a link.
  EXPECT_EQ(s_->Get("/api/voiceprints/" + a_vp, b).status, 404);
  EXPECT_EQ(
      s_->Call("POST", "/api/voiceprints",
               {{"name", "X"}, {"sources", {{{"recording_id", a_rec}, {"label", "SPEAKER_1"}}}}}, b)
          .status,
      404);
  EXPECT_EQ(s_->Call("POST", "/api/voiceprints",
                     {{"name", 7}, {"sources", {{{"recording_id", a_rec}, {"label", 1}}}}}, b)
                .status,
            404);
  std::string b_apply = "/api/recordings/" + b_rec + "/speakers/SPEAKER_1/apply";
  EXPECT_EQ(
      s_->Call("POST", b_apply,
               {{"name", "X"}, {"targets", {{{"recording_id", a_rec}, {"label", "SPEAKER_1"}}}}}, b)
          .status,
      404);
  EXPECT_EQ(s_->Call("POST", b_apply,
                     {{"bogus", 1}, {"targets", {{{"recording_id", a_rec}, {"label", 3}}}}}, b)
                .status,
            404);
  json contacts = s_->Get("/api/clients?limit=1", a).json();
  std::string a_client = contacts["data"][0]["id"];
  std::string a_contact =
      s_->Call("POST", "/api/clients/" + a_client + "/contacts", {{"name", "Contact A"}}, a)
          .json()["id"];
  auto b_vp = s_->Call("POST", "/api/voiceprints",
                       {{"name", "B"},
                        {"contact_id", a_contact},
                        {"sources", {{{"recording_id", b_rec}, {"label", "SPEAKER_1"}}}}},
                       b);
  EXPECT_EQ(b_vp.status, 404) << b_vp.body;
  // A's speakers are untouched.
  EXPECT_EQ(Speakers(*a_, a_rec), a_names);
  EXPECT_EQ(s_->Get("/api/voiceprints/" + a_vp, a).json()["version"], 1);
}

TEST_F(VoiceprintsApiTest, RenamesRacingAppliedNamesLeaveOneNameAndOneVersionPerChange) {
  auto member = Bearer(a_->member_api_key);
  std::string meeting = Meeting(*a_, json::array());
  std::string source = ProcessedRecording(*a_, meeting);
  std::string target = ProcessedRecording(*a_, meeting);
  ASSERT_EQ(s_->Call("PATCH", "/api/recordings/" + source + "/speakers",
                     {{"SPEAKER_2", "Mme Martin"}}, member)
                .status,
            200);
  int64_t start = Speakers(*a_, target)["version"];
  std::atomic<int> renamed{0}, applied{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      auto r = s_->Call("PATCH", "/api/recordings/" + target + "/speakers",
                        {{"SPEAKER_2", "Renommé " + std::to_string(i)}}, member);
      (r.status == 200 ? renamed : other)++;
    });
    threads.emplace_back([&, i] {
      auto r = s_->Call("POST", "/api/recordings/" + source + "/speakers/SPEAKER_2/apply",
                        {{"name", "Appliqué " + std::to_string(i)},
                         {"targets", {{{"recording_id", target}, {"label", "SPEAKER_2"}}}}},
                        member);
      (r.status == 200 ? applied : other)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  json now = Speakers(*a_, target);
  EXPECT_EQ(now["version"].get<int64_t>(), start + renamed + applied);
  std::string name = Speaker(now, "SPEAKER_2")["name"];
  EXPECT_TRUE(name.rfind("Renommé ", 0) == 0 || name.rfind("Appliqué ", 0) == 0) << name;
  EXPECT_EQ(Speaker(now, "SPEAKER_2")["origin"], "confirmed");
  auto rows = db_->Query(
      "SELECT name FROM transcript_speakers WHERE recording_id = ? AND label = 'SPEAKER_2'",
      {target});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text("name"), name);
}

}  // namespace
}  // namespace crm::testing
