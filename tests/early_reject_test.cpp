// An early refusal (401, 404 of a foreign meeting, 413 over UPLOAD_MAX_BYTES) must reach a
// client that is still sending its body: the official OpenAI SDK, curl (with and without
// `Expect: 100-continue`), Python `requests` and headless Chromium's fetch of a File, each with a
// 5 MB body, read the JSON error instead of a reset. Nothing of a refused body is stored, and a
// sender that never stops is still cut off.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "test_server.h"

namespace crm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kBodyBytes = 5 * 1000 * 1000;
constexpr int kUploadMax = 1 << 20;

std::string RunCapture(const std::string& cmd, int* code) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

struct Case {
  std::string name, path, key;
  int status;
  bool multipart = false;
  bool v1 = false;
};

class EarlyReject : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new TestServer({{"UPLOAD_MAX_BYTES", std::to_string(kUploadMax)}, {"QUEUE_WORKERS", "0"}});
    ASSERT_TRUE(s_->Start()) << s_->log();
    a_ = new TestFirm(CreateFirm(*s_, "Cabinet A"));
    b_ = new TestFirm(CreateFirm(*s_, "Cabinet B"));
    auto meeting_of = [](const TestFirm& f) {
      auto h = Bearer(f.api_key);
      std::string client = s_->Call("POST", "/api/clients", {{"name", "Client"}}, h).json()["id"];
      return s_
          ->Call("POST", "/api/meetings",
                 {{"client_id", client}, {"title", "RDV"}, {"starts_at", "2026-12-01T09:00:00Z"}},
                 h)
          .json()["id"]
          .get<std::string>();
    };
    own_meeting_ = new std::string(meeting_of(*a_));
    foreign_meeting_ = new std::string(meeting_of(*b_));
    dir_ = new std::string(s_->data_dir() + "-clients");
    fs::create_directories(*dir_);
    file_ = new std::string(*dir_ + "/rendez-vous.wav");
    std::string bytes(kBodyBytes, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 7919) & 0xff);
    std::ofstream(*file_, std::ios::binary) << bytes;
    std::string up = "/recordings?consent=true";
    cases_ = new std::vector<Case>{
        {"401 raw upload", "/api/meetings/" + *own_meeting_ + up, "crm_wrong_key", 401},
        {"413 raw upload", "/api/meetings/" + *own_meeting_ + up, a_->api_key, 413},
        {"404 foreign meeting", "/api/meetings/" + *foreign_meeting_ + up, a_->api_key, 404},
        {"401 /v1 multipart", "/v1/audio/transcriptions", "crm_wrong_key", 401, true, true},
        {"413 /v1 multipart", "/v1/audio/transcriptions", a_->api_key, 413, true, true},
    };
    json cj = {{"base", "http://127.0.0.1:" + std::to_string(s_->port())}, {"size", kBodyBytes}};
    for (auto& c : *cases_)
      cj["cases"].push_back(
          {{"name", c.name}, {"path", c.path}, {"key", c.key}, {"multipart", c.multipart}});
    cases_path_ = new std::string(*dir_ + "/cases.json");
    std::ofstream(*cases_path_) << cj.dump();
  }
  static void TearDownTestSuite() {
    // What each client got, for the record: the refusal read, or a connection error.
    for (auto& [who, n] : *tally_)
      std::printf("%s: %d of %d refused requests read as the JSON error\n", who.c_str(), n.first,
                  n.second);
    fs::remove_all(*dir_);
    delete s_;
  }

  // The JSON error of a case, in the route's shape.
  static void ExpectError(const Case& c, const json& got, const std::string& who) {
    const json& b = got.value("json", json());
    bool read = got.value("status", json()) == c.status && b.is_object() && b.contains("error");
    auto& [answered, total] = (*tally_)[who];
    answered += read ? 1 : 0;
    ++total;
    ASSERT_TRUE(got.contains("status")) << who << " " << c.name << ": " << got;
    EXPECT_EQ(got["status"], c.status) << who << " " << c.name << ": " << got;
    const json& body = got["json"];
    ASSERT_TRUE(body.is_object() && body.contains("error")) << who << " " << c.name << ": " << got;
    EXPECT_TRUE(body["error"].contains("message")) << who << " " << c.name;
    if (c.v1)
      EXPECT_TRUE(body["error"].contains("type")) << who << " " << c.name << ": " << body;
    else
      EXPECT_TRUE(body["error"].contains("code")) << who << " " << c.name << ": " << body;
  }

  // Nothing of a refused body is kept: no file in tmp or the recordings, no row.
  static void ExpectNothingStored() {
    std::error_code ec;
    for (const char* sub : {"/tmp", "/recordings"})
      for (auto& e : fs::recursive_directory_iterator(s_->data_dir() + sub, ec))
        EXPECT_FALSE(e.is_regular_file()) << e.path();
    for (const auto* m : {own_meeting_, foreign_meeting_}) {
      const TestFirm& f = m == own_meeting_ ? *a_ : *b_;
      auto list = s_->Get("/api/recordings?meeting_id=" + *m, Bearer(f.api_key));
      EXPECT_EQ(list.status, 200) << list.body;
      EXPECT_TRUE(list.json()["data"].empty()) << list.body;
    }
  }

  static TestServer* s_;
  static TestFirm *a_, *b_;
  static std::string *own_meeting_, *foreign_meeting_, *dir_, *file_, *cases_path_;
  static std::vector<Case>* cases_;
  static std::map<std::string, std::pair<int, int>>* tally_;
};
std::map<std::string, std::pair<int, int>>* EarlyReject::tally_ =
    new std::map<std::string, std::pair<int, int>>();
TestServer* EarlyReject::s_ = nullptr;
TestFirm* EarlyReject::a_ = nullptr;
TestFirm* EarlyReject::b_ = nullptr;
std::string* EarlyReject::own_meeting_ = nullptr;
std::string* EarlyReject::foreign_meeting_ = nullptr;
std::string* EarlyReject::dir_ = nullptr;
std::string* EarlyReject::file_ = nullptr;
std::string* EarlyReject::cases_path_ = nullptr;
std::vector<Case>* EarlyReject::cases_ = nullptr;

TEST_F(EarlyReject, CurlReadsTheErrorWithAndWithoutExpectContinue) {
  for (const char* expect : {"", " -H 'Expect:'"}) {
    for (const auto& c : *cases_) {
      std::string data = c.multipart
                             ? " -F model=whisper-1 -F 'file=@" + *file_ + ";type=audio/wav'"
                             : " -H 'Content-Type: audio/wav' --data-binary @" + *file_;
      int code = -1;
      std::string out = RunCapture(
          "curl -sS --max-time 30 -X POST -H 'Authorization: Bearer " + c.key + "'" + expect +
              data + " -w '\\n%{http_code}' 'http://127.0.0.1:" + std::to_string(s_->port()) +
              c.path + "' 2>&1",
          &code);
      std::string who = std::string("curl") + (*expect ? " without Expect" : " with Expect");
      EXPECT_EQ(code, 0) << who << " " << c.name << ": " << out;
      auto nl = out.rfind('\n');
      ASSERT_NE(nl, std::string::npos) << out;
      json got = {{"status", std::atoi(out.c_str() + nl + 1)},
                  {"json", json::parse(out.substr(0, nl), nullptr, false)}};
      ExpectError(c, got, who);
    }
  }
  ExpectNothingStored();
}

TEST_F(EarlyReject, PythonRequestsReadsTheError) {
  int code = -1;
  std::string out =
      RunCapture("/usr/bin/python3 " + SourceDir() + "/tests/clients/early_reject.py " +
                     *cases_path_ + " " + *file_ + " 2>&1",
                 &code);
  ASSERT_EQ(code, 0) << out;
  json r = json::parse(out, nullptr, false);
  ASSERT_TRUE(r.is_array() && r.size() == cases_->size()) << out;
  for (size_t i = 0; i < cases_->size(); ++i) ExpectError((*cases_)[i], r[i], "python requests");
  ExpectNothingStored();
}

// The OpenAI SDK with a wrong key (3 tries) and Chromium's fetch of a File, in one node run.
TEST_F(EarlyReject, OpenAiSdkAndChromiumFetchReadTheError) {
  std::string profile = *dir_ + "/chromium-profile";
  fs::create_directories(profile);
  int code = -1;
  std::string out = RunCapture("NODE_PATH=" + SourceDir() + "/tools/node/node_modules node " +
                                   SourceDir() + "/tests/clients/early_reject.cjs " + *cases_path_ +
                                   " " + *file_ + " /usr/bin/chromium " + profile + " 2>&1",
                               &code);
  ASSERT_EQ(code, 0) << out;
  json r = json::parse(out, nullptr, false);
  ASSERT_TRUE(r.is_object()) << out;
  ASSERT_EQ(r["sdk"].size(), 3u) << out;
  for (auto& t : r["sdk"]) {
    auto& [answered, total] =
        (*tally_)["openai sdk (" + t.value("class", std::string("resolved")) + ")"];
    answered += t.value("status", json()) == 401 ? 1 : 0;
    ++total;
    EXPECT_EQ(t["class"], "AuthenticationError") << t;
    EXPECT_TRUE(t["auth_error"].get<bool>()) << t;
    EXPECT_EQ(t["status"], 401) << t;
  }
  ASSERT_EQ(r["browser"].size(), cases_->size()) << out;
  for (size_t i = 0; i < cases_->size(); ++i)
    ExpectError((*cases_)[i], r["browser"][i], "chromium fetch");
  ExpectNothingStored();
}

// `Expect: 100-continue` on a refused request: the final status comes instead of 100.
TEST_F(EarlyReject, ExpectContinueGetsTheFinalStatusInsteadOf100) {
  RawConnection c(s_->port());
  ASSERT_TRUE(c.Write(
      "POST /api/meetings/" + *foreign_meeting_ +
      "/recordings?consent=true HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + a_->api_key +
      "\r\nContent-Type: audio/wav\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n"));
  std::string got = c.ReadAll(3000);
  EXPECT_EQ(got.rfind("HTTP/1.1 404", 0), 0u) << got;
  EXPECT_EQ(got.find("100 Continue"), std::string::npos) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
}

// A sender that never stops is cut off (linger bounded in bytes and time), after reading the
// answer; the server keeps serving.
TEST_F(EarlyReject, AnEndlessSenderIsCutOff) {
  RawConnection c(s_->port());
  ASSERT_TRUE(c.Write(
      "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer crm_wrong\r\n"
      "Content-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000000000\r\n\r\n"));
  auto start = Clock::now();
  std::string answer;
  const uint64_t endless = 100'000'000'000ull;
  uint64_t sent = c.Flood(endless, std::chrono::seconds(20), &answer);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_LE(secs, 12.0) << "still accepted after " << secs << " s and " << sent << " bytes";
  EXPECT_LE(sent, 400ull << 20);
  EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << answer.substr(0, 200);
  EXPECT_EQ(s_->Get("/health/live").status, 200);
}

// A client that trickles its refused body is closed once the linger time is over.
TEST_F(EarlyReject, ATricklingSenderIsClosedAfterTheLingerTime) {
  RawConnection c(s_->port());
  ASSERT_TRUE(
      c.Write("POST /api/meetings/" + *own_meeting_ +
              "/recordings?consent=true HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer crm_wrong\r\n"
              "Content-Type: audio/wav\r\nContent-Length: 100000000\r\n\r\n"));
  auto start = Clock::now();
  bool cut = false;
  std::string answer;
  while (Clock::now() - start < std::chrono::seconds(20)) {
    answer += c.ReadAll(500);  // returns at once after the server's half-close
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!c.Write("x")) {
      cut = true;
      break;
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_TRUE(cut);
  EXPECT_GE(secs, 9.0);   // lingered the whole linger time (10 s)...
  EXPECT_LE(secs, 14.0);  // ...and not longer
  EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << answer.substr(0, 200);
}

}  // namespace
}  // namespace crm::testing
