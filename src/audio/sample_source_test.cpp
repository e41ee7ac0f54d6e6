// SampleSource tests on the repository's real recordings, decoded by the real FFmpeg libraries.
#include "audio/sample_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace crm::audio {
namespace {

namespace fs = std::filesystem;

std::string DataFile(const std::string& rel) {
  const char* root = std::getenv("CRM_SOURCE_DIR");
  return std::string(root ? root : CRM_SOURCE_DIR_DEFAULT) + "/tests/data/" + rel;
}

int OpenDescriptors() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

class SampleSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("crm_sample_source_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Files left in the temporary directory (it may not exist).
  int FilesInDir() const {
    if (!fs::exists(dir_)) return 0;
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }

  std::vector<float> ReadAllInPieces(const SampleSource& source, size_t piece) {
    std::vector<float> all;
    std::vector<float> buf(piece);
    size_t at = 0;
    while (true) {
      auto got = source.Read(at, buf.data(), buf.size());
      EXPECT_TRUE(got.ok());
      if (!got.ok() || *got == 0) break;
      all.insert(all.end(), buf.begin(), buf.begin() + *got);
      at += *got;
    }
    return all;
  }

  fs::path dir_;
};

TEST_F(SampleSourceTest, DecodedFileHoldsExactlyTheSamplesOfDecodeFile) {
  for (const char* fixture : {"asr/jfk.wav", "asr/jfk-8k.amr"}) {
    auto expected = DecodeFile(DataFile(fixture));
    ASSERT_TRUE(expected.ok()) << fixture;
    auto file = DecodedFile::Decode(DataFile(fixture), dir_.string());
    ASSERT_TRUE(file.ok()) << fixture << ": " << file.error().message;
    EXPECT_EQ((*file)->size(), expected->size()) << fixture;
    EXPECT_EQ((*file)->sample_rate(), kSampleRate);
    EXPECT_NEAR((*file)->duration_seconds(), 11.0, 0.1) << fixture;
    // Pieces that do not divide the length, so the last read is short.
    auto got = ReadAllInPieces(**file, 7919);
    ASSERT_EQ(got.size(), expected->size()) << fixture;
    EXPECT_EQ(0, std::memcmp(got.data(), expected->data(), got.size() * sizeof(float)))
        << fixture << " differs from DecodeFile";
  }
  EXPECT_EQ((DecodedFile::Decode(DataFile("asr/jfk.wav"), dir_.string())).value()->info().codec,
            "pcm_s16le");
}

TEST_F(SampleSourceTest, ReadsAreClippedAtTheEnd) {
  auto file = DecodedFile::Decode(DataFile("asr/jfk.wav"), dir_.string());
  ASSERT_TRUE(file.ok());
  const SampleSource& source = **file;
  const size_t n = source.size();
  std::vector<float> buf(1000, 42.0f);
  auto tail = source.Read(n - 10, buf.data(), buf.size());
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, 10u);
  EXPECT_EQ(buf[10], 42.0f) << "nothing may be written past the samples copied";
  auto past = source.Read(n, buf.data(), buf.size());
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(*past, 0u);
  auto far = source.Read(n * 10, buf.data(), buf.size());
  ASSERT_TRUE(far.ok());
  EXPECT_EQ(*far, 0u);
  auto none = source.Read(0, buf.data(), 0);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
}

TEST_F(SampleSourceTest, MemorySourceReadsLikeAFile) {
  std::vector<float> pcm(1000);
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<float>(i);
  MemorySampleSource source(pcm.data(), pcm.size(), 8000);
  EXPECT_EQ(source.size(), 1000u);
  EXPECT_EQ(source.sample_rate(), 8000);
  EXPECT_DOUBLE_EQ(source.duration_seconds(), 0.125);
  EXPECT_EQ(ReadAllInPieces(source, 333), pcm);
  std::vector<float> buf(50);
  auto tail = source.Read(990, buf.data(), buf.size());
  ASSERT_TRUE(tail.ok());
  EXPECT_EQ(*tail, 10u);
  EXPECT_EQ(buf[9], 999.0f);
  EXPECT_EQ(source.Read(5000, buf.data(), buf.size()).value(), 0u);
}

TEST_F(SampleSourceTest, ConcurrentReadersSeeTheSameSamples) {
  auto expected = DecodeFile(DataFile("asr/jfk.wav"));
  ASSERT_TRUE(expected.ok());
  auto file = DecodedFile::Decode(DataFile("asr/jfk.wav"), dir_.string());
  ASSERT_TRUE(file.ok());
  const SampleSource& source = **file;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<float> buf(4096);
      for (int i = 0; i < 300; ++i) {
        const size_t start = rng() % (source.size() + 100);
        const size_t n = 1 + rng() % buf.size();
        auto got = source.Read(start, buf.data(), n);
        if (!got.ok()) {
          ++mismatches;
          continue;
        }
        const size_t want = start >= source.size() ? 0 : std::min(n, source.size() - start);
        if (*got != want ||
            std::memcmp(buf.data(), expected->data() + std::min(start, expected->size()),
                        want * sizeof(float)) != 0)
          ++mismatches;
      }
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(SampleSourceTest, TheTemporaryFileHasNoNameAndItsSpaceIsFreedOnDestruction) {
  const int before = OpenDescriptors();
  {
    auto file = DecodedFile::Decode(DataFile("asr/jfk.wav"), dir_.string());
    ASSERT_TRUE(file.ok());
    EXPECT_TRUE(fs::is_directory(dir_)) << "the directory is created when missing";
    EXPECT_EQ(FilesInDir(), 0) << "a killed process must leave nothing behind";
    EXPECT_EQ(OpenDescriptors(), before + 1);
  }
  EXPECT_EQ(OpenDescriptors(), before) << "the descriptor (and so the disk space) is released";
  EXPECT_EQ(FilesInDir(), 0);
}

TEST_F(SampleSourceTest, ProgressIsReportedUpToOne) {
  std::vector<double> fractions;
  ProgressSink progress;
  progress.on_progress = [&](double f) { fractions.push_back(f); };
  auto file = DecodedFile::Decode(DataFile("asr/jfk.wav"), dir_.string(), progress);
  ASSERT_TRUE(file.ok());
  ASSERT_GE(fractions.size(), 2u);
  for (size_t i = 1; i < fractions.size(); ++i) EXPECT_GE(fractions[i], fractions[i - 1]);
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
}

TEST_F(SampleSourceTest, CancellationStopsTheDecodeAndReleasesTheFile) {
  const int before = OpenDescriptors();
  ProgressSink progress;
  int calls = 0;
  progress.is_cancelled = [&] { return ++calls > 1; };
  auto file = DecodedFile::Decode(DataFile("asr/jfk.wav"), dir_.string(), progress);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(calls, 2) << "cancellation is checked before every chunk";
  EXPECT_EQ(FilesInDir(), 0);
  EXPECT_EQ(OpenDescriptors(), before);
}

TEST_F(SampleSourceTest, DecodingErrorsAreThoseOfTheDecoderAndLeaveNothing) {
  fs::create_directories(dir_);
  const int before = OpenDescriptors();
  auto missing = DecodedFile::Decode((dir_ / "nowhere.wav").string(), dir_.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  const std::string text = (dir_ / "notes.txt").string();
  std::ofstream(text) << "Compte rendu de la réunion du 3 mars.\nPoints abordés : bail, TVA.\n";
  auto not_media = DecodedFile::Decode(text, dir_.string());
  ASSERT_FALSE(not_media.ok());
  EXPECT_EQ(not_media.error().code, ErrorCode::kUnsupportedMediaType);

  const std::string truncated = (dir_ / "cut.wav").string();
  {
    std::ifstream in(DataFile("asr/jfk.wav"), std::ios::binary);
    std::string header(40, '\0');
    in.read(header.data(), header.size());
    std::ofstream(truncated, std::ios::binary) << header;
  }
  auto cut = DecodedFile::Decode(truncated, dir_.string());
  auto expected_cut = DecodeFile(truncated);
  ASSERT_FALSE(expected_cut.ok());
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, expected_cut.error().code);
  EXPECT_EQ(cut.error().message, expected_cut.error().message);

  fs::remove(text);
  fs::remove(truncated);
  EXPECT_EQ(FilesInDir(), 0);
  EXPECT_EQ(OpenDescriptors(), before);
}

TEST_F(SampleSourceTest, AnUnusableDirectoryIsAnIoError) {
  fs::create_directories(dir_);
  const std::string blocker = (dir_ / "a-file").string();
  std::ofstream(blocker) << "x";
  auto file = DecodedFile::Decode(DataFile("asr/jfk.wav"), blocker + "/sub");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, ErrorCode::kIo);
  EXPECT_NE(file.error().message.find("temporary directory"), std::string::npos)
      << file.error().message;
}

TEST_F(SampleSourceTest, StaleFilesOfACrashAreRemovedAndNothingElse) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / (std::string(kDecodedFilePrefix) + "123-456.f32")) << "stale";
  std::ofstream(dir_ / (std::string(kDecodedFilePrefix) + "789-1.f32")) << "stale";
  std::ofstream(dir_ / "upload-abc") << "an upload in progress";
  auto removed = RemoveStaleDecodedFiles(dir_.string());
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 2);
  EXPECT_EQ(FilesInDir(), 1);
  EXPECT_TRUE(fs::exists(dir_ / "upload-abc"));
  auto none = RemoveStaleDecodedFiles((dir_ / "missing").string());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
}

TEST(ScratchDirectoryTest, PrefersAnExistingDirectoryElseTheSystemTemporaryOne) {
  const fs::path dir = fs::temp_directory_path() / ("crm-scratch-" + std::to_string(getpid()));
  fs::create_directories(dir);
  EXPECT_EQ(ScratchDirectory(dir.string()), dir.string());
  EXPECT_EQ(ScratchDirectory((dir / "missing").string()), fs::temp_directory_path().string());
  EXPECT_EQ(ScratchDirectory(""), fs::temp_directory_path().string());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace crm::audio
