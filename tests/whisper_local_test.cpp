// Speech through `crm-ai serve` with TRANSCRIPTION_MODE=whisper_local (a random-weight tiny
// model from tools/whisper_reference/make_model.py), Silero-free energy VAD, diarization and the
// word-to-speaker step in one job: the transcript rows, their speakers and their word times must
// agree with each other and with the recording. Random weights say nothing of the words
// themselves; what is checked is that the stages fit together.
#include <cctype>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "test_server.h"

namespace crm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(WhisperLocal, SpeechDiarizationAndWordSpeakersFitTogetherThroughServe) {
  const std::string work =
      (fs::temp_directory_path() / ("crm_whisper_local_" + std::to_string(getpid()))).string();
  fs::create_directories(work);
  const std::string model = work + "/tiny.bin";
  ASSERT_EQ(std::system(("/usr/bin/python3 " + SourceDir() +
                         "/tools/whisper_reference/make_model.py --vocab-from " + SourceDir() +
                         "/tests/data/asr/for-tests-ggml-tiny.bin --layout tiny --type f16 "
                         "--seed 2 --out " +
                         model + " >/dev/null")
                            .c_str()),
            0);
  TestServer s({{"TRANSCRIPTION_MODE", "whisper_local"},
                {"WHISPER_MODEL", model},
                {"VAD", "energy"},
                {"DIARIZATION", "on"}});
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Local");
  auto h = Bearer(f.api_key);
  std::string client = s.Call("POST", "/api/clients", {{"name", "Client"}}, h).json()["id"];
  std::string meeting = s.Call("POST", "/api/meetings",
                               {{"client_id", client},
                                {"title", "Entretien"},
                                {"starts_at", "2026-12-01T09:00:00Z"},
                                {"participants", json::array({{{"name", "Maître A"}}, {{"name", "Madame B"}}})}},
                               h)
                            .json()["id"];
  // Two voices, 30 s (the diarization fixture with its reference).
  auto up = Send(s.port(), {"POST",
                            "/api/meetings/" + meeting + "/recordings?consent=true",
                            ReadFile(SourceDir() + "/tests/data/diarization/sample.wav"),
                            {{"Authorization", "Bearer " + f.api_key},
                             {"Content-Type", "audio/wav"}}});
  ASSERT_EQ(up.status, 201) << up.body;
  const std::string id = up.json()["id"], job = up.json()["job_id"];
  json j;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  while (std::chrono::steady_clock::now() < deadline) {
    j = s.Get("/api/jobs/" + job, h).json();
    if (j["state"] == "succeeded" || j["state"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(j["state"], "succeeded") << j << s.log().substr(0, 3000);
  EXPECT_NE(s.log().find("recording diarized"), std::string::npos) << "the diarizer ran";

  auto r = s.Get("/api/recordings/" + id + "/transcript", h);
  ASSERT_EQ(r.status, 200) << r.body;
  json t = r.json();
  const double duration = 30.0;
  ASSERT_FALSE(t["segments"].empty()) << r.body.substr(0, 1000);
  std::set<std::string> labels;
  for (const auto& sp : t["speakers"]) labels.insert(sp["label"].get<std::string>());
  EXPECT_GE(labels.size(), 1u) << "speakers came from the diarizer";
  EXPECT_LE(labels.size(), 3u) << "at most the participants plus one";
  double previous_start = -1;
  int words = 0;
  for (const auto& seg : t["segments"]) {
    double start = seg["start"], end = seg["end"];
    EXPECT_GE(start, 0);
    EXPECT_LE(end, duration + 0.5);
    EXPECT_LE(start, end) << seg;
    EXPECT_GE(start, previous_start) << "segments in time order";
    previous_start = start;
    ASSERT_TRUE(seg["speaker"].is_string()) << seg;
    EXPECT_TRUE(labels.count(seg["speaker"].get<std::string>())) << seg;
    std::string text;
    double previous_word = start - 0.05;
    for (const auto& w : seg["words"]) {
      ++words;
      double ws = w["start"], we = w["end"];
      EXPECT_LE(ws, we) << w;
      EXPECT_GE(ws, start - 0.05) << "a word lies inside its segment: " << w << seg["start"];
      EXPECT_LE(we, end + 0.05) << "a word lies inside its segment: " << w << seg["end"];
      EXPECT_GE(ws, previous_word - 0.05) << "words in time order";
      previous_word = ws;
      text += w["text"].get<std::string>();
    }
    // A segment split at a speaker change holds exactly its words' text (spacing aside: the
    // API gives each word without the engine's leading space).
    if (!seg["words"].empty()) {
      auto squeeze = [](std::string v) {
        std::erase_if(v, [](unsigned char c) { return std::isspace(c); });
        return v;
      };
      EXPECT_EQ(squeeze(text), squeeze(seg["text"].get<std::string>())) << seg;
    }
  }
  EXPECT_GT(words, 0) << "word timestamps came through";
  s.Stop(SIGTERM);
  fs::remove_all(work);
}

}  // namespace
}  // namespace crm::testing
