#include "asr/whisper/mel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "asr/whisper/model_file.h"
#include "asr/whisper/test_support.h"

namespace crm::asr::whisper {
namespace {

using namespace crm::asr::whisper::testing;

// Runs the numpy oracle's spectrogram on `pcm` at frame `seek`; returns [80][3000].
std::vector<float> ReferenceMel(const TempDir& dir, const std::vector<float>& pcm, int seek) {
  WriteFloats(dir.File("pcm.f32"), pcm);
  const int rc = Run("/usr/bin/python3 " + ToolPath("whisper_ref.py") + " --mel-only --model " +
                     FixturePath() + " --audio " + dir.File("pcm.f32") + " --seek " +
                     std::to_string(seek) + " --out " + dir.File("ref"));
  EXPECT_EQ(rc, 0);
  return ReadFloats(dir.File("ref/mel.f32"));
}

MelSpectrogram FixtureMel() {
  auto f = ModelFile::Open(FixturePath()).value();
  return MelSpectrogram(f->mel_bins(), f->mel_filters());
}

std::vector<float> Window(const MelSpectrogram& mel, const std::vector<float>& pcm, int seek) {
  const float gmax = mel.GlobalMax(pcm.data(), pcm.size(), kChunkSamples);
  std::vector<float> out;
  mel.Window(pcm.data(), pcm.size(), kChunkSamples, seek, gmax, &out);
  return out;
}

TEST(MelTest, MatchesTheReferenceOnSpeech) {
  TempDir dir;
  const auto pcm = ReadWav16(SourceDir() + "/tests/data/asr/jfk.wav");
  ASSERT_EQ(pcm.size(), 176000u);
  const auto ref = ReferenceMel(dir, pcm, 0);
  ASSERT_EQ(ref.size(), 80u * 3000);
  const auto got = Window(FixtureMel(), pcm, 0);
  EXPECT_LT(MaxAbsDiff(got.data(), ref.data(), ref.size()), 1e-4);
}

TEST(MelTest, MatchesTheReferenceInsideALongSignalAndAtItsEnd) {
  TempDir dir;
  // 65 s: tones and noise, with a loud burst late so the global maximum is far from the window.
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  std::vector<float> pcm(65 * kSampleRate);
  for (size_t i = 0; i < pcm.size(); ++i) {
    const double t = static_cast<double>(i) / kSampleRate;
    pcm[i] = 0.1f * std::sin(2 * M_PI * (200 + 20 * t) * t) + noise(rng);
    if (t > 60 && t < 61) pcm[i] *= 8;
  }
  const auto mel = FixtureMel();
  for (int seek : {4567, 6000}) {  // the second window runs past the end of the audio
    const auto ref = ReferenceMel(dir, pcm, seek);
    ASSERT_EQ(ref.size(), 80u * 3000);
    const auto got = Window(mel, pcm, seek);
    EXPECT_LT(MaxAbsDiff(got.data(), ref.data(), ref.size()), 1e-4) << "seek " << seek;
  }
}

// Serves samples from memory and remembers the largest single read, like a decoded file would.
class RecordingSource final : public audio::SampleSource {
 public:
  explicit RecordingSource(const std::vector<float>& pcm) : pcm_(pcm) {}
  size_t size() const override { return pcm_.size(); }
  int sample_rate() const override { return kSampleRate; }
  Result<size_t> Read(size_t start, float* out, size_t n) const override {
    if (fail) return IoError("disk gone");
    largest_read = std::max(largest_read, n);
    return audio::MemorySampleSource(pcm_.data(), pcm_.size()).Read(start, out, n);
  }
  bool fail = false;
  mutable size_t largest_read = 0;

 private:
  const std::vector<float>& pcm_;
};

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(MelTest, ReadingFromASourceGivesBitIdenticalValuesAndReadsOneWindowAtATime) {
  std::mt19937 rng(11);
  std::normal_distribution<float> noise(0.0f, 0.02f);
  std::vector<float> pcm(95 * kSampleRate + 123);  // three windows and a partial one
  for (size_t i = 0; i < pcm.size(); ++i) {
    const double t = static_cast<double>(i) / kSampleRate;
    pcm[i] = 0.1f * std::sin(2 * M_PI * (150 + 10 * t) * t) + noise(rng);
    if (t > 80 && t < 80.5) pcm[i] *= 6;  // the global maximum lies in the last block
  }
  const auto mel = FixtureMel();
  RecordingSource source(pcm);
  const float expected_max = mel.GlobalMax(pcm.data(), pcm.size(), kChunkSamples);
  auto got_max = mel.GlobalMax(source, kChunkSamples);
  ASSERT_TRUE(got_max.ok());
  EXPECT_EQ(std::memcmp(&expected_max, &*got_max, sizeof(float)), 0);
  std::vector<float> expected, got, samples;
  for (int64_t seek : {0, 1, 2, 1234, 2999, 3000, 6000, 9000, 9499, 9500, 9600, 12000}) {
    mel.Window(pcm.data(), pcm.size(), kChunkSamples, seek, expected_max, &expected);
    ASSERT_TRUE(mel.Window(source, kChunkSamples, seek, expected_max, &got, &samples).ok());
    EXPECT_TRUE(SameBits(expected, got)) << "seek " << seek;
  }
  // One window and its frames' reach on both sides, never the whole recording.
  EXPECT_LE(source.largest_read, static_cast<size_t>(kChunkSamples + 2 * kNfft));
  source.fail = true;
  EXPECT_EQ(mel.GlobalMax(source, kChunkSamples).error().code, ErrorCode::kIo);
  EXPECT_EQ(mel.Window(source, kChunkSamples, 0, expected_max, &got, &samples).error().code,
            ErrorCode::kIo);
}

TEST(MelTest, ShortSignalsReadFromASourceMatchToo) {
  const auto mel = FixtureMel();
  for (size_t n : {0, 1, 150, 399, 401, 1000}) {
    std::vector<float> pcm(n);
    for (size_t i = 0; i < n; ++i) pcm[i] = 0.3f * std::sin(0.1f * static_cast<float>(i));
    RecordingSource source(pcm);
    const float expected_max = mel.GlobalMax(pcm.data(), pcm.size(), kChunkSamples);
    auto got_max = mel.GlobalMax(source, kChunkSamples);
    ASSERT_TRUE(got_max.ok());
    EXPECT_EQ(std::memcmp(&expected_max, &*got_max, sizeof(float)), 0) << n;
    std::vector<float> expected, got, samples;
    mel.Window(pcm.data(), pcm.size(), kChunkSamples, 0, expected_max, &expected);
    ASSERT_TRUE(mel.Window(source, kChunkSamples, 0, expected_max, &got, &samples).ok());
    EXPECT_TRUE(SameBits(expected, got)) << n;
  }
}

TEST(MelTest, TheMaximumPassStopsWhenCancelled) {
  std::vector<float> pcm(70 * kSampleRate, 0.1f);
  RecordingSource source(pcm);
  ProgressSink progress;
  progress.is_cancelled = [] { return true; };
  EXPECT_EQ(FixtureMel().GlobalMax(source, kChunkSamples, progress).error().code,
            ErrorCode::kCancelled);
}

TEST(MelTest, SilenceIsFlatAndFramesAreCounted) {
  const auto mel = FixtureMel();
  std::vector<float> silence(kSampleRate, 0.0f);
  const auto out = Window(mel, silence, 0);
  for (float v : out) ASSERT_FLOAT_EQ(v, (-10.0f + 4.0f) / 4.0f);
  EXPECT_EQ(MelSpectrogram::FrameCount(silence.size(), kChunkSamples), 100 + 3000);
}

}  // namespace
}  // namespace crm::asr::whisper
