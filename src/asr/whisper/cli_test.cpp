// The `transcribe` and `models` sub-commands, run in-process on real files: generated
// random-weight models, the jfk.wav fixture, a local HTTP server for `models pull`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "asr/whisper/test_support.h"
#include "cli/engine_commands.h"

namespace crm::asr::whisper {
namespace {

using namespace crm::asr::whisper::testing;
namespace fs = std::filesystem;

struct Output {
  int rc;
  std::string out, err;
};

Output Transcribe(std::vector<std::string> args) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int rc = cli::RunTranscribe(args);
  return {rc, ::testing::internal::GetCapturedStdout(), ::testing::internal::GetCapturedStderr()};
}

Output Models(std::vector<std::string> args) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int rc = cli::RunModels(args);
  return {rc, ::testing::internal::GetCapturedStdout(), ::testing::internal::GetCapturedStderr()};
}

std::string Jfk() { return SourceDir() + "/tests/data/asr/jfk.wav"; }

TEST(TranscribeCommandTest, MissingModelIsOneClearLine) {
  auto r = Transcribe({Jfk(), "--model", "/nonexistent/ggml-base.bin"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "crm-ai transcribe: speech model file not found: /nonexistent/ggml-base.bin\n");
  EXPECT_EQ(r.out, "");
}

TEST(TranscribeCommandTest, DefaultModelComesFromWhisperModelThenDataDir) {
  unsetenv("WHISPER_MODEL");
  setenv("DATA_DIR", "/nonexistent-data", 1);
  auto r = Transcribe({Jfk()});
  EXPECT_NE(r.err.find("speech model file not found: /nonexistent-data/models/ggml-base.bin"),
            std::string::npos)
      << r.err;
  setenv("WHISPER_MODEL", "/elsewhere/m.bin", 1);
  r = Transcribe({Jfk()});
  EXPECT_NE(r.err.find("speech model file not found: /elsewhere/m.bin"), std::string::npos);
  unsetenv("WHISPER_MODEL");
  unsetenv("DATA_DIR");
}

TEST(TranscribeCommandTest, BadOptionsExitWithTwoAndSayWhy) {
  EXPECT_EQ(Transcribe({Jfk(), "--format", "xml"}).rc, 2);
  EXPECT_EQ(Transcribe({Jfk(), "--vad", "maybe"}).rc, 2);
  EXPECT_EQ(Transcribe({Jfk(), "--beam-size", "0"}).rc, 2);
  EXPECT_EQ(Transcribe({Jfk(), "--threads", "x"}).rc, 2);
  auto r = Transcribe({Jfk(), "--colour"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("unknown option --colour"), std::string::npos);
  EXPECT_EQ(Transcribe({}).rc, 2);
}

TEST(TranscribeCommandTest, UnreadableAudioIsReported) {
  TempDir dir;
  ASSERT_TRUE(MakeModel("tiny", "q8_0", dir.File("m.bin")));
  std::ofstream(dir.File("notes.txt")) << "not audio";
  auto r = Transcribe({dir.File("notes.txt"), "--model", dir.File("m.bin")});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("cannot read " + dir.File("notes.txt")), std::string::npos) << r.err;
}

// Checks an SRT rendering: numbered cues with increasing times inside the audio.
void ExpectValidSrt(const std::string& srt, double duration) {
  ASSERT_FALSE(srt.empty());
  EXPECT_EQ(srt.rfind("1\n", 0), 0u) << srt;
  std::istringstream in(srt);
  std::string line;
  double last_start = 0;
  int cues = 0;
  while (std::getline(in, line)) {
    const size_t arrow = line.find(" --> ");
    if (arrow == std::string::npos) continue;
    auto seconds = [](const std::string& t) {
      return std::stoi(t.substr(0, 2)) * 3600 + std::stoi(t.substr(3, 2)) * 60 +
             std::stoi(t.substr(6, 2)) + std::stoi(t.substr(9, 3)) / 1000.0;
    };
    const double start = seconds(line.substr(0, 12)), end = seconds(line.substr(arrow + 5, 12));
    EXPECT_LE(start, end);
    EXPECT_GE(start, last_start);
    EXPECT_LE(end, duration + 1e-3);
    last_start = start;
    ++cues;
  }
  EXPECT_GT(cues, 0);
}

TEST(TranscribeCommandTest, TranscribesJfkToSrtWithBeamSearch) {
  // Default decoding except the temperature fallback, which random weights would always take
  // (six attempts of 224 tokens); the fallback itself is tested on the Transcriber.
  TempDir dir;
  ASSERT_TRUE(MakeModel("tiny", "f16", dir.File("m.bin")));
  auto r = Transcribe({Jfk(), "--model", dir.File("m.bin"), "--format", "srt", "--language",
                       "en", "--threads", "2", "--no-fallback"});
  ASSERT_EQ(r.rc, 0) << r.err;
  ExpectValidSrt(r.out, 11.0);
}

TEST(TranscribeCommandTest, EveryWeightTypeTranscribesWithTokensInVerboseJson) {
  for (const std::string type : {"f32", "q5_1", "q4_0"}) {
    SCOPED_TRACE(type);
    TempDir dir;
    ASSERT_TRUE(MakeModel("tiny", type, dir.File("m.bin")));
    auto r = Transcribe({Jfk(), "--model", dir.File("m.bin"), "--format", "verbose_json",
                         "--beam-size", "1", "--no-fallback", "--vad", "off", "--word-timestamps"});
    ASSERT_EQ(r.rc, 0) << r.err;
    auto doc = nlohmann::json::parse(r.out);
    EXPECT_NEAR(doc["duration"].get<double>(), 11.0, 1e-6);
    ASSERT_TRUE(doc["segments"].is_array());
    double last = 0;
    for (const auto& s : doc["segments"]) {
      EXPECT_FALSE(s["tokens"].empty());
      EXPECT_GE(s["start"].get<double>(), last);
      EXPECT_LE(s["start"].get<double>(), s["end"].get<double>());
      EXPECT_LE(s["end"].get<double>(), 11.0);
      last = s["start"].get<double>();
    }
  }
}

// --no-timestamps decodes plain text: one segment per window holding no timestamp token, from
// the window's start to its end. txt (the default) decodes that way unless --timestamps.
TEST(TranscribeCommandTest, NoTimestampsGivesOneTextSegmentPerWindow) {
  TempDir dir;
  ASSERT_TRUE(MakeModel("tiny", "f16", dir.File("m.bin"), 2));
  const std::vector<std::string> common = {Jfk(),          "--model",      dir.File("m.bin"),
                                           "--beam-size",  "1",            "--no-fallback",
                                           "--vad",        "off",          "--language",
                                           "en"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return Transcribe(args);
  };
  auto plain = with({"--format", "verbose_json", "--no-timestamps"});
  ASSERT_EQ(plain.rc, 0) << plain.err;
  auto doc = nlohmann::json::parse(plain.out);
  ASSERT_EQ(doc["segments"].size(), 1u) << plain.out;
  const auto& seg = doc["segments"][0];
  EXPECT_EQ(seg["start"].get<double>(), 0.0);
  EXPECT_NEAR(seg["end"].get<double>(), 11.0, 1e-6);
  ASSERT_FALSE(seg["tokens"].empty());
  const int timestamp_begin = 50364;  // multilingual vocabulary: <|0.00|>
  for (int t : seg["tokens"].get<std::vector<int>>()) EXPECT_LT(t, timestamp_begin - 1) << t;

  // txt: implied without timestamps (the same text as above), kept with --timestamps.
  auto txt = with({});
  ASSERT_EQ(txt.rc, 0) << txt.err;
  auto txt_plain = with({"--format", "txt", "--no-timestamps"});
  EXPECT_EQ(txt.out, txt_plain.out);
  auto txt_timed = with({"--format", "txt", "--timestamps"});
  ASSERT_EQ(txt_timed.rc, 0) << txt_timed.err;
  EXPECT_NE(txt_timed.out, txt.out);

  auto both = with({"--no-timestamps", "--timestamps"});
  EXPECT_EQ(both.rc, 2);
  EXPECT_NE(both.err.find("cannot both be given"), std::string::npos) << both.err;
}

TEST(TranscribeCommandTest, DiarizeLabelsSegmentsWithSpeakers) {
  TempDir dir;
  ASSERT_TRUE(MakeModel("tiny", "q8_0", dir.File("m.bin")));
  auto r = Transcribe({Jfk(), "--model", dir.File("m.bin"), "--format", "verbose_json",
                       "--beam-size", "1", "--no-fallback", "--language", "en", "--diarize"});
  ASSERT_EQ(r.rc, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_FALSE(doc["segments"].empty());
  for (const auto& s : doc["segments"]) {
    ASSERT_TRUE(s.contains("speaker")) << s.dump();
    EXPECT_EQ(s["speaker"].get<std::string>().rfind("SPEAKER_", 0), 0u);
  }
}

TEST(ModelsCommandTest, ListsModelFilesWithTypeSizeAndLanguages) {
  TempDir dir;
  fs::create_directories(dir.File("models"));
  ASSERT_TRUE(MakeModel("tiny", "q8_0", dir.File("models/ggml-tiny-q8_0.bin")));
  std::ofstream(dir.File("models/broken.bin")) << "nothing";
  setenv("DATA_DIR", dir.path().c_str(), 1);
  auto r = Models({});
  unsetenv("DATA_DIR");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("ggml-tiny-q8_0.bin"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("q8_0"), std::string::npos);
  EXPECT_NE(r.out.find("tiny"), std::string::npos);
  EXPECT_NE(r.out.find("multilingual (99)"), std::string::npos);
  EXPECT_NE(r.out.find("broken.bin"), std::string::npos);
  EXPECT_NE(r.out.find("unreadable"), std::string::npos);
}

// A static HTTP server on a free loopback port, serving `root`.
class LocalServer {
 public:
  explicit LocalServer(const std::string& root) {
    const std::string port_file = root + "/.port";
    pid_ = fork();
    if (pid_ == 0) {
      execl("/usr/bin/python3", "python3", "-c",
            "import http.server,functools,sys\n"
            "h=functools.partial(http.server.SimpleHTTPRequestHandler,directory=sys.argv[1])\n"
            "s=http.server.ThreadingHTTPServer(('127.0.0.1',0),h)\n"
            "open(sys.argv[2]+'.tmp','w').write(str(s.server_address[1]))\n"
            "import os; os.rename(sys.argv[2]+'.tmp',sys.argv[2])\n"
            "s.serve_forever()\n",
            root.c_str(), port_file.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200 && !fs::exists(port_file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    port_ = ReadText(port_file);
  }
  ~LocalServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + port_; }

 private:
  pid_t pid_ = -1;
  std::string port_;
};

TEST(ModelsCommandTest, PullDownloadsAndVerifiesTheChecksum) {
  TempDir served, data;
  fs::copy_file(FixturePath(), served.File("ggml-tiny.bin"));
  ASSERT_EQ(testing::Run("cd " + served.path() + " && sha256sum ggml-tiny.bin > ggml-tiny.bin.sha256"), 0);
  fs::copy_file(FixturePath(), served.File("ggml-small.bin"));  // no checksum published
  LocalServer server(served.path());
  setenv("DATA_DIR", data.path().c_str(), 1);
  setenv("MODELS_BASE_URL", server.url().c_str(), 1);

  auto ok = Models({"pull", "tiny"});
  EXPECT_EQ(ok.rc, 0) << ok.err;
  EXPECT_EQ(ok.out, data.File("models/ggml-tiny.bin") + "\n");
  EXPECT_EQ(ReadText(data.File("models/ggml-tiny.bin")), ReadText(FixturePath()));

  auto bad = Models({"pull", "ggml-tiny.bin", "--force", "--sha256", std::string(64, '0')});
  EXPECT_EQ(bad.rc, 1);
  EXPECT_NE(bad.err.find("checksum mismatch for ggml-tiny.bin"), std::string::npos) << bad.err;

  auto none = Models({"pull", "small"});
  EXPECT_EQ(none.rc, 1);
  EXPECT_NE(none.err.find("no checksum is published for ggml-small.bin"), std::string::npos)
      << none.err;
  EXPECT_FALSE(fs::exists(data.File("models/ggml-small.bin")));

  auto missing = Models({"pull", "medium"});
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.err.find("HTTP 404"), std::string::npos) << missing.err;
  for (const auto& e : fs::directory_iterator(data.File("models")))
    EXPECT_EQ(e.path().extension(), ".bin") << "leftover " << e.path();
  EXPECT_EQ(Models({"pull", "../etc"}).rc, 2);
  unsetenv("DATA_DIR");
  unsetenv("MODELS_BASE_URL");
}

}  // namespace
}  // namespace crm::asr::whisper
