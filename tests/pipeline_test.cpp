// The recording pipeline end to end against the real server and the OpenAI stand-in (real wire
// protocol): upload → job → transcript, progress over Server-Sent Events, the vocabulary prompt,
// jobs routes, the missing-model error of whisper_local, one decode per job with no temporary
// audio left behind, and a `crm-ai worker` killed with SIGKILL mid-job whose job another worker
// completes once, without duplicate segments.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "test_server.h"

extern char** environ;

namespace crm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The OpenAI stand-in (tests/stand_ins/openai_stand_in.py) on an ephemeral port.
std::map<std::string, std::string> OpenAiEnv(const StandIn& s) {
  return {{"TRANSCRIPTION_MODE", "openai"},
          {"OPENAI_BASE_URL", s.url()},
          {"OPENAI_API_KEY", "sk-stand-in"},
          {"VAD", "energy"}};
}

HttpResult UploadWav(const TestServer& s, const std::string& key, const std::string& meeting,
                     const std::string& path) {
  return Send(s.port(), {"POST",
                         "/api/meetings/" + meeting + "/recordings?consent=true",
                         ReadFile(path),
                         {{"Authorization", "Bearer " + key}, {"Content-Type", "audio/wav"}}});
}

HttpResult UploadJfk(const TestServer& s, const std::string& key, const std::string& meeting) {
  return UploadWav(s, key, meeting, SourceDir() + "/tests/data/asr/jfk.wav");
}

// Lines of the server's log that carry `text`.
int CountInLog(const TestServer& s, const std::string& text) {
  int n = 0;
  const std::string log = s.log();
  for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
  return n;
}

// Files of decoded samples (audio::DecodedFile) visible in the data directory's tmp/.
int DecodedFilesIn(const std::string& data_dir) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_dir + "/tmp", ec))
    if (e.path().filename().string().rfind("crm-decoded-", 0) == 0) ++n;
  return n;
}

// Polls the job until `pred` holds or the deadline passes; returns the last job seen.
json WaitJob(const TestServer& s, const std::string& key, const std::string& job,
             const std::function<bool(const json&)>& pred, int seconds) {
  json j;
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    j = s.Get("/api/jobs/" + job, Bearer(key)).json();
    if (pred(j)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return j;
}

std::string MeetingWithParticipants(const TestServer& s, const TestFirm& f,
                                    const std::string& client_name) {
  auto h = Bearer(f.api_key);
  std::string client = s.Call("POST", "/api/clients", {{"name", client_name}}, h).json()["id"];
  return s
      .Call("POST", "/api/meetings",
            {{"client_id", client},
             {"title", "Cession"},
             {"starts_at", "2026-12-01T09:00:00Z"},
             {"participants", json::array({{{"name", "Maître Kowalczyk"}}})}},
            h)
      .json()["id"];
}

TEST(Pipeline, UploadBecomesATranscriptWithProgressOverSseAndTheVocabularyPrompt) {
  StandIn stand_in({"--delay", "0.5"});
  ASSERT_FALSE(stand_in.url().empty());
  auto env = OpenAiEnv(stand_in);
  env["DIARIZATION"] = "on";
  TestServer s(env);
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Pipeline");
  auto h = Bearer(f.api_key);
  ASSERT_EQ(
      s.Call("PATCH", "/api/firm", {{"settings", {{"vocabulary", {"Kbis", "SCI Belvédère"}}}}}, h)
          .status,
      200);
  std::string meeting = MeetingWithParticipants(s, f, "Mme Quesnel-Arbogast");
  auto up = UploadJfk(s, f.api_key, meeting);
  ASSERT_EQ(up.status, 201) << up.body;
  std::string id = up.json()["id"];

  // SSE: progress events, then done. Read until the server ends the stream.
  std::string stream = SendRaw(s.port(),
                               "GET /api/recordings/" + id +
                                   "/events HTTP/1.1\r\nHost: x\r\n"
                                   "Authorization: Bearer " +
                                   f.api_key + "\r\n\r\n",
                               20000);
  EXPECT_NE(stream.find("text/event-stream"), std::string::npos) << stream.substr(0, 300);
  EXPECT_NE(stream.find("event: progress"), std::string::npos) << stream;
  EXPECT_NE(stream.find("event: done"), std::string::npos) << stream;
  EXPECT_EQ(stream.find("event: failed"), std::string::npos) << stream;

  auto rec = s.Get("/api/recordings/" + id, h).json();
  EXPECT_EQ(rec["status"], "done") << rec;
  EXPECT_EQ(rec["processing"]["progress"], 100.0);
  auto transcript = s.Get("/api/recordings/" + id + "/transcript", h);
  ASSERT_EQ(transcript.status, 200) << transcript.body;
  EXPECT_GE(transcript.json()["segments"].size(), 2u) << transcript.body.substr(0, 400);
  // The waveform was computed by the job, from the same decode, before anyone asked for it.
  EXPECT_TRUE(fs::exists(s.data_dir() + "/recordings/" + f.id + "/" + id + ".peaks"));
  auto peaks = s.Get("/api/recordings/" + id + "/peaks", h);
  ASSERT_EQ(peaks.status, 200) << peaks.body;
  EXPECT_EQ(peaks.json()["peaks_per_second"], 50);
  EXPECT_NEAR(peaks.json()["length"].get<double>(), 551, 2);
  EXPECT_EQ(CountInLog(s, "waveform peaks computed by their job"), 0);
  // A recording processed before peaks existed (its blob gone): the request queues a waveform
  // job and answers 202 at once; the job brings back the same peaks.
  fs::remove(s.data_dir() + "/recordings/" + f.id + "/" + id + ".peaks");
  auto preparing = s.Get("/api/recordings/" + id + "/peaks", h);
  ASSERT_EQ(preparing.status, 202) << preparing.body;
  EXPECT_EQ(preparing.json()["state"], "preparing");
  HttpResult again;
  for (int i = 0; i < 100; ++i) {
    again = s.Get("/api/recordings/" + id + "/peaks", h);
    if (again.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["data"], peaks.json()["data"]);
  EXPECT_EQ(CountInLog(s, "waveform peaks computed by their job"), 1);
  // The meeting's one listed participant bounds the diarizer at two voices (a hint, not a count).
  bool bounded = false;
  std::istringstream log(s.log());
  for (std::string line; std::getline(log, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "recording diarized" &&
        j.value("recording_id", "") == id) {
      bounded = true;
      EXPECT_EQ(j["max_speakers"], 2) << line;
      EXPECT_LE(j["speakers"].get<int>(), 2) << line;
    }
  }
  EXPECT_TRUE(bounded) << "no 'recording diarized' line in the server log";

  // The prompt carried the client's and participants' names and the firm's terms.
  json reqs = stand_in.Requests();
  ASSERT_GE(reqs.size(), 1u);
  json prompts = reqs.back()["fields"].value("prompt", json::array());
  ASSERT_EQ(prompts.size(), 1u) << reqs.back();
  std::string prompt = prompts[0];
  for (const char* name : {"Mme Quesnel-Arbogast", "Maître Kowalczyk", "Kbis", "SCI Belvédère"})
    EXPECT_NE(prompt.find(name), std::string::npos) << name << " not in prompt: " << prompt;
  // The key went to the engine's server and never into the logs.
  EXPECT_EQ(s.log().find("sk-stand-in"), std::string::npos);
  // The remote engine sends the file; only diarization read samples, from one decode.
  EXPECT_EQ(CountInLog(s, "recording decoded"), 1) << s.log();
  EXPECT_EQ(DecodedFilesIn(s.data_dir()), 0);
  s.Stop(SIGTERM);
}

TEST(Pipeline, WhisperLocalDecodesEachRecordingOnceAndLeavesNoTemporaryAudio) {
  // A random-weight model (tools/whisper_reference) is enough: the recording is 40 s without
  // speech, so the voice detector finds none and no window is decoded.
  const std::string work =
      (fs::temp_directory_path() / ("crm_pipeline_native_" + std::to_string(getpid()))).string();
  fs::create_directories(work);
  const std::string model = work + "/tiny.bin", silence = work + "/silence.wav";
  ASSERT_EQ(std::system(("/usr/bin/python3 " + SourceDir() +
                         "/tools/whisper_reference/make_model.py --vocab-from " + SourceDir() +
                         "/tests/data/asr/for-tests-ggml-tiny.bin --layout tiny --type q8_0 "
                         "--seed 1 --out " +
                         model + " >/dev/null")
                            .c_str()),
            0);
  ASSERT_EQ(std::system(("ffmpeg -hide_banner -loglevel error -y -f lavfi -i "
                         "anullsrc=r=16000:cl=mono -t 40 -c:a pcm_s16le " +
                         silence)
                            .c_str()),
            0);
  TestServer s({{"TRANSCRIPTION_MODE", "whisper_local"},
                {"WHISPER_MODEL", model},
                {"VAD", "energy"},
                {"DIARIZATION", "on"}});
  // What a worker killed mid-decode could leave: removed when the workers start.
  fs::create_directories(s.data_dir() + "/tmp");
  std::ofstream(s.data_dir() + "/tmp/crm-decoded-4242-17.f32") << "stale samples";
  std::ofstream(s.data_dir() + "/tmp/upload-unrelated") << "not ours";
  ASSERT_TRUE(s.Start()) << s.log();
  EXPECT_EQ(DecodedFilesIn(s.data_dir()), 0) << "stale decoded audio is swept at start";
  EXPECT_TRUE(fs::exists(s.data_dir() + "/tmp/upload-unrelated"));

  TestFirm f = CreateFirm(s, "Cabinet Silence");
  std::string meeting = MeetingWithParticipants(s, f, "Client");
  auto up = UploadWav(s, f.api_key, meeting, silence);
  ASSERT_EQ(up.status, 201) << up.body;
  json job = WaitJob(
      s, f.api_key, up.json()["job_id"],
      [](const json& j) { return j["state"] == "succeeded" || j["state"] == "failed"; }, 60);
  EXPECT_EQ(job["state"], "succeeded") << job << s.log();
  // VAD, transcription and diarization all read the one decode.
  EXPECT_EQ(CountInLog(s, "recording decoded"), 1) << s.log();
  EXPECT_EQ(DecodedFilesIn(s.data_dir()), 0);
  auto t = s.Get("/api/recordings/" + up.json()["id"].get<std::string>() + "/transcript",
                 Bearer(f.api_key));
  EXPECT_EQ(t.status, 200) << t.body;
  s.Stop(SIGTERM);
  fs::remove_all(work);
}

TEST(Pipeline, WhisperLocalWithoutModelFailsWithAClearErrorAndReadinessWarns) {
  TestServer s({{"TRANSCRIPTION_MODE", "whisper_local"},
                {"WHISPER_MODEL", "/nonexistent/ggml-base.bin"},
                {"DIARIZATION", "off"}});
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Sans Modèle");
  std::string meeting = MeetingWithParticipants(s, f, "Client");
  auto up = UploadJfk(s, f.api_key, meeting);
  ASSERT_EQ(up.status, 201) << up.body;
  json job = WaitJob(
      s, f.api_key, up.json()["job_id"], [](const json& j) { return j["state"] == "failed"; }, 10);
  EXPECT_EQ(job["state"], "failed") << job;
  EXPECT_EQ(job["attempts"], 1) << "a missing model is not retried: " << job;
  EXPECT_NE(job.dump().find("speech model file not found: /nonexistent/ggml-base.bin"),
            std::string::npos)
      << job;
  auto rec =
      s.Get("/api/recordings/" + up.json()["id"].get<std::string>(), Bearer(f.api_key)).json();
  EXPECT_EQ(rec["status"], "failed");
  // Readiness lists it as a warning: the server still serves.
  auto ready = s.Get("/health/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_NE(ready.body.find("speech model file not found: /nonexistent/ggml-base.bin"),
            std::string::npos)
      << ready.body;
  EXPECT_NE(ready.body.find("warn"), std::string::npos);
}

TEST(Pipeline, JobsAreListedRetriedAndCancelledByAdmins) {
  StandIn stand_in({"--fail", "10", "--fail-status", "400"});
  auto env = OpenAiEnv(stand_in);
  env["DIARIZATION"] = "off";
  TestServer s(env);
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Jobs");
  std::string meeting = MeetingWithParticipants(s, f, "Client");
  auto up = UploadJfk(s, f.api_key, meeting);
  ASSERT_EQ(up.status, 201);
  std::string job = up.json()["job_id"];
  json j = WaitJob(
      s, f.api_key, job, [](const json& x) { return x["state"] == "failed"; }, 10);
  ASSERT_EQ(j["state"], "failed") << j;
  auto list = s.Get("/api/jobs?state=failed", Bearer(f.api_key)).json();
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["id"], job);
  EXPECT_EQ(Send(s.port(), {"POST", "/api/jobs/" + job + "/retry", "{}", Bearer(f.member_api_key)})
                .status,
            403);
  stand_in.Control({{"reset", true}, {"fail", 0}, {"delay", 3}});
  auto retried = Send(s.port(), {"POST", "/api/jobs/" + job + "/retry", "{}", Bearer(f.api_key)});
  EXPECT_EQ(retried.status, 200) << retried.body;
  j = WaitJob(
      s, f.api_key, job, [](const json& x) { return x["state"] == "running"; }, 10);
  auto cancel = Send(s.port(), {"POST", "/api/jobs/" + job + "/cancel", "{}", Bearer(f.api_key)});
  EXPECT_EQ(cancel.status, 200) << cancel.body;
  j = WaitJob(
      s, f.api_key, job, [](const json& x) { return x["state"] == "cancelled"; }, 10);
  EXPECT_EQ(j["state"], "cancelled") << j;
  // The platform admin's view of the queue.
  auto admin = s.Run(
      {"user", "create", "--platform-admin", "--email", "root@plateforme.fr", "--password-stdin"},
      "motdepasse-solide-1\n");
  ASSERT_EQ(admin.exit_code, 0) << admin.err;
  auto session = Login(s, "root@plateforme.fr", "motdepasse-solide-1");
  ASSERT_TRUE(session);
  auto view = s.Get("/api/admin/jobs", session->Headers());
  ASSERT_EQ(view.status, 200) << view.body;
  EXPECT_TRUE(view.json()["stats"].contains("depth"));
  EXPECT_EQ(s.Get("/api/admin/jobs", Bearer(f.api_key)).status, 403);
}

// One value read with the sqlite3 shell (the database is in WAL mode: readers never block).
std::string Sqlite(const std::string& data_dir, const std::string& sql) {
  std::string cmd = "sqlite3 " + data_dir + "/crm-ai.sqlite3 \"" + sql + "\"";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[512];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p) pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

pid_t SpawnWorker(const std::string& data_dir, const std::map<std::string, std::string>& extra,
                  const std::string& log_path) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    std::string k = kv.substr(0, eq);
    if (k.rfind("QUEUE_", 0) == 0 || k.rfind("OPENAI_", 0) == 0 || k == "DATA_DIR" ||
        k == "TRANSCRIPTION_MODE")
      continue;
    env[k] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : extra) env[k] = v;
  env["DATA_DIR"] = data_dir;
  env["LOG_FORMAT"] = "json";
  env["QUEUE_WORKERS"] = "1";
  std::vector<std::string> kv;
  for (auto& [k, v] : env) kv.push_back(k + "=" + v);
  const char* bin = std::getenv("CRM_BINARY");
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    if (chdir(data_dir.c_str()) != 0) _exit(126);
    std::vector<char*> envp;
    for (auto& e : kv) envp.push_back(e.data());
    envp.push_back(nullptr);
    execle(bin, bin, "worker", nullptr, envp.data());
    _exit(127);
  }
  return pid;
}

TEST(Pipeline, WorkerKilledMidJobLetsAnotherCompleteItOnceWithoutDuplicateSegments) {
  StandIn stand_in({"--delay", "3"});
  auto env = OpenAiEnv(stand_in);
  env["DIARIZATION"] = "off";
  env["QUEUE_WORKERS"] = "0";
  TestServer s(env);
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Résilient");
  std::string meeting = MeetingWithParticipants(s, f, "Client");
  std::string logs = s.data_dir() + "/../" + fs::path(s.data_dir()).filename().string();
  pid_t w1 = SpawnWorker(s.data_dir(), env, logs + ".w1.log");
  pid_t w2 = SpawnWorker(s.data_dir(), env, logs + ".w2.log");
  auto up = UploadJfk(s, f.api_key, meeting);
  ASSERT_EQ(up.status, 201);
  std::string job = up.json()["job_id"];
  json j = WaitJob(
      s, f.api_key, job, [](const json& x) { return x["state"] == "running"; }, 10);
  ASSERT_EQ(j["state"], "running") << j;
  // Worker ids are "<host>:<pid>:<random>/<thread>": kill the process holding the job's lease.
  std::string wid = Sqlite(s.data_dir(), "SELECT worker_id FROM jobs WHERE id = '" + job + "'");
  ASSERT_NE(wid.find(':'), std::string::npos) << wid;
  pid_t holder = std::stoi(wid.substr(wid.find(':') + 1));
  ASSERT_TRUE(holder == w1 || holder == w2) << wid;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // mid-request at the stand-in
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  pid_t survivor = holder == w1 ? w2 : w1;
  j = WaitJob(
      s, f.api_key, job, [](const json& x) { return x["state"] == "succeeded"; }, 30);
  EXPECT_EQ(j["state"], "succeeded") << j;
  EXPECT_EQ(j["attempts"], 2) << j;
  auto t = s.Get("/api/recordings/" + up.json()["id"].get<std::string>() + "/transcript",
                 Bearer(f.api_key));
  ASSERT_EQ(t.status, 200) << t.body;
  // jfk.wav is 11 s; the stand-in answers one segment per 4 s: three, each once.
  json segs = t.json()["segments"];
  EXPECT_EQ(segs.size(), 3u) << t.body.substr(0, 500);
  std::set<double> starts;
  for (auto& seg : segs) starts.insert(seg["start"].get<double>());
  EXPECT_EQ(starts.size(), segs.size());
  kill(survivor, SIGTERM);
  int status = 0;
  waitpid(survivor, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  fs::remove(logs + ".w1.log");
  fs::remove(logs + ".w2.log");
}

}  // namespace
}  // namespace crm::testing
