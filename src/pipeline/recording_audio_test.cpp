// RecordingAudio and DetectSpeech on the repository's AMI fixtures, with the real decoder and
// both shipped detectors.
#include "pipeline/recording_audio.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "audio/decoder.h"

namespace crm::pipeline {
namespace {

namespace fs = std::filesystem;

std::string SourceDir() {
  const char* d = std::getenv("CRM_SOURCE_DIR");
  return d ? d : ".";
}
std::string Fixture(const std::string& rel) { return SourceDir() + "/tests/data/" + rel; }
std::string ShippedSilero() {
  const char* d = std::getenv("CRM_BUILD_DIR");
  return std::string(d ? d : ".") + "/" + audio::kSileroModelFile;
}

class RecordingAudioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = (fs::temp_directory_path() / ("crm_recording_audio_test_" + std::to_string(getpid())))
               .string();
  }
  void TearDown() override { fs::remove_all(tmp_); }
  std::string tmp_;
};

TEST_F(RecordingAudioTest, SpeechReadInPiecesIsTheSpeechOfTheWholeBuffer) {
  const std::string path = Fixture("diarization/dev00.wav");
  auto pcm = audio::DecodeFile(path);
  ASSERT_TRUE(pcm.ok());
  auto file = audio::DecodedFile::Decode(path, tmp_);
  ASSERT_TRUE(file.ok());
  auto silero = audio::MakeSileroDetector({"silero", ShippedSilero()});
  ASSERT_TRUE(silero.ok()) << silero.error().message;
  auto energy = audio::MakeEnergyDetector();
  for (audio::VoiceActivityDetector* d : {silero->get(), energy.get()}) {
    auto whole = d->Detect(pcm->data(), pcm->size());
    ASSERT_TRUE(whole.ok());
    auto pieces = audio::DetectSpeech(*d, **file);
    ASSERT_TRUE(pieces.ok()) << pieces.error().message;
    ASSERT_EQ(pieces->size(), whole->size()) << d->name();
    ASSERT_FALSE(whole->empty()) << d->name();
    for (size_t i = 0; i < whole->size(); ++i) {
      EXPECT_DOUBLE_EQ((*pieces)[i].start, (*whole)[i].start) << d->name() << " " << i;
      EXPECT_DOUBLE_EQ((*pieces)[i].end, (*whole)[i].end) << d->name() << " " << i;
    }
  }
}

TEST_F(RecordingAudioTest, DecodesOnceForEveryStageAndReportsProgressInOrder) {
  RecordingAudio audio(Fixture("asr/jfk.wav"), tmp_, {"energy", ""});
  EXPECT_FALSE(audio.decoded());
  std::vector<double> fractions;
  ProgressSink progress;
  progress.on_progress = [&](double f) { fractions.push_back(f); };
  auto speech = audio.Speech(progress);  // decodes first, then detects
  ASSERT_TRUE(speech.ok()) << speech.error().message;
  EXPECT_TRUE(audio.decoded());
  EXPECT_FALSE((*speech)->empty());
  ASSERT_FALSE(fractions.empty());
  EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
  auto a = audio.Samples();
  auto b = audio.Samples();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b) << "the same decode is handed out again";
  EXPECT_NEAR((*a)->duration_seconds(), 11.0, 0.01);
  auto again = audio.Speech();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *speech);
}

TEST_F(RecordingAudioTest, DecodeErrorsAndCancellationComeBackAndCanBeRetried) {
  RecordingAudio missing(tmp_ + "/nowhere.m4a", tmp_, {"energy", ""});
  auto m = missing.Speech();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);

  RecordingAudio audio(Fixture("asr/jfk.wav"), tmp_, {"energy", ""});
  ProgressSink stop;
  stop.is_cancelled = [] { return true; };
  auto cancelled = audio.Samples(stop);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code, ErrorCode::kCancelled);
  EXPECT_FALSE(audio.decoded());
  EXPECT_TRUE(audio.Samples().ok()) << "a later call decodes";
  auto detect_cancelled = audio.Speech(stop);
  ASSERT_FALSE(detect_cancelled.ok());
  EXPECT_EQ(detect_cancelled.error().code, ErrorCode::kCancelled);
  EXPECT_TRUE(audio.Speech().ok());
}

}  // namespace
}  // namespace crm::pipeline
