// Recordings against the real server: streamed uploads (raw, multipart, chunked) under
// UPLOAD_MAX_BYTES, resumable uploads, refusal of files that are not usable audio, media facts,
// hashes and duplicates, consent, the audio with HTTP Range, deletion, and another firm's 404s.
// Workers are off (QUEUE_WORKERS=0): processing is pipeline_test.cpp's subject.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/ids.h"
#include "test_server.h"

namespace crm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Files left in a directory (recursively), e.g. DATA_DIR/tmp after a refused upload.
std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file()) out.push_back(e.path().string());
  return out;
}

std::string Multipart(const std::string& boundary, const std::map<std::string, std::string>& fields,
                      const std::string& file, const std::string& filename = "rdv.wav") {
  std::string b;
  for (auto& [k, v] : fields)
    b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v +
         "\r\n";
  b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
       filename + "\"\r\nContent-Type: audio/wav\r\n\r\n" + file + "\r\n--" + boundary + "--\r\n";
  return b;
}

class Recordings : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    InitCrypto();
    dir_ = new std::string((fs::temp_directory_path() / ("crm-rec-" + RandomHex(6))).string());
    fs::create_directories(*dir_);
    // One second of 16 kHz mono 16-bit PCM: 32,044 bytes with its header.
    std::string wav = *dir_ + "/one.wav";
    std::string cmd =
        "ffmpeg -v error -y -f lavfi -i sine=frequency=440:duration=1 -ar 16000 -ac 1 "
        "-c:a pcm_s16le " +
        wav;
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    wav_ = new std::string(ReadFile(wav));
    s_ = new TestServer(
        {{"UPLOAD_MAX_BYTES", std::to_string(wav_->size())}, {"QUEUE_WORKERS", "0"}});
    ASSERT_TRUE(s_->Start()) << s_->log();
    a_ = new TestFirm(CreateFirm(*s_, "Cabinet A"));
    b_ = new TestFirm(CreateFirm(*s_, "Cabinet B"));
    auto h = Bearer(a_->api_key);
    client_ = new std::string(
        s_->Call("POST", "/api/clients", {{"name", "Mme Lefèvre"}}, h).json()["id"]);
    meeting_ = new std::string(
        s_->Call("POST", "/api/meetings",
                 {{"client_id", *client_}, {"title", "RDV"}, {"starts_at", "2026-12-01T09:00:00Z"}},
                 h)
            .json()["id"]);
  }
  static void TearDownTestSuite() {
    delete s_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
  }
  static HttpResult Raw(const std::string& target, const std::string& body,
                        const std::string& key) {
    return Send(s_->port(), {"POST",
                             target,
                             body,
                             {{"Authorization", "Bearer " + key}, {"Content-Type", "audio/wav"}}});
  }
  static HttpResult UploadRaw(const std::string& body, const std::string& query = "consent=true") {
    return Raw("/api/meetings/" + *meeting_ + "/recordings?" + query, body, a_->api_key);
  }
  static std::vector<std::string> TmpFiles() { return FilesUnder(s_->data_dir() + "/tmp"); }

  static TestServer* s_;
  static TestFirm *a_, *b_;
  static std::string *dir_, *wav_, *client_, *meeting_;
};
TestServer* Recordings::s_ = nullptr;
TestFirm* Recordings::a_ = nullptr;
TestFirm* Recordings::b_ = nullptr;
std::string *Recordings::dir_, *Recordings::wav_, *Recordings::client_, *Recordings::meeting_;

TEST_F(Recordings, UploadAtExactLimitPassesAndOneByteMoreIs413WithNoTempFileLeft) {
  auto ok = UploadRaw(*wav_);
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ok.json()["size_bytes"], wav_->size());
  // Declared length over the limit: refused before the body is read.
  auto over = UploadRaw(*wav_ + "x");
  EXPECT_EQ(over.status, 413) << over.body;
  EXPECT_EQ(over.json()["error"]["code"], "payload_too_large");
  // Chunked, so only streaming can tell.
  std::string chunked = "POST /api/meetings/" + *meeting_ +
                        "/recordings?consent=true HTTP/1.1\r\nHost: x\r\n"
                        "Authorization: Bearer " +
                        a_->api_key + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body = *wav_ + "xy";
  for (size_t i = 0; i < body.size(); i += 4096) {
    std::string piece = body.substr(i, 4096);
    std::ostringstream len;
    len << std::hex << piece.size();
    chunked += len.str() + "\r\n" + piece + "\r\n";
  }
  chunked += "0\r\n\r\n";
  std::string answer = SendRaw(s_->port(), chunked, 5000);
  EXPECT_NE(answer.find(" 413 "), std::string::npos) << answer.substr(0, 200);
  // Multipart: the limit is the file's, not the envelope's.
  auto mp = Send(s_->port(), {"POST",
                              "/api/meetings/" + *meeting_ + "/recordings",
                              Multipart("XyZ", {{"consent", "oui"}}, *wav_),
                              {{"Authorization", "Bearer " + a_->api_key},
                               {"Content-Type", "multipart/form-data; boundary=XyZ"}}});
  EXPECT_EQ(mp.status, 201) << mp.body;
  auto mp_over = Send(s_->port(), {"POST",
                                   "/api/meetings/" + *meeting_ + "/recordings",
                                   Multipart("XyZ", {{"consent", "oui"}}, *wav_ + "z"),
                                   {{"Authorization", "Bearer " + a_->api_key},
                                    {"Content-Type", "multipart/form-data; boundary=XyZ"}}});
  EXPECT_EQ(mp_over.status, 413) << mp_over.body;
  EXPECT_TRUE(TmpFiles().empty()) << TmpFiles().front();
}

TEST_F(Recordings, KeepsMediaFactsHashConsentAndReportsDuplicates) {
  std::string query = "consent=false&title=Premier%20rendez-vous&filename=rdv.wav";
  auto c = Raw("/api/clients/" + *client_ + "/recordings?" + query, *wav_, a_->api_key);
  ASSERT_EQ(c.status, 201) << c.body;
  json r = c.json();
  EXPECT_EQ(r["consent"], false);
  EXPECT_EQ(r["client_id"], *client_);
  EXPECT_TRUE(r["meeting_id"].is_null());
  EXPECT_EQ(r["title"], "Premier rendez-vous");
  EXPECT_EQ(r["original_name"], "rdv.wav");
  EXPECT_EQ(r["sha256"], Sha256Hex(*wav_));
  EXPECT_EQ(r["media"]["container"], "wav");
  EXPECT_EQ(r["media"]["codec"], "pcm_s16le");
  EXPECT_EQ(r["media"]["sample_rate"], 16000);
  EXPECT_EQ(r["media"]["channels"], 1);
  EXPECT_NEAR(r["media"]["duration_seconds"].get<double>(), 1.0, 0.01);
  EXPECT_EQ(r["status"], "queued");
  EXPECT_FALSE(r["job_id"].is_null());
  // The file is in the blob store under recordings/<firm>/<id>, byte for byte.
  EXPECT_EQ(ReadFile(s_->data_dir() + "/recordings/" + a_->id + "/" + r["id"].get<std::string>()),
            *wav_);
  // Same bytes, same client: reported (the earlier uploads of this client).
  auto again = Raw("/api/clients/" + *client_ + "/recordings?consent=true", *wav_, a_->api_key);
  ASSERT_EQ(again.status, 201);
  auto dups = again.json()["duplicates"];
  EXPECT_NE(std::find(dups.begin(), dups.end(), r["id"]), dups.end()) << dups;
  // Another client: not a duplicate.
  auto h = Bearer(a_->api_key);
  std::string other = s_->Call("POST", "/api/clients", {{"name", "Autre"}}, h).json()["id"];
  auto third = Raw("/api/clients/" + other + "/recordings?consent=true", *wav_, a_->api_key);
  EXPECT_EQ(third.json()["duplicates"].size(), 0u);
}

TEST_F(Recordings, ConsentIsRequired) {
  auto missing = UploadRaw(*wav_, "title=x");
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(missing.json()["error"]["details"]["consent"], "required");
  auto bad = UploadRaw(*wav_, "consent=peut-etre");
  EXPECT_EQ(bad.status, 422);
  auto mp = Send(s_->port(), {"POST",
                              "/api/meetings/" + *meeting_ + "/recordings",
                              Multipart("b0", {{"title", "x"}}, *wav_),
                              {{"Authorization", "Bearer " + a_->api_key},
                               {"Content-Type", "multipart/form-data; boundary=b0"}}});
  EXPECT_EQ(mp.status, 422) << mp.body;
  EXPECT_TRUE(TmpFiles().empty());
}

TEST_F(Recordings, CorruptTruncatedEmptyAndNonAudioFilesAreRefusedAndNothingIsKept) {
  auto before = s_->Get("/api/recordings?limit=200", Bearer(a_->api_key)).json()["data"].size();
  size_t files_before = FilesUnder(s_->data_dir() + "/recordings").size();
  std::string text = "Ceci n'est pas un enregistrement, juste du texte.\n";
  std::string header_only = wav_->substr(0, 44);
  std::string garbage(20000, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919) % 251);
  std::string corrupt = wav_->substr(0, 12) + garbage;  // RIFF header, then noise
  for (auto& [name, body] :
       std::vector<std::pair<std::string, std::string>>{{"text", text},
                                                        {"empty", ""},
                                                        {"header only", header_only},
                                                        {"garbage", garbage},
                                                        {"corrupt", corrupt}}) {
    auto r = UploadRaw(body);
    EXPECT_TRUE(r.status == 415 || r.status == 422) << name << ": " << r.status << " " << r.body;
    std::string code = r.json()["error"]["code"];
    EXPECT_TRUE(code == "unsupported_media_type" || code == "undecodable_audio") << name << code;
  }
  EXPECT_EQ(UploadRaw(text).status, 415);
  EXPECT_EQ(s_->Get("/api/recordings?limit=200", Bearer(a_->api_key)).json()["data"].size(),
            before);
  EXPECT_EQ(FilesUnder(s_->data_dir() + "/recordings").size(), files_before);
  EXPECT_TRUE(TmpFiles().empty());
  EXPECT_TRUE(FilesUnder(s_->data_dir() + "/tmp/blobs").empty());
}

TEST_F(Recordings, ResumableUploadResumesWhereItStoppedAndBecomesARecording) {
  auto h = Bearer(a_->api_key);
  h.push_back({"Upload-Length", std::to_string(wav_->size())});
  auto created =
      s_->Call("POST", "/api/uploads",
               {{"meeting_id", *meeting_}, {"consent", true}, {"filename", "long.wav"}}, h);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.json()["id"];
  std::string target = "/api/uploads/" + id;
  auto patch = [&](int64_t offset, const std::string& bytes) {
    return Send(s_->port(), {"PATCH",
                             target,
                             bytes,
                             {{"Authorization", "Bearer " + a_->api_key},
                              {"Upload-Offset", std::to_string(offset)},
                              {"Content-Type", "application/offset+octet-stream"}}});
  };
  EXPECT_EQ(patch(0, wav_->substr(0, 10000)).status, 204);
  // A wrong offset is a conflict that tells the right one.
  auto stale = patch(0, wav_->substr(0, 100));
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.json()["error"]["details"]["offset"], 10000);
  // The connection drops halfway through a request: what arrived is kept.
  {
    RawConnection c(s_->port());
    c.Write("PATCH " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + a_->api_key +
            "\r\nUpload-Offset: 10000\r\nContent-Length: " + std::to_string(wav_->size() - 10000) +
            "\r\n\r\n" + wav_->substr(10000, 5000));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  int64_t offset = 0;
  for (int i = 0; i < 50 && offset != 15000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto head =
        Send(s_->port(), {"HEAD", target, "", {{"Authorization", "Bearer " + a_->api_key}}});
    ASSERT_EQ(head.status, 200);
    offset = std::stoll(head.header("upload-offset"));
  }
  ASSERT_EQ(offset, 15000);
  // Too many bytes for the declared length.
  EXPECT_EQ(patch(offset, wav_->substr(offset) + "extra").status, 413);
  auto done = patch(offset, wav_->substr(offset));
  ASSERT_EQ(done.status, 201) << done.body;
  json rec = done.json();
  EXPECT_EQ(rec["sha256"], Sha256Hex(*wav_));
  EXPECT_EQ(rec["original_name"], "long.wav");
  EXPECT_EQ(rec["meeting_id"], *meeting_);
  EXPECT_EQ(s_->Get(target, Bearer(a_->api_key)).json()["recording_id"], rec["id"]);
  EXPECT_EQ(patch(wav_->size(), "x").status, 409);
  EXPECT_TRUE(TmpFiles().empty());
  // Another firm sees nothing of it.
  EXPECT_EQ(s_->Get(target, Bearer(b_->api_key)).status, 404);
}

TEST_F(Recordings, ResumableUploadOfANonAudioFileKeepsNothing) {
  std::string text(3000, 'a');
  auto h = Bearer(a_->api_key);
  h.push_back({"Upload-Length", std::to_string(text.size())});
  EXPECT_EQ(s_->Call("POST", "/api/uploads", {{"meeting_id", *meeting_}}, h).status,
            422);  // consent
  auto created =
      s_->Call("POST", "/api/uploads", {{"client_id", *client_}, {"consent", "true"}}, h);
  ASSERT_EQ(created.status, 201);
  std::string id = created.json()["id"];
  auto r = Send(s_->port(), {"PATCH",
                             "/api/uploads/" + id,
                             text,
                             {{"Authorization", "Bearer " + a_->api_key}, {"Upload-Offset", "0"}}});
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_EQ(s_->Get("/api/uploads/" + id, Bearer(a_->api_key)).status, 404);
  EXPECT_TRUE(TmpFiles().empty());
}

TEST_F(Recordings, AudioIsServedWithRangeSupport) {
  auto up = UploadRaw(*wav_);
  ASSERT_EQ(up.status, 201);
  std::string audio = "/api/recordings/" + up.json()["id"].get<std::string>() + "/audio";
  auto key =
      std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + a_->api_key}};
  auto whole = s_->Get(audio, key);
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(whole.body, *wav_);
  EXPECT_EQ(whole.header("accept-ranges"), "bytes");
  EXPECT_EQ(whole.header("content-type"), "audio/wav");
  auto with = [&](const std::string& range) {
    auto h = key;
    h.push_back({"Range", range});
    return s_->Get(audio, h);
  };
  auto part = with("bytes=100-199");
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, wav_->substr(100, 100));
  EXPECT_EQ(part.header("content-range"), "bytes 100-199/" + std::to_string(wav_->size()));
  EXPECT_EQ(with("bytes=-10").body, wav_->substr(wav_->size() - 10));
  EXPECT_EQ(with("bytes=32000-").body, wav_->substr(32000));
  auto bad = with("bytes=999999-");
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.header("content-range"), "bytes */" + std::to_string(wav_->size()));
}

// A recording without peaks never has them computed on the request thread: while its own job
// is active the answer is 202 "preparing" (that job computes them); otherwise a waveform job is
// queued (once), and a file found undecodable says so. No worker runs here: pipeline_test.cpp
// checks the job's result.
TEST_F(Recordings, PeaksWithoutABlobAnswerPreparingAndQueueOneWaveformJob) {
  auto up = UploadRaw(*wav_);
  ASSERT_EQ(up.status, 201);
  std::string id = up.json()["id"];
  std::string transcribe_job = up.json()["job_id"];
  std::string url = "/api/recordings/" + id + "/peaks";
  std::string blob = s_->data_dir() + "/recordings/" + a_->id + "/" + id + ".peaks";
  auto h = Bearer(a_->api_key);
  auto first = s_->Get(url, h);
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(first.json()["state"], "preparing");
  EXPECT_EQ(first.json()["job_id"], transcribe_job);  // its own job will compute them
  EXPECT_EQ(first.header("retry-after"), "2");
  EXPECT_FALSE(fs::exists(blob));
  for (const char* bad : {"?max_length=5", "?max_length=abc"}) {
    auto r = s_->Get(url + bad, h);
    EXPECT_EQ(r.status, 422) << bad << r.body;
    EXPECT_TRUE(r.json()["error"]["details"].contains("max_length"));
  }
  // Without an active recording job (here: cancelled), one waveform job, the same for every ask.
  ASSERT_EQ(s_->Call("POST", "/api/jobs/" + transcribe_job + "/cancel", json::object(), h).status, 200);
  auto queued = s_->Get(url, h);
  ASSERT_EQ(queued.status, 202) << queued.body;
  std::string job = queued.json()["job_id"];
  EXPECT_NE(job, transcribe_job);
  EXPECT_EQ(s_->Get(url, h).json()["job_id"], job);
  auto j = s_->Get("/api/jobs/" + job, h).json();
  EXPECT_EQ(j["kind"], "recording.waveform");
  EXPECT_EQ(j["payload"]["recording_id"], id);
  EXPECT_FALSE(fs::exists(blob)) << "computed on the request";
  // A damaged blob is as good as none.
  std::ofstream(blob, std::ios::trunc) << "damaged";
  EXPECT_EQ(s_->Get(url, h).status, 202);
  // A file the job found undecodable: said so, nothing queued again.
  std::ofstream(blob + "-failed", std::ios::trunc) << "undecodable";
  fs::remove(blob);
  auto failed = s_->Get(url, h);
  EXPECT_EQ(failed.status, 503) << failed.body;
  EXPECT_EQ(failed.json()["error"]["code"], "waveform_unavailable");
  EXPECT_EQ(s_->Get("/api/recordings/" + NewId() + "/peaks", h).status, 404);
  // Deleting the recording removes its waveform files too.
  std::ofstream(blob, std::ios::trunc) << "damaged";
  ASSERT_EQ(Send(s_->port(), {"DELETE", "/api/recordings/" + id, "", h}).status, 204);
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_FALSE(fs::exists(blob + "-failed"));
}

TEST_F(Recordings, DeleteRemovesRowAndFileAndIsAudited) {
  auto up = UploadRaw(*wav_);
  ASSERT_EQ(up.status, 201);
  std::string id = up.json()["id"];
  std::string file = s_->data_dir() + "/recordings/" + a_->id + "/" + id;
  ASSERT_TRUE(fs::exists(file));
  auto member =
      Send(s_->port(), {"DELETE", "/api/recordings/" + id, "", Bearer(a_->member_api_key)});
  EXPECT_EQ(member.status, 403);
  auto del = Send(s_->port(), {"DELETE", "/api/recordings/" + id, "", Bearer(a_->api_key)});
  EXPECT_EQ(del.status, 204) << del.body;
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(s_->Get("/api/recordings/" + id, Bearer(a_->api_key)).status, 404);
  auto audit = s_->Get("/api/audit?limit=200", Bearer(a_->api_key));
  EXPECT_NE(audit.body.find("recording.deleted"), std::string::npos) << audit.body.substr(0, 300);
  // The job of a deleted recording is cancelled.
  auto job = s_->Get("/api/jobs/" + up.json()["job_id"].get<std::string>(), Bearer(a_->api_key));
  EXPECT_EQ(job.json()["state"], "cancelled") << job.body;
}

TEST_F(Recordings, AnotherFirmGets404OnRecordingsAudioEventsUploadsAndJobs) {
  auto up = UploadRaw(*wav_);
  ASSERT_EQ(up.status, 201);
  std::string id = up.json()["id"], job = up.json()["job_id"];
  auto hb = Bearer(b_->api_key);
  for (std::string path : {"/api/recordings/" + id, "/api/recordings/" + id + "/audio",
                           "/api/recordings/" + id + "/events",
                           "/api/recordings/" + id + "/peaks",
                           "/api/recordings/" + id + "/transcript", "/api/jobs/" + job})
    EXPECT_EQ(s_->Get(path, hb).status, 404) << path;
  EXPECT_EQ(Send(s_->port(), {"DELETE", "/api/recordings/" + id, "", hb}).status, 404);
  EXPECT_EQ(Send(s_->port(), {"POST", "/api/jobs/" + job + "/cancel", "{}", hb}).status, 404);
  // Uploading into another firm's meeting or client: 404 before the body is read.
  EXPECT_EQ(
      Raw("/api/meetings/" + *meeting_ + "/recordings?consent=true", *wav_, b_->api_key).status,
      404);
  EXPECT_EQ(Raw("/api/clients/" + *client_ + "/recordings?consent=true", *wav_, b_->api_key).status,
            404);
  auto list = s_->Get("/api/recordings", hb);
  EXPECT_EQ(list.json()["data"].size(), 0u);
  EXPECT_EQ(s_->Get("/api/jobs", hb).json()["data"].size(), 0u);
  EXPECT_TRUE(TmpFiles().empty());
}

}  // namespace
}  // namespace crm::testing
