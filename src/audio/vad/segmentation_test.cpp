#include "audio/vad/segmentation.h"

#include <gtest/gtest.h>

namespace crm::audio::vad {
namespace {

SegmentationOptions Plain() {
  SegmentationOptions o;
  o.threshold = 0.5f;
  o.neg_threshold = 0.35f;
  o.min_speech_seconds = 0;
  o.min_silence_seconds = 0;
  o.pad_seconds = 0;
  return o;
}

// 0.1 s frames.
std::vector<SpeechSegment> Seg(const std::vector<float>& p, const SegmentationOptions& o) {
  return SegmentSpeech(p, 0.1, p.size() * 0.1, o);
}

void ExpectSegments(const std::vector<SpeechSegment>& got,
                    const std::vector<std::pair<double, double>>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i].start, want[i].first, 1e-9) << i;
    EXPECT_NEAR(got[i].end, want[i].second, 1e-9) << i;
  }
}

TEST(Segmentation, SpeechRunsFromThresholdToBelowNegThreshold) {
  // 0.4 is between the thresholds: it neither starts speech nor ends it.
  ExpectSegments(Seg({0.1f, 0.4f, 0.9f, 0.4f, 0.4f, 0.2f, 0.1f}, Plain()), {{0.2, 0.5}});
}

TEST(Segmentation, NegThresholdDefaultsToThresholdMinus015) {
  auto o = Plain();
  o.neg_threshold = -1;
  // 0.36 >= 0.5 - 0.15: still speech.
  ExpectSegments(Seg({0.9f, 0.36f, 0.34f, 0.0f}, o), {{0.0, 0.2}});
}

TEST(Segmentation, GapsShorterThanMinSilenceAreBridged) {
  auto o = Plain();
  o.min_silence_seconds = 0.3;
  const std::vector<float> p = {0.9f, 0.9f, 0.1f, 0.1f, 0.9f, 0.1f, 0.1f, 0.1f, 0.9f, 0.1f};
  // The 0.2 s gap is bridged; the 0.3 s one is not; the last burst ends at the audio's end.
  ExpectSegments(Seg(p, o), {{0.0, 0.5}, {0.8, 0.9}});
}

TEST(Segmentation, ShortBurstsAreDropped) {
  auto o = Plain();
  o.min_speech_seconds = 0.25;
  ExpectSegments(Seg({0.9f, 0.9f, 0.0f, 0.0f, 0.9f, 0.9f, 0.9f, 0.0f}, o), {{0.4, 0.7}});
}

TEST(Segmentation, PaddingIsClippedToTheAudioAndMergesNeighbours) {
  auto o = Plain();
  o.pad_seconds = 0.15;
  const std::vector<float> p = {0.9f, 0.0f, 0.0f, 0.9f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.9f};
  // [0,0.1] and [0.3,0.4] padded overlap -> merged; the last one is clipped at 1.0 s.
  ExpectSegments(Seg(p, o), {{0.0, 0.55}, {0.75, 1.0}});
}

TEST(Segmentation, SpeechStillOpenAtTheEndIsClosedThere) {
  ExpectSegments(SegmentSpeech({0.1f, 0.9f, 0.9f}, 0.1, 0.25, Plain()), {{0.1, 0.25}});
}

TEST(Segmentation, NothingAboveThresholdIsNoSpeech) {
  EXPECT_TRUE(Seg({0.1f, 0.2f, 0.49f}, Plain()).empty());
  EXPECT_TRUE(Seg({}, Plain()).empty());
}

TEST(Segmentation, IncrementalSegmenterEqualsTheBatchResult) {
  SegmentationOptions o;  // the recommended defaults
  std::vector<float> p;
  for (int i = 0; i < 3000; ++i) p.push_back(static_cast<float>((i * 7919 % 101) / 100.0));
  for (int i = 0; i < 3000; i += 200)
    for (int k = 0; k < 60; ++k) p[i + k] = 0.95f;
  const auto whole = SegmentSpeech(p, 0.032, p.size() * 0.032, o);
  SpeechSegmenter s(0.032, o);
  std::vector<SpeechSegment> pieces;
  for (size_t pos = 0; pos < p.size(); pos += 37)
    s.Push(p.data() + pos, std::min<size_t>(37, p.size() - pos), &pieces);
  s.Finish(p.size() * 0.032, &pieces);
  ASSERT_EQ(pieces.size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(pieces[i].start, whole[i].start);
    EXPECT_EQ(pieces[i].end, whole[i].end);
  }
}

}  // namespace
}  // namespace crm::audio::vad
