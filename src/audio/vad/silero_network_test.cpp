#include "audio/vad/silero_network.h"

#include <gtest/gtest.h>

#include <cmath>

#include "audio/vad/test_util.h"

namespace crm::audio::vad {
namespace {

using namespace testing;

std::shared_ptr<const SileroNetwork> Network() {
  auto w = LoadSileroModel(ShippedModel());
  EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
  if (!w.ok()) return nullptr;
  return std::make_shared<const SileroNetwork>(*w);
}

std::vector<float> RunAll(const std::shared_ptr<const SileroNetwork>& net,
                          const std::vector<float>& pcm) {
  SileroStream s(net);
  std::vector<float> p;
  s.Feed(pcm.data(), pcm.size(), &p);
  s.Finish(&p);
  return p;
}

// The same model run by onnxruntime-node: within 1e-4 on every frame.
void ExpectMatchesReference(const std::string& fixture) {
  auto net = Network();
  ASSERT_NE(net, nullptr);
  const auto pcm = Decode(Fixture(fixture));
  ASSERT_FALSE(pcm.empty());
  std::vector<float> reference;
  std::string why;
  ASSERT_TRUE(ReferenceProbabilities(pcm, &reference, &why)) << why;
  const auto ours = RunAll(net, pcm);
  ASSERT_EQ(ours.size(), (pcm.size() + 511) / 512);
  ASSERT_EQ(ours.size(), reference.size());
  float worst = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_NEAR(ours[i], reference[i], 1e-4f) << fixture << " frame " << i;
    worst = std::max(worst, std::fabs(ours[i] - reference[i]));
  }
  ::testing::Test::RecordProperty("max_abs_difference", std::to_string(worst));
}

TEST(SileroNetwork, MatchesOnnxRuntimeOnPyannoteSample) {
  CRM_REQUIRE_MODEL();
  ExpectMatchesReference("diarization/sample.wav");
}
TEST(SileroNetwork, MatchesOnnxRuntimeOnAmiMeetingClip) {
  CRM_REQUIRE_MODEL();
  ExpectMatchesReference("diarization/trn07.wav");
}
// The two AMI clips where the detector finds no speech (mean probability 0.003 and 0.005): the
// reference runtime gives the same probabilities, so the misses are the model's, not ours.
TEST(SileroNetwork, MatchesOnnxRuntimeOnTheClipsWithoutDetectedSpeech) {
  CRM_REQUIRE_MODEL();
  ExpectMatchesReference("diarization/trn01.wav");
  ExpectMatchesReference("diarization/trn02.wav");
}
TEST(SileroNetwork, MatchesOnnxRuntimeOnJfk) {
  CRM_REQUIRE_MODEL();
  ExpectMatchesReference("asr/jfk.wav");
}

TEST(SileroNetwork, FeedingInPiecesGivesExactlyTheOneCallResult) {
  CRM_REQUIRE_MODEL();
  auto net = Network();
  ASSERT_NE(net, nullptr);
  const auto pcm = Decode(Fixture("diarization/dev00.wav"));
  const auto whole = RunAll(net, pcm);
  SileroStream s(net);
  std::vector<float> pieces;
  const size_t sizes[] = {1, 63, 511, 512, 513, 1000, 40000, 7};
  size_t pos = 0;
  for (int k = 0; pos < pcm.size(); ++k) {
    const size_t n = std::min(sizes[k % 8], pcm.size() - pos);
    s.Feed(pcm.data() + pos, n, &pieces);
    pos += n;
    EXPECT_LT(s.pending_samples(), 512u);
  }
  s.Finish(&pieces);
  ASSERT_EQ(pieces.size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i) ASSERT_EQ(pieces[i], whole[i]) << "frame " << i;
}

TEST(SileroNetwork, ResetForgetsTheCarriedState) {
  CRM_REQUIRE_MODEL();
  auto net = Network();
  ASSERT_NE(net, nullptr);
  const auto pcm = Decode(Fixture("asr/jfk.wav"));
  SileroStream s(net);
  std::vector<float> first, second;
  s.Feed(pcm.data(), pcm.size(), &first);
  s.Finish(&first);
  s.Reset();
  s.Feed(pcm.data(), pcm.size(), &second);
  s.Finish(&second);
  EXPECT_EQ(first, second);
}

TEST(SileroNetwork, SilenceHasLowProbability) {
  CRM_REQUIRE_MODEL();
  auto net = Network();
  ASSERT_NE(net, nullptr);
  const auto pcm = Decode(Fixture("diarization/empty.wav"));
  const auto p = RunAll(net, pcm);
  ASSERT_EQ(p.size(), (pcm.size() + 511) / 512);
  for (float v : p) EXPECT_LT(v, 0.1f);
}

TEST(SileroNetwork, SpeechHasHighProbability) {
  CRM_REQUIRE_MODEL();
  auto net = Network();
  ASSERT_NE(net, nullptr);
  const auto p = RunAll(net, Decode(Fixture("asr/jfk.wav")));
  // jfk.wav: speech from about 0.3 s to 10.6 s with short pauses.
  int high = 0;
  for (float v : p) high += v > 0.5f;
  EXPECT_GT(high, static_cast<int>(p.size() / 2));
}

}  // namespace
}  // namespace crm::audio::vad
