// DER scorer on hand-made cases whose answers are worked out by hand.
#include "diarization/der.h"

#include <gtest/gtest.h>

namespace crm::diarization {
namespace {

constexpr double kEps = 1e-9;

TEST(DerTest, PerfectAnswerWithOtherNamesScoresZero) {
  std::vector<NamedTurn> ref = {{0, 10, "alice"}, {10, 20, "bob"}, {25, 30, "alice"}};
  std::vector<NamedTurn> sys = {{0, 10, "S1"}, {10, 20, "S2"}, {25, 30, "S1"}};
  DerResult r = ScoreDiarization(ref, sys);
  EXPECT_NEAR(r.total, 25, kEps);
  EXPECT_NEAR(r.der(), 0, kEps);
  EXPECT_EQ(r.mapping.at("S1"), "alice");
  EXPECT_EQ(r.mapping.at("S2"), "bob");
  EXPECT_EQ(r.reference_speakers, 2);
  EXPECT_EQ(r.system_speakers, 2);
}

TEST(DerTest, OneSpeakerForTwoIsHalfConfusion) {
  DerResult r = ScoreDiarization({{0, 10, "A"}, {10, 20, "B"}}, {{0, 20, "X"}});
  EXPECT_NEAR(r.total, 20, kEps);
  EXPECT_NEAR(r.confusion, 10, kEps);
  EXPECT_NEAR(r.missed, 0, kEps);
  EXPECT_NEAR(r.false_alarm, 0, kEps);
  EXPECT_NEAR(r.der(), 0.5, kEps);
}

TEST(DerTest, ShiftedTurnIsMissedPlusFalseAlarm) {
  DerResult r = ScoreDiarization({{0, 10, "A"}}, {{5, 15, "X"}});
  EXPECT_NEAR(r.missed, 5, kEps);
  EXPECT_NEAR(r.false_alarm, 5, kEps);
  EXPECT_NEAR(r.confusion, 0, kEps);
  EXPECT_NEAR(r.der(), 1.0, kEps);
}

TEST(DerTest, OverlapCountsOncePerSpeaker) {
  // Reference: A 0-10 with B also talking 5-10; system finds only one voice throughout.
  DerResult r = ScoreDiarization({{0, 10, "A"}, {5, 10, "B"}}, {{0, 10, "X"}});
  EXPECT_NEAR(r.total, 15, kEps);
  EXPECT_NEAR(r.missed, 5, kEps);
  EXPECT_NEAR(r.confusion, 0, kEps);
  EXPECT_NEAR(r.der(), 5.0 / 15, kEps);
  // Finding the second voice where it is makes it perfect.
  DerResult both = ScoreDiarization({{0, 10, "A"}, {5, 10, "B"}}, {{0, 10, "X"}, {5, 10, "Y"}});
  EXPECT_NEAR(both.der(), 0, kEps);
}

TEST(DerTest, MappingIsOptimalNotGreedy) {
  // X overlaps A for 5 s and B for 4 s; Y overlaps A for 4 s. Greedy pairs X-A (5 s correct in
  // all); the optimum pairs X-B and Y-A (8 s correct): confusion 13 - 8 = 5.
  std::vector<NamedTurn> ref = {{0, 9, "A"}, {9, 13, "B"}};
  std::vector<NamedTurn> sys = {{0, 4, "Y"}, {4, 13, "X"}};
  DerResult r = ScoreDiarization(ref, sys);
  EXPECT_EQ(r.mapping.at("X"), "B");
  EXPECT_EQ(r.mapping.at("Y"), "A");
  EXPECT_NEAR(r.confusion, 5, kEps);
  EXPECT_NEAR(r.der(), 5.0 / 13, kEps);
}

TEST(DerTest, CollarForgivesBoundaryErrors) {
  std::vector<NamedTurn> ref = {{0, 10, "A"}, {10, 20, "B"}};
  std::vector<NamedTurn> sys = {{0, 10.2, "X"}, {10.2, 20, "Y"}};
  DerResult strict = ScoreDiarization(ref, sys);
  EXPECT_NEAR(strict.confusion, 0.2, 1e-6);
  DerOptions collar;
  collar.collar = 0.25;
  DerResult loose = ScoreDiarization(ref, sys, collar);
  EXPECT_NEAR(loose.der(), 0, 1e-9);
  // 0.25 s each side of 0, 10 (twice: end of A, start of B) and 20 is unscored: 20 - 0.25 - 0.5
  // - 0.25 = 19 s of reference speech remain.
  EXPECT_NEAR(loose.total, 19, 1e-6);
}

TEST(DerTest, ScoredRegionAndSkippedOverlap) {
  DerOptions o;
  o.uem_start = 0;
  o.uem_end = 30;
  // False alarm past the last reference turn is inside the scored region.
  DerResult r = ScoreDiarization({{0, 10, "A"}}, {{0, 10, "X"}, {20, 30, "X"}}, o);
  EXPECT_NEAR(r.false_alarm, 10, kEps);
  DerOptions skip;
  skip.skip_overlap = true;
  DerResult s = ScoreDiarization({{0, 10, "A"}, {5, 10, "B"}}, {{0, 10, "X"}}, skip);
  EXPECT_NEAR(s.total, 5, kEps);
  EXPECT_NEAR(s.der(), 0, kEps);
}

TEST(DerTest, EmptySidesAreAllMissedOrAllFalseAlarm) {
  DerResult nothing_found = ScoreDiarization({{1, 3, "A"}}, {});
  EXPECT_NEAR(nothing_found.der(), 1.0, kEps);
  DerResult nothing_said = ScoreDiarization({}, {{1, 3, "X"}});
  EXPECT_NEAR(nothing_said.false_alarm, 2, kEps);
  EXPECT_NEAR(nothing_said.total, 0, kEps);
}

TEST(DerTest, AssignmentSolvesRectangularProblems) {
  // Rows to columns, minimum total cost 1 + 2 + 1 = 4 (row 0->1, row 1->0, row 2->2).
  std::vector<std::vector<double>> cost = {{4, 1, 3}, {2, 0, 5}, {3, 2, 1}};
  std::vector<int> a = SolveAssignment(cost);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_DOUBLE_EQ(cost[0][a[0]] + cost[1][a[1]] + cost[2][a[2]], 4);
  EXPECT_EQ(a[0], 1);
  EXPECT_EQ(a[1], 0);
  EXPECT_EQ(a[2], 2);
  // More rows than columns: one row stays unassigned.
  std::vector<int> b = SolveAssignment({{1}, {0}});
  EXPECT_EQ(b[1], 0);
  EXPECT_EQ(b[0], -1);
}

}  // namespace
}  // namespace crm::diarization
