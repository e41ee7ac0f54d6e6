#include "asr/whisper/mel.h"

#include <gtest/gtest.h>

#include <cmath>
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

TEST(MelTest, SilenceIsFlatAndFramesAreCounted) {
  const auto mel = FixtureMel();
  std::vector<float> silence(kSampleRate, 0.0f);
  const auto out = Window(mel, silence, 0);
  for (float v : out) ASSERT_FLOAT_EQ(v, (-10.0f + 4.0f) / 4.0f);
  EXPECT_EQ(MelSpectrogram::FrameCount(silence.size(), kChunkSamples), 100 + 3000);
}

}  // namespace
}  // namespace crm::asr::whisper
