// Re-aligning word times after a correction: unchanged words keep their times and confidence,
// edited runs share their neighbours' gap, punctuation and case do not count as changes, and
// engines that cut words differently from the text still give one word per text word.
#include "domain/word_alignment.h"

#include <gtest/gtest.h>

namespace crm::domain {
namespace {

std::vector<TimedWord> Jfk() {
  return {{0.0, 0.5, " ask", 0.9f, false, "S1"},     {0.5, 0.8, " not", 0.8f, false, "S1"},
          {0.8, 1.2, " what", 0.95f, false, "S1"},   {1.2, 1.5, " your", 0.9f, false, "S1"},
          {1.5, 2.3, " country", 0.4f, false, "S1"}, {2.3, 2.6, " can", 0.9f, false, "S1"}};
}

TEST(WordAlignment, UnchangedWordsKeepTheirTimesAndAReplacedWordTakesTheGap) {
  auto out = AlignWords(Jfk(), "ask not what your nation can", 0, 3, "S1", true);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[4].text, " nation");
  EXPECT_DOUBLE_EQ(out[4].start, 1.5);
  EXPECT_DOUBLE_EQ(out[4].end, 2.3);
  EXPECT_TRUE(out[4].edited);
  EXPECT_FLOAT_EQ(out[4].confidence, 1.0f);
  for (size_t i : {0u, 1u, 2u, 3u, 5u}) {
    EXPECT_FALSE(out[i].edited) << i;
    EXPECT_DOUBLE_EQ(out[i].start, Jfk()[i].start) << i;
    EXPECT_FLOAT_EQ(out[i].confidence, Jfk()[i].confidence) << i;
  }
}

TEST(WordAlignment, InsertedWordsShareTheSpanInProportionToTheirLength) {
  // "really truly" inserted between "what" (ends 1.2) and "your" (starts 1.2): no gap, so the
  // new words sit at 1.2; two words replacing "country" share its 0.8 s by length (4 and 8).
  auto out = AlignWords(Jfk(), "ask not what your dear homeland can", 0, 3, "S1", true);
  ASSERT_EQ(out.size(), 7u);
  EXPECT_DOUBLE_EQ(out[4].start, 1.5);
  EXPECT_NEAR(out[4].end, 1.5 + 0.8 * 4 / 12, 1e-9);
  EXPECT_DOUBLE_EQ(out[5].start, out[4].end);
  EXPECT_DOUBLE_EQ(out[5].end, 2.3);
  EXPECT_DOUBLE_EQ(out[6].start, 2.3);  // "can" kept
}

TEST(WordAlignment, CaseAccentsAndPunctuationAreNotChanges) {
  auto out = AlignWords(Jfk(), "Ask not, what your Country can.", 0, 3, "S1", true);
  ASSERT_EQ(out.size(), 6u);
  for (const auto& w : out) EXPECT_FALSE(w.edited) << w.text;
  EXPECT_EQ(out[1].text, " not,");
  EXPECT_EQ(out[5].text, " can.");
  EXPECT_EQ(AlignmentKey("Hélène,"), AlignmentKey("helene"));
  EXPECT_EQ(AlignmentKey("—"), "—");
}

TEST(WordAlignment, DeletionsDropWordsAndEditedMarksSurviveLaterEdits) {
  auto first = AlignWords(Jfk(), "ask what your nation can", 0, 3, "S1", true);
  ASSERT_EQ(first.size(), 5u);
  EXPECT_DOUBLE_EQ(first[1].start, 0.8);  // "what" kept its time, "not" is gone
  auto second = AlignWords(first, "ask what your nation can do", 0, 3, "S1", true);
  ASSERT_EQ(second.size(), 6u);
  EXPECT_TRUE(second[3].edited);  // "nation", written by a person earlier
  EXPECT_TRUE(second[5].edited);
  EXPECT_DOUBLE_EQ(second[5].start, 2.6);  // after "can", up to the segment's end
  EXPECT_DOUBLE_EQ(second[5].end, 3.0);
}

TEST(WordAlignment, EngineWordsCutDifferentlyGiveOneUnmarkedWordPerTextWord) {
  // A remote engine's words without punctuation, and a segment with no words at all.
  std::vector<TimedWord> remote = {{0, 1, "And", 0.9f, false, ""}, {1, 2, "so", 0.9f, false, ""}};
  auto out = AlignWords(remote, "And so, my", 0, 3, "S2", false);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FALSE(out[1].edited);
  EXPECT_DOUBLE_EQ(out[1].start, 1);
  EXPECT_FALSE(out[2].edited);
  EXPECT_LT(out[2].confidence, 0);  // unknown
  EXPECT_DOUBLE_EQ(out[2].start, 2);
  EXPECT_EQ(out[2].speaker, "S2");
  auto none = AlignWords({}, "Bonjour Maître", 2, 4, "S1", false);
  ASSERT_EQ(none.size(), 2u);
  EXPECT_DOUBLE_EQ(none[0].start, 2);
  EXPECT_DOUBLE_EQ(none[1].end, 4);
  EXPECT_TRUE(AlignWords(Jfk(), "   ", 0, 3, "S1", true).empty());
}

}  // namespace
}  // namespace crm::domain
