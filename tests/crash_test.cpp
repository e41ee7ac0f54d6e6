// kill -9 at over a hundred points of recording jobs, then the state a restart must reach.
//
// `crm-ai serve` is killed with SIGKILL while uploads stream in (mid-body, while the blob is
// stored, the row inserted, the job queued, after the 201), and `crm-ai worker` processes are
// killed with SIGKILL at random offsets while they decode, transcribe (the OpenAI stand-in),
// diarize and write the transcript. Afterwards one worker drains the queue and the test checks:
// every recording's job completed exactly once (one job per recording, succeeded), no transcript
// segment twice, every 201 names a recording, no orphan file (intake files, decoded samples,
// checkpoints, staged blobs, blobs without a row), and `PRAGMA integrity_check` is ok. The counts
// are printed. The kill points are chosen by time (a real SIGKILL from this process), no hook.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
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

constexpr int kServeKills = 36;
constexpr int kWorkerKills = 72;
constexpr int kPlainUploads = 6;

std::string Sqlite(const std::string& data_dir, const std::string& sql) {
  std::string cmd = "sqlite3 -cmd '.timeout 5000' " + data_dir + "/crm-ai.sqlite3 \"" + sql + "\"";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[512];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p) pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

int SqliteInt(const std::string& data_dir, const std::string& sql) {
  std::string v = Sqlite(data_dir, sql);
  return v.empty() ? -1 : std::stoi(v);
}

pid_t SpawnWorker(const std::string& data_dir, const std::map<std::string, std::string>& extra,
                  const std::string& log_path) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string k = kv.substr(0, eq);
    if (k.rfind("QUEUE_", 0) == 0 || k.rfind("OPENAI_", 0) == 0 || k.rfind("APP_", 0) == 0 ||
        k == "DATA_DIR" || k == "TRANSCRIPTION_MODE")
      continue;
    env[k] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : extra) env[k] = v;
  env["DATA_DIR"] = data_dir;
  env["LOG_FORMAT"] = "json";
  env["QUEUE_WORKERS"] = "2";
  std::vector<std::string> kv;
  for (auto& [k, v] : env) kv.push_back(k + "=" + v);
  const char* bin = std::getenv("CRM_BINARY");
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(fd, 2);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    if (chdir(data_dir.c_str()) != 0) _exit(126);
    std::vector<char*> envp;
    for (auto& e : kv) envp.push_back(e.data());
    envp.push_back(nullptr);
    execle(bin, bin, "worker", nullptr, envp.data());
    _exit(127);
  }
  return pid;
}

// A raw upload sent in 32 KB pieces, so that a kill can land in the middle of the body.
// Returns the recording id when the server answered 201, "" otherwise.
std::string PacedUpload(int port, const std::string& key, const std::string& meeting,
                        const std::string& body) {
  RawConnection c(port);
  if (!c.ok()) return "";
  c.Write("POST /api/meetings/" + meeting + "/recordings?consent=true HTTP/1.1\r\n"
          "Host: 127.0.0.1\r\nAuthorization: Bearer " + key +
          "\r\nContent-Type: audio/wav\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n");
  for (size_t at = 0; at < body.size(); at += 32 * 1024) {
    c.Write(body.substr(at, 32 * 1024));
    std::this_thread::sleep_for(std::chrono::microseconds(600));
  }
  std::string answer = c.ReadAll(5000);
  if (answer.rfind("HTTP/1.1 201", 0) != 0) return "";
  auto at = answer.find("\r\n\r\n");
  if (at == std::string::npos) return "";
  json j = json::parse(answer.substr(at + 4), nullptr, false);
  return j.is_object() && j.contains("id") ? j["id"].get<std::string>() : "";
}

// Files under `dir` (recursively), relative to `root`.
std::vector<std::string> FilesUnder(const std::string& root, const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(root + "/" + dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(root + "/" + dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file()) out.push_back(fs::relative(it->path(), root).string());
  return out;
}

TEST(Crash, KillNineOfServeAndWorkersAtOverAHundredPointsLosesAndDuplicatesNothing) {
  StandIn stand_in({"--delay", "0.15"});
  ASSERT_FALSE(stand_in.url().empty());
  std::map<std::string, std::string> env = {{"TRANSCRIPTION_MODE", "openai"},
                                            {"OPENAI_BASE_URL", stand_in.url()},
                                            {"OPENAI_API_KEY", "sk-stand-in"},
                                            {"VAD", "energy"},
                                            {"DIARIZATION", "on"},
                                            {"QUEUE_TRIES", "100"},
                                            {"RATE_LIMIT_API", "off"}};
  auto serve_env = env;
  serve_env["QUEUE_WORKERS"] = "0";
  TestServer s(serve_env);
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Coupure");
  auto h = Bearer(f.api_key);
  std::string client = s.Call("POST", "/api/clients", {{"name", "Client"}}, h).json()["id"];
  std::string meeting = s.Call("POST", "/api/meetings",
                               {{"client_id", client},
                                {"title", "Coupure"},
                                {"starts_at", "2026-12-01T09:00:00Z"}},
                               h)
                            .json()["id"];
  ASSERT_FALSE(meeting.empty());
  // jfk.wav three times over: 33 s, about 1 MB, long enough for kills inside every stage.
  const std::string work = s.data_dir() + "/../" + fs::path(s.data_dir()).filename().string();
  const std::string wav_path = work + ".rec.wav";
  ASSERT_EQ(std::system(("ffmpeg -hide_banner -loglevel error -y -stream_loop 2 -i " +
                         SourceDir() + "/tests/data/asr/jfk.wav -c:a pcm_s16le " + wav_path)
                            .c_str()),
            0);
  const std::string wav = ReadFile(wav_path);
  fs::remove(wav_path);
  ASSERT_GT(wav.size(), 500'000u);

  std::mt19937 rng(20261207);
  std::set<std::string> created;  // ids answered with 201
  int serve_kills = 0, uploads_started = 0;

  // 1. serve killed while two uploads stream in, at a random offset.
  for (int round = 0; round < kServeKills; ++round) {
    if (round > 0) {
      ASSERT_TRUE(s.Start()) << s.log();
    }
    std::vector<std::string> ids(2);
    std::vector<std::thread> senders;
    for (int i = 0; i < 2; ++i, ++uploads_started)
      senders.emplace_back([&, i] { ids[i] = PacedUpload(s.port(), f.api_key, meeting, wav); });
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 160)(rng)));
    s.Stop(SIGKILL);
    ++serve_kills;
    for (auto& t : senders) t.join();
    for (auto& id : ids)
      if (!id.empty()) created.insert(id);
  }
  ASSERT_TRUE(s.Start()) << s.log();
  for (int i = 0; i < kPlainUploads; ++i) {
    auto up = Send(s.port(), {"POST",
                              "/api/meetings/" + meeting + "/recordings?consent=true",
                              wav,
                              {{"Authorization", "Bearer " + f.api_key},
                               {"Content-Type", "audio/wav"}}});
    ASSERT_EQ(up.status, 201) << up.body;
    created.insert(up.json()["id"].get<std::string>());
  }

  // 2. workers killed while they process the queue.
  const std::string worker_log = work + ".workers.log";
  std::map<std::string, int> stages;  // what the running jobs were doing when killed
  int worker_kills = 0;
  for (int round = 0; round < kWorkerKills; ++round) {
    pid_t w = SpawnWorker(s.data_dir(), env, worker_log);
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 1200)(rng)));
    std::string running = Sqlite(s.data_dir(),
                                 "SELECT COALESCE(stage, 'claimed') FROM jobs WHERE state = "
                                 "'running' AND worker_id LIKE '%:" +
                                     std::to_string(w) + ":%'");
    kill(w, SIGKILL);
    waitpid(w, nullptr, 0);
    ++worker_kills;
    std::istringstream lines(running);
    std::string stage;
    bool any = false;
    while (std::getline(lines, stage)) {
      ++stages[stage];
      any = true;
    }
    if (!any) ++stages["idle"];
  }

  // 3. one worker drains the queue (killed jobs come back when their lease runs out).
  pid_t last = SpawnWorker(s.data_dir(), env, worker_log);
  auto deadline = Clock::now() + std::chrono::seconds(200);
  int pending = -1;
  while (Clock::now() < deadline) {
    pending = SqliteInt(s.data_dir(),
                        "SELECT COUNT(*) FROM jobs WHERE kind = 'recording.transcribe' AND state IN "
                        "('queued', 'running')");
    if (pending == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  kill(last, SIGTERM);
  waitpid(last, nullptr, 0);
  EXPECT_EQ(pending, 0) << ReadFile(worker_log).substr(0, 4000);

  const std::string& d = s.data_dir();
  int recordings = SqliteInt(d, "SELECT COUNT(*) FROM recordings");
  // The recordings' jobs; the periodic ones (mail.tick) are not part of the count.
  const std::string recording_jobs = "FROM jobs WHERE kind = 'recording.transcribe'";
  int jobs = SqliteInt(d, "SELECT COUNT(*) " + recording_jobs);
  int succeeded = SqliteInt(d, "SELECT COUNT(*) " + recording_jobs + " AND state = 'succeeded'");
  int attempts = SqliteInt(d, "SELECT COALESCE(SUM(attempts), 0) " + recording_jobs);
  int transcripts = SqliteInt(d, "SELECT COUNT(*) FROM transcripts");
  int segments = SqliteInt(d, "SELECT COUNT(*) FROM transcript_segments");
  // The same audio gives the same transcript however often its job was interrupted.
  int fewest = SqliteInt(d, "SELECT MIN(n) FROM (SELECT COUNT(*) AS n FROM transcript_segments "
                            "GROUP BY recording_id)");
  int most = SqliteInt(d, "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM transcript_segments "
                          "GROUP BY recording_id)");
  int duplicated = SqliteInt(d, "SELECT COUNT(*) FROM (SELECT recording_id, start_s FROM "
                                "transcript_segments GROUP BY recording_id, start_s HAVING "
                                "COUNT(*) > 1)");
  int without_job = SqliteInt(d, "SELECT COUNT(*) FROM recordings r WHERE (SELECT COUNT(*) FROM "
                                 "jobs j WHERE j.dedupe_key = 'transcribe:' || r.id) != 1");
  std::string integrity = Sqlite(d, "PRAGMA integrity_check");

  std::set<std::string> keys;
  {
    std::istringstream rows(Sqlite(d, "SELECT blob_key FROM recordings"));
    for (std::string k; std::getline(rows, k);) keys.insert(k);
  }
  int missing_201 = 0;
  for (const auto& id : created)
    if (SqliteInt(d, "SELECT COUNT(*) FROM recordings WHERE id = '" + id + "'") != 1)
      ++missing_201;
  // A recording's blob, and beside it its waveform peaks (KEY.peaks), written by its job.
  const std::string kPeaks = ".peaks";
  auto is_peaks = [&](const std::string& f) {
    return f.size() > kPeaks.size() && f.compare(f.size() - kPeaks.size(), kPeaks.size(), kPeaks) == 0;
  };
  std::vector<std::string> orphans;
  int blobs = 0, peaks = 0;
  for (const auto& file : FilesUnder(d, "recordings")) {
    const bool p = is_peaks(file);
    const std::string owner = p ? file.substr(0, file.size() - kPeaks.size()) : file;
    if (!keys.count(owner)) orphans.push_back(file);
    (p ? peaks : blobs)++;
  }
  for (const char* dir : {"tmp", "work"})
    for (const auto& file : FilesUnder(d, dir)) orphans.push_back(file);

  std::printf(
      "kill -9: %d of serve during %d uploads, %d of workers (running stages at the kill:",
      serve_kills, uploads_started, worker_kills);
  for (auto& [stage, n] : stages) std::printf(" %s %d", stage.c_str(), n);
  std::printf(")\nafter restart: %d recordings (%zu answered 201), %d blobs, %d jobs, %d succeeded, "
              "%d attempts in all, %d transcripts, %d segments (%d-%d per recording), %d duplicated, "
              "%d orphan files, integrity_check %s\n",
              recordings, created.size(), blobs, jobs, succeeded, attempts, transcripts, segments,
              fewest, most, duplicated, static_cast<int>(orphans.size()), integrity.c_str());

  EXPECT_GE(serve_kills + worker_kills, 100);
  EXPECT_GE(recordings, static_cast<int>(created.size()));
  EXPECT_EQ(missing_201, 0) << "every 201 names a recording";
  EXPECT_EQ(jobs, recordings) << "one job per recording";
  EXPECT_EQ(without_job, 0);
  EXPECT_EQ(succeeded, recordings) << "every job completed";
  EXPECT_EQ(transcripts, recordings);
  // 33 s at the stand-in's 4 s per segment: 9 segments (more where a speaker change splits one),
  // the same number for every recording, each once.
  EXPECT_GE(fewest, 9);
  EXPECT_EQ(fewest, most);
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(blobs, recordings);
  EXPECT_LE(peaks, recordings) << "at most one waveform per recording";
  EXPECT_TRUE(orphans.empty()) << orphans.size() << " orphans, first: " << orphans.front();
  EXPECT_EQ(integrity, "ok");
  s.Stop(SIGTERM);
  fs::remove(worker_log);
}

}  // namespace
}  // namespace crm::testing
