// RTTM and JSON output: what is written reads back the same; malformed input is named.
#include "diarization/rttm.h"

#include <gtest/gtest.h>

namespace crm::diarization {
namespace {

TEST(RttmTest, WrittenTurnsReadBackTheSame) {
  std::vector<Turn> turns = {{0.5, 2.25, 0}, {2.0, 3.0, 1}, {4.125, 9.875, 0}};
  std::string text = WriteRttm(NameTurns(turns), "meeting 12");
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "SPEAKER meeting_12 1 0.500 1.750 <NA> <NA> SPEAKER_1 <NA> <NA>");
  auto back = ParseRttm(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), 3u);
  for (size_t i = 0; i < turns.size(); ++i) {
    EXPECT_NEAR((*back)[i].start, turns[i].start, 1e-9);
    EXPECT_NEAR((*back)[i].end, turns[i].end, 1e-9);
    EXPECT_EQ((*back)[i].speaker, SpeakerLabel(turns[i].speaker));
  }
}

TEST(RttmTest, SkipsCommentsAndOtherLineTypes) {
  auto r = ParseRttm(";; a comment\n\nSPKR-INFO x 1 <NA> <NA> <NA> unknown A <NA> <NA>\n"
                     "SPEAKER x 1 1.0 2.0 <NA> <NA> A <NA> <NA>\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_DOUBLE_EQ((*r)[0].end, 3.0);
}

TEST(RttmTest, MalformedLineIsReportedWithItsNumber) {
  auto r = ParseRttm("SPEAKER x 1 1.0 2.0 <NA> <NA> A <NA> <NA>\nSPEAKER x 1 abc 2.0 <NA> <NA> B\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(r.error().message.find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseRttm("SPEAKER x 1 1.0 -2 <NA> <NA> A\n").ok());
  EXPECT_FALSE(ParseRttm("SPEAKER x 1 1.0\n").ok());
}

TEST(RttmTest, JsonListsSpeakersAndTurns) {
  Diarization d;
  d.duration = 12.0004;
  d.num_speakers = 2;
  d.turns = {{0, 1.23456, 0}, {1.5, 3, 1}};
  nlohmann::json j = DiarizationToJson(d);
  EXPECT_EQ(j["num_speakers"], 2);
  EXPECT_EQ(j["speakers"], nlohmann::json({"SPEAKER_1", "SPEAKER_2"}));
  EXPECT_DOUBLE_EQ(j["duration"].get<double>(), 12.0);
  EXPECT_DOUBLE_EQ(j["turns"][0]["end"].get<double>(), 1.235);
  EXPECT_EQ(j["turns"][1]["speaker"], "SPEAKER_2");
}

}  // namespace
}  // namespace crm::diarization
