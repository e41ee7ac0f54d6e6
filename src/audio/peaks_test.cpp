// Waveform peaks: bucket arithmetic, quantisation that never flattens a quiet bucket, the blob
// format round trip and its refusals, downsampling, and the file path agreeing with the decoded
// samples on jfk.wav.
#include "audio/peaks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace crm::audio {
namespace {

std::string DataFile(const std::string& rel) {
  const char* root = std::getenv("CRM_SOURCE_DIR");
  return std::string(root ? root : CRM_SOURCE_DIR_DEFAULT) + "/tests/data/" + rel;
}

TEST(Peaks, OnePairPerBucketWithTheBucketsExtremes) {
  // 1,000 Hz source, 10 pairs per second: buckets of 100 samples.
  std::vector<float> pcm(250, 0.0f);
  pcm[10] = 0.5f;
  pcm[20] = -0.25f;
  pcm[150] = 1.5f;  // clipped to 127
  pcm[240] = -1.0f;
  PeakBuilder b(1000, {.peaks_per_second = 10});
  b.Add(pcm.data(), 7);  // chunks of any size give the same pairs
  b.Add(pcm.data() + 7, pcm.size() - 7);
  Peaks p = b.Finish();
  ASSERT_EQ(p.size(), 3u);  // the partial last bucket counts
  EXPECT_EQ(p.peaks_per_second, 10);
  EXPECT_DOUBLE_EQ(p.duration_seconds, 0.25);
  EXPECT_EQ(p.pairs[0], -32);  // floor(-0.25 * 127)
  EXPECT_EQ(p.pairs[1], 64);   // ceil(0.5 * 127)
  EXPECT_EQ(p.pairs[2], 0);
  EXPECT_EQ(p.pairs[3], 127);
  EXPECT_EQ(p.pairs[4], -127);
  EXPECT_EQ(p.pairs[5], 0);
}

TEST(Peaks, QuietSoundStillShowsAndNonFiniteSamplesAreSilence) {
  std::vector<float> pcm = {0.001f, -0.001f, NAN, INFINITY};
  PeakBuilder b(4, {.peaks_per_second = 2});
  b.Add(pcm.data(), pcm.size());
  Peaks p = b.Finish();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p.pairs[0], -1);
  EXPECT_EQ(p.pairs[1], 1);
  EXPECT_EQ(p.pairs[2], 0);
  EXPECT_EQ(p.pairs[3], 0);
}

TEST(Peaks, BlobRoundTripsAndDamagedBlobsAreRefused) {
  Peaks p;
  p.peaks_per_second = 50;
  p.duration_seconds = 1.5;
  p.pairs = {-3, 4, -100, 120, 0, 0};
  std::string blob = EncodePeaks(p);
  auto back = DecodePeaks(blob);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->pairs, p.pairs);
  EXPECT_EQ(back->peaks_per_second, 50);
  EXPECT_DOUBLE_EQ(back->duration_seconds, 1.5);
  EXPECT_FALSE(DecodePeaks("").ok());
  EXPECT_FALSE(DecodePeaks(blob.substr(0, blob.size() - 1)).ok());
  std::string bad = blob;
  bad[0] = 'X';
  EXPECT_EQ(DecodePeaks(bad).error().code, ErrorCode::kCorrupt);
  std::string huge = blob;
  huge[24] = '\x7f';  // a pair count the bytes do not hold
  EXPECT_FALSE(DecodePeaks(huge).ok());
}

TEST(Peaks, DownsampleMergesNeighboursWithinTheBound) {
  Peaks p;
  p.peaks_per_second = 50;
  p.duration_seconds = 0.1;
  p.pairs = {-1, 1, -5, 2, -2, 9, 0, 0, -7, 3};  // 5 pairs
  Peaks d = Downsample(p, 2);
  ASSERT_EQ(d.size(), 2u);  // factor 3: pairs 0-2, then 3-4
  EXPECT_EQ(d.pairs, (std::vector<int8_t>{-5, 9, -7, 3}));
  EXPECT_EQ(d.peaks_per_second, 16);
  EXPECT_EQ(Downsample(p, 10).pairs, p.pairs);
}

TEST(Peaks, FileAndDecodedSamplesGiveTheSamePeaks) {
  auto pcm = DecodeFile(DataFile("asr/jfk.wav"));
  ASSERT_TRUE(pcm.ok()) << pcm.error().message;
  MemorySampleSource source(pcm->data(), pcm->size());
  auto from_samples = ComputePeaks(source);
  auto from_file = ComputePeaksOfFile(DataFile("asr/jfk.wav"));
  ASSERT_TRUE(from_samples.ok() && from_file.ok());
  EXPECT_EQ(from_samples->pairs, from_file->pairs);
  EXPECT_NEAR(from_file->duration_seconds, 11.0, 0.1);
  EXPECT_EQ(from_file->size(), static_cast<size_t>(std::ceil(pcm->size() / 320.0)));
  int loud = 0;
  for (size_t i = 0; i < from_file->size(); ++i) loud += from_file->pairs[2 * i + 1] > 30;
  EXPECT_GT(loud, 50);  // speech, not silence
  EXPECT_EQ(ComputePeaksOfFile(DataFile("asr/missing.wav")).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace crm::audio
