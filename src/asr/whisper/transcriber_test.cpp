// Long-form transcription, decoding strategies and word alignment on a random-weight tiny
// model: behaviour that does not depend on trained weights (seek, gating, fallback, progress,
// cancellation, time bounds, sharing one model between jobs).
#include "asr/whisper/transcriber.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "asr/whisper/alignment.h"
#include "asr/whisper/test_support.h"

namespace crm::asr::whisper {
namespace {

using namespace crm::asr::whisper::testing;

class TranscriberTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ASSERT_TRUE(MakeModel("tiny", "f16", dir_->File("tiny.bin"), 3));
    model_ =
        new std::shared_ptr<const WhisperModel>(WhisperModel::Load(dir_->File("tiny.bin")).value());
    pool_ = new kernels::ThreadPool(2);
  }
  static void TearDownTestSuite() {
    delete pool_;
    delete model_;
    delete dir_;
  }
  // Quick decoding: greedy, few tokens per window, no fallback.
  static TranscribeOptions Quick() {
    TranscribeOptions o;
    o.language = "en";
    o.beam_size = 1;
    o.temperatures = {0.0f};
    o.sample_len = 12;
    o.no_speech_threshold = NAN;
    return o;
  }
  static std::vector<float> Audio(double seconds) {
    std::mt19937 rng(9);
    std::normal_distribution<float> noise(0.0f, 0.05f);
    std::vector<float> pcm(static_cast<size_t>(seconds * kSampleRate));
    for (size_t i = 0; i < pcm.size(); ++i)
      pcm[i] = 0.2f * std::sin(0.05f * static_cast<float>(i % 5000)) + noise(rng);
    return pcm;
  }
  static void ExpectOrderedInside(const Transcript& t) {
    double last = 0;
    for (const Segment& s : t.segments) {
      EXPECT_GE(s.start, last);
      EXPECT_LE(s.start, s.end);
      EXPECT_LE(s.end, t.duration + 1e-9);
      last = s.start;
    }
  }
  static TempDir* dir_;
  static std::shared_ptr<const WhisperModel>* model_;
  static kernels::ThreadPool* pool_;
};
TempDir* TranscriberTest::dir_ = nullptr;
std::shared_ptr<const WhisperModel>* TranscriberTest::model_ = nullptr;
kernels::ThreadPool* TranscriberTest::pool_ = nullptr;

TEST_F(TranscriberTest, LongAudioIsDecodedWindowByWindowWithOrderedTimes) {
  const auto pcm = Audio(65);
  Transcriber tr(*model_, pool_);
  std::vector<double> progress;
  ProgressSink sink;
  sink.on_progress = [&](double f) { progress.push_back(f); };
  auto t = tr.Run(pcm.data(), pcm.size(), Quick(), sink);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_GE(tr.windows_decoded(), 3);  // 65 s need at least three 30 s windows
  EXPECT_EQ(t->language, "en");
  EXPECT_DOUBLE_EQ(t->duration, 65.0);
  ExpectOrderedInside(*t);
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_DOUBLE_EQ(progress.back(), 1.0);
}

TEST_F(TranscriberTest, SpeechGatingSkipsWholeStretchesWithoutSpeech) {
  const auto pcm = Audio(70);
  Transcriber tr(*model_, pool_);
  TranscribeOptions o = Quick();
  o.gate_with_speech = true;
  o.speech = {{41.0, 44.0}};
  auto t = tr.Run(pcm.data(), pcm.size(), o);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(tr.windows_decoded(), 1);  // one window from 41 s; the rest holds no speech
  for (const Segment& s : t->segments) EXPECT_GE(s.start, 41.0);
  o.speech = {};
  auto none = tr.Run(pcm.data(), pcm.size(), o);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(tr.windows_decoded(), 0);
  EXPECT_TRUE(none->segments.empty());
}

TEST_F(TranscriberTest, FallsBackToHigherTemperaturesWhenTheResultIsRejected) {
  const auto pcm = Audio(10);
  Transcriber tr(*model_, pool_);
  TranscribeOptions o = Quick();
  o.temperatures = {0.0f, 0.5f, 1.0f};
  o.compression_ratio_threshold = 0.01f;  // every result counts as too repetitive
  auto t = tr.Run(pcm.data(), pcm.size(), o);
  ASSERT_TRUE(t.ok());
  ASSERT_FALSE(t->segments.empty());
  for (const Segment& s : t->segments) EXPECT_FLOAT_EQ(s.temperature, 1.0f);
  o.compression_ratio_threshold = 0;  // disabled: greedy is kept
  o.logprob_threshold = NAN;
  auto kept = tr.Run(pcm.data(), pcm.size(), o);
  ASSERT_TRUE(kept.ok());
  for (const Segment& s : kept->segments) EXPECT_FLOAT_EQ(s.temperature, 0.0f);
}

TEST_F(TranscriberTest, BeamSearchAndSamplingGiveOrderedTimestamps) {
  const auto pcm = Audio(12);
  Transcriber tr(*model_, pool_);
  TranscribeOptions o = Quick();
  o.beam_size = 5;
  auto beam = tr.Run(pcm.data(), pcm.size(), o);
  ASSERT_TRUE(beam.ok());
  ExpectOrderedInside(*beam);
  o.temperatures = {0.7f};
  auto sampled = tr.Run(pcm.data(), pcm.size(), o);
  ASSERT_TRUE(sampled.ok());
  ExpectOrderedInside(*sampled);
  o.beam_size = 9;  // more than the transcriber was made for
  EXPECT_EQ(tr.Run(pcm.data(), pcm.size(), o).error().code, ErrorCode::kInvalidArgument);
}

TEST_F(TranscriberTest, CancellationStopsBetweenWindows) {
  const auto pcm = Audio(65);
  Transcriber tr(*model_, pool_);
  ProgressSink sink;
  sink.is_cancelled = [&] { return tr.windows_decoded() >= 1; };
  auto t = tr.Run(pcm.data(), pcm.size(), Quick(), sink);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(tr.windows_decoded(), 1);
  // Also during the first pass over the audio (the mel maximum), before any window.
  sink.is_cancelled = [] { return true; };
  auto early = tr.Run(pcm.data(), pcm.size(), Quick(), sink);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(tr.windows_decoded(), 0);
}

// A recording served the way a decoded file serves it: by reads of asked ranges, which are
// checked against what one window needs.
class WindowedSource final : public audio::SampleSource {
 public:
  WindowedSource(const std::vector<float>& pcm, int rate = kSampleRate) : pcm_(pcm), rate_(rate) {}
  size_t size() const override { return pcm_.size(); }
  int sample_rate() const override { return rate_; }
  Result<size_t> Read(size_t start, float* out, size_t n) const override {
    if (fail_after >= 0 && reads >= fail_after) return IoError("disk gone");
    ++reads;
    largest_read = std::max(largest_read, n);
    samples_read += n;
    return audio::MemorySampleSource(pcm_.data(), pcm_.size()).Read(start, out, n);
  }
  int fail_after = -1;
  mutable int reads = 0;
  mutable size_t largest_read = 0;
  mutable size_t samples_read = 0;

 private:
  const std::vector<float>& pcm_;
  int rate_;
};

void ExpectSameTranscript(const Transcript& a, const Transcript& b) {
  EXPECT_EQ(a.language, b.language);
  EXPECT_DOUBLE_EQ(a.duration, b.duration);
  ASSERT_EQ(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < a.segments.size(); ++i) {
    EXPECT_EQ(a.segments[i].tokens, b.segments[i].tokens) << i;
    EXPECT_DOUBLE_EQ(a.segments[i].start, b.segments[i].start) << i;
    EXPECT_DOUBLE_EQ(a.segments[i].end, b.segments[i].end) << i;
    EXPECT_FLOAT_EQ(a.segments[i].avg_logprob, b.segments[i].avg_logprob) << i;
    ASSERT_EQ(a.segments[i].words.size(), b.segments[i].words.size()) << i;
    for (size_t w = 0; w < a.segments[i].words.size(); ++w)
      EXPECT_DOUBLE_EQ(a.segments[i].words[w].start, b.segments[i].words[w].start);
  }
}

TEST_F(TranscriberTest, ASourceIsReadOneWindowAtATimeAndGivesTheSameTranscript) {
  // jfk.wav twice with noise after each: 62 s, three windows.
  const auto jfk = ReadWav16(SourceDir() + "/tests/data/asr/jfk.wav");
  std::vector<float> pcm;
  const auto noise = Audio(20);
  for (int i = 0; i < 2; ++i) {
    pcm.insert(pcm.end(), jfk.begin(), jfk.end());
    pcm.insert(pcm.end(), noise.begin(), noise.end());
  }
  TranscribeOptions o = Quick();
  Transcriber tr(*model_, pool_);
  auto expected = tr.Run(pcm.data(), pcm.size(), o);
  ASSERT_TRUE(expected.ok());
  WindowedSource source(pcm);
  auto t = tr.Run(source, o);
  ASSERT_TRUE(t.ok()) << t.error().message;
  ExpectSameTranscript(*t, *expected);
  EXPECT_GE(tr.windows_decoded(), 3);
  // No read larger than a window and its frames' reach: memory does not grow with length.
  EXPECT_LE(source.largest_read, static_cast<size_t>(kChunkSamples + 2 * kNfft));
  // One pass for the mel maximum, then each window's samples.
  EXPECT_LE(source.samples_read, pcm.size() + (tr.windows_decoded() + 4) *
                                                  static_cast<size_t>(kChunkSamples + 2 * kNfft));
}

TEST_F(TranscriberTest, SourcesOfTheWrongRateAndReadErrorsAreReported) {
  const auto pcm = Audio(40);
  Transcriber tr(*model_, pool_);
  WindowedSource eight_khz(pcm, 8000);
  auto wrong = tr.Run(eight_khz, Quick());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidArgument);
  for (int fail_after : {0, 2}) {  // during the maximum pass, then at a window
    WindowedSource failing(pcm);
    failing.fail_after = fail_after;
    auto t = tr.Run(failing, Quick());
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, ErrorCode::kIo);
  }
}

TEST_F(TranscriberTest, WordTimestampsStayInsideTheirSegments) {
  const auto pcm = ReadWav16(SourceDir() + "/tests/data/asr/jfk.wav");
  Transcriber tr(*model_, pool_);
  TranscribeOptions o = Quick();
  o.sample_len = 20;
  o.word_timestamps = true;
  auto t = tr.Run(pcm.data(), pcm.size(), o);
  ASSERT_TRUE(t.ok());
  int words = 0;
  for (const Segment& s : t->segments) {
    double last = s.start;
    for (const Word& w : s.words) {
      EXPECT_GE(w.start, last - 1e-9);
      EXPECT_LE(w.start, w.end);
      EXPECT_LE(w.end, s.end + 1e-9);
      EXPECT_GE(w.probability, 0.0f);
      EXPECT_LE(w.probability, 1.0f);
      last = w.start;
      ++words;
    }
  }
  EXPECT_GT(words, 0);
}

TEST_F(TranscriberTest, LanguagesAreCheckedAndDetected) {
  const auto pcm = Audio(5);
  Transcriber tr(*model_, pool_);
  TranscribeOptions o = Quick();
  o.language = "xx";
  EXPECT_EQ(tr.Run(pcm.data(), pcm.size(), o).error().code, ErrorCode::kInvalidArgument);
  o.language = "auto";
  auto t = tr.Run(pcm.data(), pcm.size(), o);
  ASSERT_TRUE(t.ok());
  EXPECT_NE((*model_)->tokenizer().LanguageToken(t->language), -1) << t->language;
}

TEST_F(TranscriberTest, JobsShareOneModelAndAgree) {
  const auto pcm = Audio(8);
  Transcriber alone(*model_, pool_);
  auto expected = alone.Run(pcm.data(), pcm.size(), Quick());
  ASSERT_TRUE(expected.ok());
  std::vector<Result<Transcript>> results(2, Result<Transcript>(Transcript{}));
  std::vector<std::thread> jobs;
  for (int j = 0; j < 2; ++j) {
    jobs.emplace_back([&, j] {
      kernels::ThreadPool pool(ThreadsPerJob(2, 2));
      Transcriber tr(*model_, &pool);
      results[j] = tr.Run(pcm.data(), pcm.size(), Quick());
    });
  }
  for (auto& j : jobs) j.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->segments.size(), expected->segments.size());
    for (size_t i = 0; i < r->segments.size(); ++i)
      EXPECT_EQ(r->segments[i].tokens, expected->segments[i].tokens);
  }
  ModelCache cache;
  auto a = cache.Get(dir_->File("tiny.bin"));
  auto b = cache.Get(dir_->File("tiny.bin"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());  // mapped once
  EXPECT_EQ(ThreadsPerJob(2, 3), 1);
  EXPECT_EQ(ThreadsPerJob(8, 2), 4);
}

TEST(DecodingTest, RepetitionGuardSeesOnlyLongShortPeriodLoops) {
  std::vector<int> loop;
  for (int i = 0; i < 60; ++i) loop.push_back(100 + i % 3);  // period 3
  EXPECT_TRUE(EndsInRepetitionLoop(loop));
  loop.resize(40);  // too short to call it a loop
  EXPECT_FALSE(EndsInRepetitionLoop(loop));
  std::vector<int> varied;
  for (int i = 0; i < 60; ++i) varied.push_back(100 + (i * 7) % 11);  // period 11
  EXPECT_FALSE(EndsInRepetitionLoop(varied));
  std::vector<int> broken(60, 5);
  broken[50] = 6;
  EXPECT_FALSE(EndsInRepetitionLoop(broken));
  EXPECT_GT(CompressionRatio(std::string(200, 'a')), 2.4f);
  EXPECT_LT(CompressionRatio(" Ask not what your country can do for you."), 2.4f);
}

TEST(AlignmentTest, DynamicTimeWarpFollowsTheCheapestMonotonicPath) {
  // Three tokens over six frames; cheap cells on a staircase.
  std::vector<float> cost = {0, 0, 9, 9, 9, 9,  //
                             9, 9, 0, 0, 9, 9,  //
                             9, 9, 9, 9, 0, 0};
  auto path = DynamicTimeWarp(cost, 3, 6);
  std::vector<std::pair<int, int>> expected = {{0, 0}, {0, 1}, {1, 2}, {1, 3}, {2, 4}, {2, 5}};
  EXPECT_EQ(path, expected);
}

TEST_F(TranscriberTest, WordsGroupSubwordTokensAndKeepCharactersWhole) {
  const Tokenizer& tok = (*model_)->tokenizer();
  auto ids = tok.Encode(" Maître Dupré signe");
  auto words = SplitWords(tok, ids, "fr");
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[0].first, " Maître");
  EXPECT_EQ(words[1].first, " Dupré");
  EXPECT_EQ(words[2].first, " signe");
  auto zh = SplitWords(tok, tok.Encode("我们签合同"), "zh");
  std::string joined;
  for (const auto& w : zh) joined += w.first;
  EXPECT_EQ(joined, "我们签合同");
  for (const auto& w : zh) EXPECT_EQ(w.first.find("\xEF\xBF\xBD"), std::string::npos);
}

}  // namespace
}  // namespace crm::asr::whisper
