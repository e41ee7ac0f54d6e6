// Voiceprints on a real two-speaker recording: enrol one voice, recognise it elsewhere.
#include "diarization/voiceprint.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "audio/decoder.h"

namespace crm::diarization {
namespace {

class VoiceprintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* src = std::getenv("CRM_SOURCE_DIR");
    auto pcm = audio::DecodeFile(std::string(src ? src : ".") + "/tests/data/diarization/sample.wav");
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

}  // namespace
}  // namespace crm::diarization
