// Voiceprints on a real two-speaker recording: enrol one voice, recognise it elsewhere; the same
// voiceprint from audio fed in pieces; weighted averages of several enrolments.
#include "diarization/voiceprint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "audio/decoder.h"

namespace crm::diarization {
namespace {

class VoiceprintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* src = std::getenv("CRM_SOURCE_DIR");
    auto pcm =
        audio::DecodeFile(std::string(src ? src : ".") + "/tests/data/diarization/sample.wav");
    ASSERT_TRUE(pcm.ok()) << pcm.error().message;
    pcm_ = std::move(*pcm);
  }
  std::vector<float> Print(const std::vector<TimeRange>& ranges) {
    auto v = ComputeVoiceprint(pcm_.data(), pcm_.size(), ranges);
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
    return v.ok() ? *v : std::vector<float>{};
  }
  std::vector<float> pcm_;
};

// Stretches of sample.rttm where one speaker talks alone.
const std::vector<TimeRange> kFirstEnrol = {{8.32, 9.92}, {11.03, 14.49}};
const std::vector<TimeRange> kFirstLater = {{18.6, 21.49}, {28.5, 30.0}};
const std::vector<TimeRange> kSecondA = {{14.7, 17.92}};
const std::vector<TimeRange> kSecondB = {{21.78, 27.85}};

TEST_F(VoiceprintTest, SameSpeakerMatchesAndOtherSpeakerDoesNot) {
  std::vector<float> enrolled = Print(kFirstEnrol);
  double same = VoiceprintConfidence(enrolled, Print(kFirstLater));
  double other_a = VoiceprintConfidence(enrolled, Print(kSecondA));
  double other_b = VoiceprintConfidence(enrolled, Print(kSecondB));
  VoiceprintMatchOptions o;
  EXPECT_GE(same, o.threshold);
  EXPECT_LT(other_a, o.threshold);
  EXPECT_LT(other_b, o.threshold);
  EXPECT_GT(same, other_a);
  EXPECT_GT(same, other_b);

  std::vector<KnownSpeaker> known = {{"maitre-dupont", enrolled}};
  auto matches = MatchSpeakers({Print(kSecondB), Print(kFirstLater)}, known, o);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].speaker, 1);
  EXPECT_EQ(matches[0].id, "maitre-dupont");
  EXPECT_DOUBLE_EQ(matches[0].confidence, same);
}

TEST_F(VoiceprintTest, SerialisedVoiceprintReadsBackAndDamageIsRefused) {
  std::vector<float> v = Print(kFirstEnrol);
  ASSERT_EQ(v.size(), 38u);
  auto back = ParseVoiceprint(SerializeVoiceprint(v));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_FLOAT_EQ((*back)[i], v[i]);
  EXPECT_FALSE(ParseVoiceprint("").ok());
  EXPECT_FALSE(ParseVoiceprint("crm-voiceprint v9 2 1 2").ok());
  EXPECT_FALSE(ParseVoiceprint("crm-voiceprint v1 3 1 2").ok());
  EXPECT_FALSE(ParseVoiceprint("crm-voiceprint v1 2 1 2 3").ok());
  EXPECT_FALSE(ParseVoiceprint("crm-voiceprint v1 2 1 nan").ok());
  EXPECT_EQ(ParseVoiceprint("something else").error().code, ErrorCode::kCorrupt);
  // Vectors of other sizes never match.
  EXPECT_EQ(VoiceprintConfidence(v, {1, 2}), 0);
}

TEST_F(VoiceprintTest, TooLittleSpeechIsRefused) {
  auto r = ComputeVoiceprint(pcm_.data(), pcm_.size(), {{10.0, 10.5}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(ComputeVoiceprint(pcm_.data(), pcm_.size(), {{5.0, 4.0}}).ok());
  // Ranges past the end of the audio hold no speech.
  EXPECT_FALSE(ComputeVoiceprint(pcm_.data(), pcm_.size(), {{100.0, 110.0}}).ok());
}

TEST_F(VoiceprintTest, AudioFedInPiecesGivesTheWholeAudiosVoiceprint) {
  // Pieces of odd sizes, so frames straddle every boundary; the last piece is shorter than one
  // analysis window.
  VoiceprintBuilder builder;
  size_t at = 0, piece = 7919;
  while (at < pcm_.size()) {
    size_t n = std::min(piece, pcm_.size() - at);
    ASSERT_TRUE(builder.Add(pcm_.data() + at, n).ok());
    at += n;
    piece = piece * 3 % 200003 + 97;
  }
  EXPECT_NEAR(builder.seconds(), pcm_.size() / 16000.0, 1e-9);
  double seconds = 0;
  auto v = builder.Finish(kFirstEnrol, 2.0, &seconds);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_NEAR(seconds, (9.92 - 8.32) + (14.49 - 11.03), 0.02);
  std::vector<float> whole = Print(kFirstEnrol);
  ASSERT_EQ(v->size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i) EXPECT_NEAR((*v)[i], whole[i], 1e-4) << i;

  // The same builder answers other ranges of the same audio; too little speech is refused and
  // the covered seconds are still reported.
  auto later = builder.Finish(kFirstLater, 2.0);
  ASSERT_TRUE(later.ok());
  EXPECT_GE(VoiceprintConfidence(*v, *later), VoiceprintMatchOptions{}.threshold);
  auto short_one = builder.Finish({{10.0, 10.5}}, 2.0, &seconds);
  ASSERT_FALSE(short_one.ok());
  EXPECT_EQ(short_one.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NEAR(seconds, 0.5, 0.02);
  EXPECT_FALSE(builder.Finish({{5.0, 4.0}}, 0.1).ok());

  VoiceprintBuilder empty;
  EXPECT_FALSE(empty.Finish({{0.0, 10.0}}, 1.0).ok());
}

TEST_F(VoiceprintTest, AveragesAreWeightedBySecondsOfSpeech) {
  auto avg = AverageVoiceprints({{{1, 2, 3, 4}, 1.0}, {{3, 6, 3, 0}, 3.0}});
  ASSERT_TRUE(avg.ok()) << avg.error().message;
  EXPECT_EQ(*avg, (std::vector<float>{2.5f, 5.0f, 3.0f, 1.0f}));
  // One part is itself.
  std::vector<float> one = Print(kFirstEnrol);
  EXPECT_EQ(*AverageVoiceprints({{one, 4.2}}), one);
  // Two halves of one speaker averaged still match the speaker's other speech.
  auto first = ComputeVoiceprint(pcm_.data(), pcm_.size(), {kFirstEnrol[0]}, 1.0);
  ASSERT_TRUE(first.ok());
  auto both = AverageVoiceprints({{*first, 1.6}, {Print({kFirstEnrol[1]}), 3.46}});
  ASSERT_TRUE(both.ok());
  EXPECT_GE(VoiceprintConfidence(*both, Print(kFirstLater)), VoiceprintMatchOptions{}.threshold);

  EXPECT_FALSE(AverageVoiceprints({}).ok());
  EXPECT_FALSE(AverageVoiceprints({{{1, 2}, 1.0}, {{1, 2, 3, 4}, 1.0}}).ok());
  EXPECT_FALSE(AverageVoiceprints({{{1, 2}, 0.0}}).ok());
  EXPECT_FALSE(AverageVoiceprints({{{}, 1.0}}).ok());
}

}  // namespace
}  // namespace crm::diarization
