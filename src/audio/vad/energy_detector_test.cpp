#include "audio/vad/energy_detector.h"

#include <gtest/gtest.h>

#include "audio/vad/test_util.h"

namespace crm::audio::vad {
namespace {

using namespace testing;

std::vector<float> RunAll(const std::vector<float>& pcm) {
  EnergyStream s;
  std::vector<float> p;
  s.Feed(pcm.data(), pcm.size(), &p);
  s.Finish(&p);
  return p;
}

TEST(EnergyDetector, OneProbabilityPerTenMilliseconds) {
  EXPECT_EQ(RunAll(std::vector<float>(16000, 0.f)).size(), 100u);
  EXPECT_EQ(RunAll(std::vector<float>(16001, 0.f)).size(), 101u);
  EXPECT_TRUE(RunAll({}).empty());
}

TEST(EnergyDetector, SilenceIsNotSpeech) {
  // empty.wav: one second of a quiet room.
  for (float v : RunAll(Decode(Fixture("diarization/empty.wav")))) EXPECT_LT(v, 0.1f);
  // Digital silence is below the absolute level.
  for (float v : RunAll(std::vector<float>(8000, 0.f))) EXPECT_EQ(v, 0.f);
}

TEST(EnergyDetector, FindsTheSpeechOfJfk) {
  const auto p = RunAll(Decode(Fixture("asr/jfk.wav")));
  ASSERT_EQ(p.size(), 1100u);
  // Before the first word (0 - 0.25 s) and in the pause after "fellow Americans"
  // (2.4 - 3.1 s) the level is the floor; inside "what your country can do for you"
  // (5.4 - 7.4 s) it is well above.
  auto mean = [&](int from, int to) {
    double m = 0;
    for (int i = from; i < to; ++i) m += p[i];
    return m / (to - from);
  };
  EXPECT_LT(mean(0, 25), 0.1);
  EXPECT_LT(mean(240, 310), 0.1);
  EXPECT_GT(mean(540, 740), 0.8);
}

TEST(EnergyDetector, FeedingInPiecesGivesExactlyTheOneCallResult) {
  const auto pcm = Decode(Fixture("diarization/trn05.wav"));
  const auto whole = RunAll(pcm);
  EnergyStream s;
  std::vector<float> pieces;
  size_t pos = 0;
  for (size_t n : {1u, 159u, 161u, 16000u, 3u, 100000u, 480000u}) {
    n = std::min(n, pcm.size() - pos);
    s.Feed(pcm.data() + pos, n, &pieces);
    pos += n;
  }
  s.Finish(&pieces);
  EXPECT_EQ(pieces, whole);
}

TEST(EnergyDetector, ProbabilitiesComeOutWithBoundedLookahead) {
  // Memory stays bounded: after 60 s of input only the last ~5 s are held back.
  std::vector<float> pcm(16000 * 60);
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = (i * 2654435761u % 1000) / 1e4f;
  EnergyStream s;
  std::vector<float> p;
  s.Feed(pcm.data(), pcm.size(), &p);
  EXPECT_GE(p.size(), 6000u - 501u);
  s.Finish(&p);
  EXPECT_EQ(p.size(), 6000u);
}

}  // namespace
}  // namespace crm::audio::vad
