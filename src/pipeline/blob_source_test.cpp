// A recording read through a BlobStore that has no files at all (blobs held in memory, as an
// S3-compatible store holds them remotely): FFmpeg probes and decodes it through an AVIOContext
// over BlobReader::ReadAt, the job's decode and speech detection work from it, and an engine that
// sends the file itself gets an anonymous local copy. Nothing here may need a path to the blob.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "audio/decoder.h"
#include "blobs/blob_store.h"
#include "pipeline/recording_audio.h"

namespace crm::pipeline {
namespace {

namespace fs = std::filesystem;

std::string Fixture(const std::string& rel) {
  const char* d = std::getenv("CRM_SOURCE_DIR");
  return std::string(d ? d : ".") + "/tests/data/" + rel;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Blobs as strings in memory; counts reads so the test can see FFmpeg went through ReadAt.
class MemoryBlobStore final : public blobs::BlobStore {
 public:
  class Reader final : public blobs::BlobReader {
   public:
    Reader(std::string data, MemoryBlobStore* owner) : data_(std::move(data)), owner_(owner) {}
    int64_t size() const override { return static_cast<int64_t>(data_.size()); }
    Result<size_t> ReadAt(int64_t offset, void* out, size_t n) override {
      if (offset < 0) return InvalidArgument("negative offset");
      ++owner_->reads;
      if (offset >= size()) return size_t{0};
      size_t take = std::min(n, data_.size() - static_cast<size_t>(offset));
      std::memcpy(out, data_.data() + offset, take);
      return take;
    }

   private:
    std::string data_;
    MemoryBlobStore* owner_;
  };

  Status Put(std::string_view key, const fs::path& source, const blobs::PutOptions& o) override {
    CRM_TRY(PutBytes(key, ReadAll(source.string()), o));
    fs::remove(source);
    return OkStatus();
  }
  Status PutBytes(std::string_view key, std::string_view data,
                  const blobs::PutOptions& o) override {
    CRM_TRY(blobs::ValidateKey(key));
    std::lock_guard<std::mutex> lock(mu_);
    if (!o.overwrite && blobs_.count(std::string(key)))
      return Error(ErrorCode::kConflict, "exists");
    blobs_[std::string(key)] = std::string(data);
    return OkStatus();
  }
  Status Move(std::string_view from, std::string_view to) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = blobs_.find(std::string(from));
    if (it == blobs_.end()) return NotFound("missing");
    if (blobs_.count(std::string(to))) return Error(ErrorCode::kConflict, "exists");
    blobs_[std::string(to)] = std::move(it->second);
    blobs_.erase(std::string(from));
    return OkStatus();
  }
  Result<std::unique_ptr<blobs::BlobReader>> Open(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = blobs_.find(std::string(key));
    if (it == blobs_.end()) return NotFound("blob not found");
    return std::unique_ptr<blobs::BlobReader>(new Reader(it->second, this));
  }
  Result<std::string> ReadRange(std::string_view key, int64_t offset, int64_t length) override {
    CRM_ASSIGN_OR_RETURN(auto r, Open(key));
    std::string out(static_cast<size_t>(std::max<int64_t>(0, std::min(length, r->size() - offset))),
                    '\0');
    CRM_ASSIGN_OR_RETURN(size_t got, r->ReadAt(offset, out.data(), out.size()));
    out.resize(got);
    return out;
  }
  Result<bool> Exists(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    return blobs_.count(std::string(key)) > 0;
  }
  Result<int64_t> Size(std::string_view key) override {
    CRM_ASSIGN_OR_RETURN(auto r, Open(key));
    return r->size();
  }
  Status Delete(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mu_);
    blobs_.erase(std::string(key));
    return OkStatus();
  }
  Result<int> SweepTemporary(std::chrono::seconds) override { return 0; }

  int reads = 0;

 private:
  std::mutex mu_;
  std::map<std::string, std::string> blobs_;
};

class BlobSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = (fs::temp_directory_path() / ("crm_blob_source_test_" + std::to_string(getpid())))
               .string();
    fs::create_directories(tmp_);
  }
  void TearDown() override { fs::remove_all(tmp_); }
  std::string tmp_;
  MemoryBlobStore blobs_;
};

TEST_F(BlobSourceTest, ProbeAndDecodeReadTheBlobThroughTheStore) {
  const std::string wav = ReadAll(Fixture("asr/jfk.wav"));
  ASSERT_GT(wav.size(), 1000u);
  ASSERT_TRUE(blobs_.PutBytes("recordings/F/R1", wav, {}).ok());

  auto source = OpenBlobSource(blobs_, "recordings/F/R1");
  ASSERT_TRUE(source.ok()) << source.error().message;
  auto info = audio::Probe(*source);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->container, "wav");
  EXPECT_EQ(info->size_bytes, static_cast<int64_t>(wav.size()));
  EXPECT_NEAR(info->duration_seconds, 11.0, 0.1);
  EXPECT_GT(blobs_.reads, 0) << "FFmpeg read through BlobReader::ReadAt";

  // The same samples as decoding the file by path.
  auto by_path = audio::DecodeFile(Fixture("asr/jfk.wav"));
  ASSERT_TRUE(by_path.ok());
  RecordingAudio audio(*OpenBlobSource(blobs_, "recordings/F/R1"), tmp_, {"energy", ""});
  auto samples = audio.Samples();
  ASSERT_TRUE(samples.ok()) << samples.error().message;
  ASSERT_EQ((*samples)->size(), by_path->size());
  std::vector<float> got(by_path->size());
  ASSERT_EQ(*(*samples)->Read(0, got.data(), got.size()), got.size());
  EXPECT_EQ(got, *by_path);
  auto speech = audio.Speech();
  ASSERT_TRUE(speech.ok()) << speech.error().message;
  EXPECT_FALSE((*speech)->empty()) << "jfk.wav is speech";
}

TEST_F(BlobSourceTest, AnEngineThatSendsTheFileGetsAnAnonymousCopyGoneWithTheJob) {
  const std::string wav = ReadAll(Fixture("asr/jfk.wav"));
  ASSERT_TRUE(blobs_.PutBytes("recordings/F/R2", wav, {}).ok());
  std::string path;
  {
    RecordingAudio audio(*OpenBlobSource(blobs_, "recordings/F/R2"), tmp_, {"energy", ""});
    auto p = audio.MediaPath();
    ASSERT_TRUE(p.ok()) << p.error().message;
    path = *p;
    EXPECT_EQ(ReadAll(path), wav);
    auto info = audio::Probe(path);  // what the remote engine does with it
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_TRUE(fs::is_empty(tmp_)) << "the copy has no name in the temporary directory";
  }
  EXPECT_FALSE(fs::exists(path)) << "closed with the job";
}

TEST_F(BlobSourceTest, BlobsThatAreNotMediaOrAreDamagedGiveTheDecodersErrors) {
  ASSERT_TRUE(blobs_.PutBytes("recordings/F/text", std::string(4096, 'a'), {}).ok());
  auto text = audio::Probe(*OpenBlobSource(blobs_, "recordings/F/text"));
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kUnsupportedMediaType);

  const std::string wav = ReadAll(Fixture("asr/jfk.wav"));
  ASSERT_TRUE(blobs_.PutBytes("recordings/F/cut", wav.substr(0, 40), {}).ok());
  auto cut = audio::Probe(*OpenBlobSource(blobs_, "recordings/F/cut"));
  ASSERT_FALSE(cut.ok());
  EXPECT_TRUE(cut.error().code == ErrorCode::kUndecodable ||
              cut.error().code == ErrorCode::kUnsupportedMediaType)
      << cut.error().message;

  auto missing = OpenBlobSource(blobs_, "recordings/F/none");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  // A playlist naming another file is refused, not followed, through a blob as well.
  ASSERT_TRUE(blobs_.PutBytes("recordings/F/list",
                              "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n/etc/passwd\n",
                              {}).ok());
  auto list = audio::Probe(*OpenBlobSource(blobs_, "recordings/F/list"));
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ErrorCode::kUnsupportedMediaType);
}

}  // namespace
}  // namespace crm::pipeline
