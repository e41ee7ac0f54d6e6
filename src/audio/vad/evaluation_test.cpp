#include "audio/vad/evaluation.h"

#include <gtest/gtest.h>

#include "audio/vad/test_util.h"

namespace crm::audio::vad {
namespace {

TEST(SpeechEvaluation, CountsMissedAndFalseAlarmFramesAgainstTheReference) {
  // Reference speech 1.0-3.0 s (two overlapping speakers count once), detected 1.5-3.5 s.
  const auto c = ScoreSpeech({{1.0, 2.5}, {2.0, 3.0}}, {{1.5, 3.5}}, 5.0, 0.01);
  EXPECT_EQ(c.frames, 500);
  EXPECT_EQ(c.reference, 200);
  EXPECT_EQ(c.missed, 50);
  EXPECT_EQ(c.false_alarm, 50);
  EXPECT_DOUBLE_EQ(c.error_rate(), 0.5);
}

TEST(SpeechEvaluation, ReadsRttmTurns) {
  auto turns = ReadRttmTurns(testing::Fixture("diarization/sample.rttm"));
  ASSERT_TRUE(turns.ok()) << turns.error().message;
  EXPECT_EQ(turns->size(), 10u);
  for (const auto& t : *turns) EXPECT_LT(t.start, t.end);
}

TEST(SpeechEvaluation, BrokenRttmLineIsCorrupt) {
  const std::string path = testing::TempPath("broken.rttm");
  testing::WriteFile(path, "SPEAKER x 1 abc 2.0 <NA> <NA> A <NA> <NA>\n");
  auto turns = ReadRttmTurns(path);
  ASSERT_FALSE(turns.ok());
  EXPECT_EQ(turns.error().code, ErrorCode::kCorrupt);
  EXPECT_FALSE(ReadRttmTurns("/nonexistent.rttm").ok());
}

}  // namespace
}  // namespace crm::audio::vad
