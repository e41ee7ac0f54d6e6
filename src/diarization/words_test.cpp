// Words to speakers: largest overlap wins, nearest turn otherwise, segments split at changes.
#include "diarization/words.h"

#include <gtest/gtest.h>

namespace crm::diarization {
namespace {

asr::Word W(double s, double e, const char* text) {
  asr::Word w;
  w.start = s;
  w.end = e;
  w.text = text;
  return w;
}

TEST(WordsTest, BestTurnPrefersLargestOverlapThenNearest) {
  std::vector<Turn> turns = {{0, 2, 0}, {2, 5, 1}, {8, 9, 0}};
  EXPECT_EQ(BestTurn(turns, 1.5, 2.2), 0);  // 0.5 s with speaker 0, 0.2 s with speaker 1
  EXPECT_EQ(BestTurn(turns, 1.9, 2.8), 1);
  EXPECT_EQ(BestTurn(turns, 5.5, 6.0), 1);  // in a gap: 0.5 s after turn 1, 2 s before turn 2
  EXPECT_EQ(BestTurn(turns, 7.0, 7.5), 2);
  EXPECT_EQ(BestTurn(turns, 20, 21), 2);    // after everything
  EXPECT_EQ(BestTurn({}, 0, 1), -1);
}

TEST(WordsTest, SegmentsAreSplitWhereTheSpeakerChanges) {
  asr::Transcript t;
  asr::Segment s;
  s.start = 0;
  s.end = 4;
  s.text = " Bonjour maître. Bonjour madame.";
  s.tokens = {1, 2, 3};
  s.avg_logprob = -0.25f;
  s.words = {W(0.0, 0.5, " Bonjour"), W(0.5, 1.2, " maître."), W(2.1, 2.6, " Bonjour"),
             W(2.6, 3.5, " madame.")};
  t.segments.push_back(s);
  asr::Segment quiet;
  quiet.start = 6;
  quiet.end = 7;
  quiet.text = " Merci.";
  t.segments.push_back(quiet);

  std::vector<Turn> turns = {{0, 2, 0}, {2, 5, 1}, {5.8, 7.5, 0}};
  AssignSpeakers(turns, &t);
  ASSERT_EQ(t.segments.size(), 3u);
  EXPECT_EQ(t.segments[0].speaker, "SPEAKER_1");
  EXPECT_EQ(t.segments[0].text, " Bonjour maître.");
  EXPECT_DOUBLE_EQ(t.segments[0].start, 0);
  EXPECT_DOUBLE_EQ(t.segments[0].end, 1.2);
  EXPECT_EQ(t.segments[0].tokens.size(), 3u);
  EXPECT_EQ(t.segments[1].speaker, "SPEAKER_2");
  EXPECT_EQ(t.segments[1].text, " Bonjour madame.");
  EXPECT_DOUBLE_EQ(t.segments[1].start, 2.1);
  EXPECT_DOUBLE_EQ(t.segments[1].end, 4);
  EXPECT_FLOAT_EQ(t.segments[1].avg_logprob, -0.25f);
  EXPECT_EQ(t.segments[1].words[0].speaker, "SPEAKER_2");
  // A segment without words takes the speaker of its own span.
  EXPECT_EQ(t.segments[2].speaker, "SPEAKER_1");
  EXPECT_EQ(t.segments[2].text, " Merci.");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.segments[i].id, i);
}

TEST(WordsTest, UnsplitSegmentKeepsItsText) {
  asr::Transcript t;
  asr::Segment s;
  s.start = 0;
  s.end = 2;
  s.text = " Oui.";
  s.words = {W(0.1, 0.4, " Oui.")};
  t.segments.push_back(s);
  AssignSpeakers({{0, 3, 4}}, &t);
  ASSERT_EQ(t.segments.size(), 1u);
  EXPECT_EQ(t.segments[0].speaker, "SPEAKER_5");
  EXPECT_DOUBLE_EQ(t.segments[0].end, 2);
  // No turns at all: the transcript is left as it is.
  asr::Transcript untouched = t;
  AssignSpeakers({}, &untouched);
  EXPECT_EQ(untouched.segments[0].speaker, "SPEAKER_5");
}

}  // namespace
}  // namespace crm::diarization
