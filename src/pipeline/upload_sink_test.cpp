// The streaming upload sink on its own: multipart bodies cut at every possible place (so
// boundaries straddle chunks), file data that looks like a boundary, limits on the file part,
// malformed bodies, and the temporary file's removal.
#include "pipeline/upload_sink.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace crm::pipeline {
namespace {

namespace fs = std::filesystem;

class UploadSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitCrypto();
    dir_ = (fs::temp_directory_path() / ("crm-sink-" + RandomHex(6))).string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Body(const std::string& file) const {
    return "preamble\r\n--bnd\r\nContent-Disposition: form-data; name=\"consent\"\r\n\r\ntrue\r\n"
           "--bnd\r\nContent-Disposition: form-data; name=\"g[]\"\r\n\r\nword\r\n"
           "--bnd\r\nContent-Disposition: form-data; name=\"g[]\"\r\n\r\nsegment\r\n"
           "--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a "
           "\\\"b\\\".wav\"\r\n"
           "Content-Type: audio/wav\r\n\r\n" +
           file + "\r\n--bnd--\r\nepilogue";
  }
  // Feeds `body` in pieces of `piece` bytes; returns the Finish status and the request.
  Status Feed(const std::string& body, size_t piece, int64_t max, http::Request* req) {
    req->headers["Content-Type"] = "multipart/form-data; boundary=bnd";
    auto sink = NewUploadSink(*req, std::nullopt, {dir_, max, false});
    if (!sink.ok()) return sink.error();
    for (size_t i = 0; i < body.size(); i += piece) {
      auto st = (*sink)->Write(body.data() + i, std::min(piece, body.size() - i));
      if (!st.ok()) {
        (*sink)->Abort();
        return st;
      }
    }
    return (*sink)->Finish(*req);
  }
  size_t FilesLeft() const {
    size_t n = 0;
    std::error_code ec;
    if (fs::exists(dir_, ec))
      for (auto& e : fs::directory_iterator(dir_, ec)) n += e.is_regular_file() ? 1 : 0;
    return n;
  }
  std::string dir_;
};

TEST_F(UploadSinkTest, ParsesMultipartCutAnywhereAndKeepsOnlyTheFileOnDisk) {
  // Looks like a boundary without being one: "\r\n--bn", and "--bnd" not after a line break.
  std::string file = "RIFF\r\n--bn\r\nxx--bnd-- y\r\n-";
  for (int i = 0; i < 2000; ++i) file += static_cast<char>(i * 37);
  for (size_t piece : {1, 2, 3, 7, 64, 1000, 100000}) {
    http::Request req;
    auto st = Feed(Body(file), piece, 1 << 20, &req);
    ASSERT_TRUE(st.ok()) << piece << ": " << st.error().message;
    auto up = TakeUpload(req);
    ASSERT_TRUE(up);
    std::ifstream in(up->path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), file) << piece;
    EXPECT_EQ(up->size(), static_cast<int64_t>(file.size()));
    EXPECT_EQ(up->sha256(), Sha256Hex(file));
    EXPECT_EQ(up->fields["consent"], "true");
    EXPECT_EQ(up->fields["g[]"], "word,segment");
    EXPECT_EQ(up->filename, "a \"b\".wav");
    EXPECT_EQ(up->content_type, "audio/wav");
  }
  EXPECT_EQ(FilesLeft(), 0u);  // each UploadedFile removed its file when released from scope
}

TEST_F(UploadSinkTest, TheLimitAppliesToTheFilePartAlone) {
  std::string file(1000, 'a');
  http::Request exact;
  EXPECT_TRUE(Feed(Body(file), 100, 1000, &exact).ok());
  http::Request over;
  auto st = Feed(Body(file + "b"), 100, 1000, &over);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kPayloadTooLarge);
  exact.upload.reset();
  EXPECT_EQ(FilesLeft(), 0u);
}

// Part heads over 16 KiB are refused whether they arrive in pieces or in one read.
TEST_F(UploadSinkTest, OversizedPartHeadsAreRefusedHoweverTheyArrive) {
  std::string body =
      "--bnd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nX: " +
      std::string(20000, 'h') + "\r\n\r\nabc\r\n--bnd--\r\n";
  for (size_t piece : {body.size(), size_t{4096}, size_t{7}}) {
    http::Request req;
    EXPECT_FALSE(Feed(body, piece, 1 << 20, &req).ok()) << piece;
  }
  EXPECT_EQ(FilesLeft(), 0u);
}

TEST_F(UploadSinkTest, MalformedBodiesAreRefusedAndLeaveNoFile) {
  http::Request truncated;
  std::string body = Body("abc");
  auto st = Feed(body.substr(0, body.size() - 20), 5, 1 << 20, &truncated);
  EXPECT_FALSE(st.ok());
  http::Request no_file;
  st = Feed("--bnd\r\nContent-Disposition: form-data; name=\"consent\"\r\n\r\ntrue\r\n--bnd--\r\n",
            5, 1 << 20, &no_file);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().details["file"], "required");
  http::Request no_boundary;
  no_boundary.headers["Content-Type"] = "multipart/form-data";
  EXPECT_FALSE(NewUploadSink(no_boundary, std::nullopt, {dir_, 100, false}).ok());
  http::Request raw;
  raw.headers["Content-Type"] = "audio/wav";
  EXPECT_EQ(NewUploadSink(raw, 101, {dir_, 100, false}).error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_FALSE(NewUploadSink(raw, 10, {dir_, 100, true}).ok());  // /v1 wants multipart
  EXPECT_EQ(FilesLeft(), 0u);
}

}  // namespace
}  // namespace crm::pipeline
