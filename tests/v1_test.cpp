// The OpenAI-compatible endpoint against the real server: the official `openai` npm SDK
// (tools/node/node_modules) transcribes through crm-ai, whose engine is the OpenAI stand-in
// (TRANSCRIPTION_MODE=openai, real wire protocol); errors in OpenAI's shape; the audio checked
// locally first; no file outlives a request; the upload limit holds.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_server.h"

namespace crm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

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

std::string Multipart(const std::map<std::string, std::string>& fields, const std::string& file,
                      const std::string& filename = "a.wav") {
  std::string b;
  for (auto& [k, v] : fields)
    b += "--B0\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n";
  b += "--B0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
       "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + file + "\r\n--B0--\r\n";
  return b;
}

class V1 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stand_in_ = new StandIn();
    ASSERT_FALSE(stand_in_->url().empty());
    jfk_ = new std::string(ReadFile(SourceDir() + "/tests/data/asr/jfk.wav"));
    s_ = new TestServer({{"TRANSCRIPTION_MODE", "openai"},
                         {"OPENAI_BASE_URL", stand_in_->url()},
                         {"OPENAI_API_KEY", "sk-stand-in"},
                         {"QUEUE_WORKERS", "0"},
                         {"UPLOAD_MAX_BYTES", std::to_string(jfk_->size())}});
    ASSERT_TRUE(s_->Start()) << s_->log();
    f_ = new TestFirm(CreateFirm(*s_, "Cabinet OpenAI"));
  }
  static void TearDownTestSuite() {
    delete s_;
    delete stand_in_;
  }
  static HttpResult Post(const std::string& body, const std::string& key,
                         const std::string& type = "multipart/form-data; boundary=B0") {
    return Send(s_->port(), {"POST",
                             "/v1/audio/transcriptions",
                             body,
                             {{"Authorization", "Bearer " + key}, {"Content-Type", type}}});
  }
  static bool TmpEmpty() {
    std::error_code ec;
    std::string tmp = s_->data_dir() + "/tmp";
    if (!fs::exists(tmp, ec)) return true;
    for (auto& e : fs::recursive_directory_iterator(tmp, ec))
      if (e.is_regular_file()) return false;
    return true;
  }
  static StandIn* stand_in_;
  static TestServer* s_;
  static TestFirm* f_;
  static std::string* jfk_;
};
StandIn* V1::stand_in_ = nullptr;
TestServer* V1::s_ = nullptr;
TestFirm* V1::f_ = nullptr;
std::string* V1::jfk_ = nullptr;

TEST_F(V1, TheOfficialOpenAiSdkTranscribesThroughCrmAi) {
  std::string dir =
      s_->data_dir() + "/../" + fs::path(s_->data_dir()).filename().string() + "-node";
  fs::create_directories(dir);
  std::string script = dir + "/client.js";
  std::ofstream(script) << R"JS(
const fs = require('fs');
const OpenAI = require('openai');
const [,, baseURL, apiKey, audio, notAudio] = process.argv;
const client = new OpenAI({ apiKey, baseURL, maxRetries: 0 });
(async () => {
  const out = {};
  const v = await client.audio.transcriptions.create({
    file: fs.createReadStream(audio), model: 'whisper-1', language: 'en',
    response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'] });
  out.verbose = v;
  out.text = await client.audio.transcriptions.create({
    file: fs.createReadStream(audio), model: 'whisper-1', response_format: 'text' });
  out.models = (await client.models.list()).data.map(m => m.id);
  try {
    await client.audio.transcriptions.create({ file: fs.createReadStream(notAudio), model: 'whisper-1' });
    out.error = null;
  } catch (e) {
    out.error = { status: e.status, type: e.error && e.error.type, message: e.message };
  }
  try {
    await new OpenAI({ apiKey: 'crm_wrong', baseURL, maxRetries: 0 }).models.list();
  } catch (e) {
    out.auth_status = e.status;
  }
  console.log(JSON.stringify(out));
})().catch(e => { console.error(String(e)); process.exit(1); });
)JS";
  std::string not_audio = dir + "/notes.wav";
  std::ofstream(not_audio) << "Ceci n'est pas de l'audio.";
  std::string base = "http://127.0.0.1:" + std::to_string(s_->port()) + "/v1";
  int code = -1;
  std::string out = RunCapture("NODE_PATH=" + SourceDir() + "/tools/node/node_modules node " +
                                   script + " " + base + " " + f_->api_key + " " + SourceDir() +
                                   "/tests/data/asr/jfk.wav " + not_audio + " 2>&1",
                               &code);
  ASSERT_EQ(code, 0) << out;
  json r = json::parse(out, nullptr, false);
  ASSERT_FALSE(r.is_discarded()) << out;
  EXPECT_NEAR(r["verbose"]["duration"].get<double>(), 11.0, 0.1) << r["verbose"];
  EXPECT_GE(r["verbose"]["segments"].size(), 2u);
  EXPECT_GE(r["verbose"]["words"].size(), 5u);
  EXPECT_FALSE(r["text"].get<std::string>().empty());
  EXPECT_NE(std::find(r["models"].begin(), r["models"].end(), "whisper-1"), r["models"].end());
  EXPECT_EQ(r["error"]["status"], 400) << r["error"];
  EXPECT_EQ(r["error"]["type"], "invalid_request_error") << r["error"];
  EXPECT_EQ(r["auth_status"], 401);
  EXPECT_TRUE(TmpEmpty());
  fs::remove_all(dir);
}

TEST_F(V1, BadRequestsGetOpenAiShapedErrorsAndNoFileOutlivesThem) {
  auto text = Post(Multipart({{"model", "whisper-1"}}, "pas de l'audio"), f_->api_key);
  EXPECT_EQ(text.status, 400);
  json e = text.json()["error"];
  EXPECT_EQ(e["type"], "invalid_request_error") << text.body;
  EXPECT_EQ(e["param"], "file");
  EXPECT_TRUE(e.contains("code") && e.contains("message"));
  std::string truncated = jfk_->substr(0, 44);
  EXPECT_EQ(Post(Multipart({{"model", "whisper-1"}}, truncated), f_->api_key).status, 400);
  auto no_model = Post(Multipart({}, *jfk_), f_->api_key);
  EXPECT_EQ(no_model.status, 400);
  EXPECT_EQ(no_model.json()["error"]["param"], "model");
  auto bad_format =
      Post(Multipart({{"model", "whisper-1"}, {"response_format", "docx"}}, *jfk_), f_->api_key);
  EXPECT_EQ(bad_format.status, 400);
  EXPECT_EQ(bad_format.json()["error"]["param"], "response_format");
  auto not_multipart = Post(*jfk_, f_->api_key, "audio/wav");
  EXPECT_EQ(not_multipart.status, 400);
  EXPECT_EQ(not_multipart.json()["error"]["type"], "invalid_request_error") << not_multipart.body;
  auto anonymous = Send(s_->port(), {"POST",
                                     "/v1/audio/transcriptions",
                                     Multipart({{"model", "whisper-1"}}, *jfk_),
                                     {{"Content-Type", "multipart/form-data; boundary=B0"}}});
  EXPECT_EQ(anonymous.status, 401);
  // Refused before the handler, still in OpenAI's error shape.
  EXPECT_EQ(anonymous.json()["error"]["code"], "invalid_api_key") << anonymous.body;
  EXPECT_TRUE(anonymous.json()["error"].contains("param"));
  // The limit is the file's: exactly UPLOAD_MAX_BYTES passes, one more byte does not.
  auto srt =
      Post(Multipart({{"model", "whisper-1"}, {"response_format", "srt"}}, *jfk_), f_->api_key);
  EXPECT_EQ(srt.status, 200) << srt.body;
  EXPECT_NE(srt.body.find("00:00:00,000 --> "), std::string::npos) << srt.body;
  auto too_big = Post(Multipart({{"model", "whisper-1"}}, *jfk_ + "x"), f_->api_key);
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(too_big.json()["error"]["type"], "invalid_request_error") << too_big.body;
  EXPECT_TRUE(TmpEmpty());
}

}  // namespace
}  // namespace crm::testing
