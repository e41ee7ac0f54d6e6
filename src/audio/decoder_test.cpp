// Decoding tests on real files produced by the ffmpeg command-line tool in a temporary folder.
#include "audio/decoder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer keeps freed memory aside (256 MB by default), which would read as growth in
// the memory test; a small quarantine keeps that test meaningful in sanitized builds.
extern "C" const char* __asan_default_options() { return "quarantine_size_mb=4"; }
#endif

namespace crm::audio {
namespace {

namespace fs = std::filesystem;

class DecoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new fs::path(fs::temp_directory_path() / ("crm_decoder_test_" + std::to_string(getpid())));
    fs::create_directories(*dir_);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  // Runs ffmpeg with `args` writing `name` in the temp folder; returns its path.
  static std::string Make(const std::string& name, const std::string& args) {
    std::string out = (*dir_ / name).string();
    std::string cmd = "ffmpeg -hide_banner -loglevel error -y " + args + " '" + out + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return out;
  }
  static std::string Sine(const std::string& name, const std::string& codec_args,
                          double seconds = 3, int rate = 44100) {
    return Make(name, "-f lavfi -i sine=frequency=440:sample_rate=" + std::to_string(rate) +
                          ":duration=" + std::to_string(seconds) + " " + codec_args);
  }
  static std::string Write(const std::string& name, const std::string& bytes) {
    std::string out = (*dir_ / name).string();
    std::ofstream(out, std::ios::binary) << bytes;
    return out;
  }
  static std::string DataFile(const std::string& rel) {
    const char* root = std::getenv("CRM_SOURCE_DIR");
    return std::string(root ? root : CRM_SOURCE_DIR_DEFAULT) + "/tests/data/" + rel;
  }

  static void ExpectDecodes(const std::string& path, double seconds) {
    auto pcm = DecodeFile(path);
    ASSERT_TRUE(pcm.ok()) << path << ": " << pcm.error().message;
    EXPECT_NEAR(pcm->size() / static_cast<double>(kSampleRate), seconds, 0.05) << path;
    float peak = 0;
    for (float v : *pcm) peak = std::max(peak, std::fabs(v));
    EXPECT_GT(peak, 0.05f) << path;
    EXPECT_LE(peak, 1.0f) << path;
  }

  static fs::path* dir_;
};

fs::path* DecoderTest::dir_ = nullptr;

TEST_F(DecoderTest, DecodesEveryCommonFormatTo16kMonoWithTheRightDuration) {
  ExpectDecodes(Sine("a.wav", "-c:a pcm_s16le"), 3);
  ExpectDecodes(Sine("a.mp3", "-c:a libmp3lame -b:a 64k"), 3);
  ExpectDecodes(Sine("a.m4a", "-c:a aac -b:a 64k"), 3);
  ExpectDecodes(Sine("a.ogg", "-c:a libopus -b:a 32k", 3, 48000), 3);
  ExpectDecodes(Sine("a.flac", "-c:a flac"), 3);
  ExpectDecodes(Sine("a.webm", "-c:a libopus -b:a 32k", 3, 48000), 3);
  ExpectDecodes(Sine("phone.wav", "-c:a pcm_s16le", 3, 8000), 3);
}

TEST_F(DecoderTest, EncodeWavWritesWhatDecodingReadsBack) {
  std::vector<float> pcm(16000);
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = 0.5f * std::sin(0.05f * static_cast<float>(i));
  pcm[10] = 3.0f;  // clamped to full scale
  const std::string bytes = EncodeWav(pcm);
  EXPECT_EQ(bytes.size(), 44 + 2 * pcm.size());
  EXPECT_EQ(bytes.substr(0, 4), "RIFF");
  auto back = DecodeFile(Write("encoded.wav", bytes));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), pcm.size());
  for (size_t i = 0; i < pcm.size(); ++i)
    ASSERT_NEAR((*back)[i], std::clamp(pcm[i], -1.0f, 1.0f), 1.0 / 32767) << i;
}

TEST_F(DecoderTest, DecodesTheAudioTrackOfVideoFiles) {
  const std::string video = "-f lavfi -i testsrc=size=64x48:rate=10:duration=3 ";
  const std::string audio = "-f lavfi -i sine=frequency=440:sample_rate=44100:duration=3 ";
  std::string mp4 = Make("v.mp4", video + audio + "-c:v libx264 -preset ultrafast -c:a aac");
  std::string mov = Make("v.mov", video + audio + "-c:v mpeg4 -c:a pcm_s16le");
  ExpectDecodes(mp4, 3);
  ExpectDecodes(mov, 3);
  auto info = Probe(mp4);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->has_video);
  EXPECT_EQ(info->codec, "aac");
}

TEST_F(DecoderTest, DecodesNarrowbandAmr) {
  auto info = Probe(DataFile("asr/jfk-8k.amr"));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->sample_rate, 8000);
  EXPECT_EQ(info->codec.substr(0, 6), "amrnb");
  ExpectDecodes(DataFile("asr/jfk-8k.amr"), 11.0);
}

TEST_F(DecoderTest, ProbeReportsWhatWasFound) {
  std::string path = Make("stereo.flac",
                          "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 "
                          "-ac 2 -c:a flac");
  auto info = Probe(path);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->container, "flac");
  EXPECT_EQ(info->codec, "flac");
  EXPECT_EQ(info->sample_rate, 48000);
  EXPECT_EQ(info->channels, 2);
  EXPECT_NEAR(info->duration_seconds, 2.0, 0.01);
  EXPECT_EQ(info->size_bytes, static_cast<int64_t>(fs::file_size(path)));
  EXPECT_FALSE(info->has_video);
}

TEST_F(DecoderTest, DownmixesStereoByAveragingTheChannels) {
  // Left: 1 kHz sine at amplitude 0.5; right: silence. The mono mix peaks at 0.25.
  std::string path = Make("left.wav",
                          "-f lavfi -i 'aevalsrc=0.5*sin(2*PI*1000*t)|0:s=16000:d=1' "
                          "-c:a pcm_f32le");
  auto pcm = DecodeFile(path);
  ASSERT_TRUE(pcm.ok()) << pcm.error().message;
  float peak = 0;
  for (float v : *pcm) peak = std::max(peak, std::fabs(v));
  EXPECT_NEAR(peak, 0.25f, 0.005f);
}

TEST_F(DecoderTest, StreamingReadsInSmallChunksEqualDecodeFile) {
  std::string path = Sine("stream.mp3", "-c:a libmp3lame -b:a 48k", 4);
  auto whole = DecodeFile(path);
  ASSERT_TRUE(whole.ok());
  auto stream = PcmStream::Open(path);
  ASSERT_TRUE(stream.ok());
  std::vector<float> pieces;
  float buf[97];
  while (true) {
    auto got = (*stream)->Read(buf, 97);
    ASSERT_TRUE(got.ok());
    if (*got == 0) break;
    pieces.insert(pieces.end(), buf, buf + *got);
  }
  EXPECT_EQ(pieces, *whole);
  EXPECT_EQ((*stream)->skipped_frames(), 0);
  auto again = (*stream)->Read(buf, 97);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);
}

TEST_F(DecoderTest, ResamplesToTheAskedRate) {
  std::string path = Sine("rate.wav", "-c:a pcm_s16le", 2, 44100);
  auto pcm = DecodeFile(path, 8000);
  ASSERT_TRUE(pcm.ok());
  EXPECT_NEAR(pcm->size(), 16000u, 10u);
}

TEST_F(DecoderTest, TruncatedFilesDecodeWhatIsThereOrFailCleanly) {
  for (const char* name : {"t.mp3", "t.m4a", "t.ogg", "t.flac", "t.wav", "t.webm"}) {
    const std::string ext = fs::path(name).extension().string();
    std::string codec = ext == ".mp3"    ? "-c:a libmp3lame"
                        : ext == ".m4a"  ? "-c:a aac"
                        : ext == ".flac" ? "-c:a flac"
                        : ext == ".wav"  ? "-c:a pcm_s16le"
                                         : "-c:a libopus";
    std::string full = Sine(std::string("full_") + name, codec, 4, 48000);
    std::ifstream in(full, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::string half = Write(name, bytes.substr(0, bytes.size() / 2));
    auto pcm = DecodeFile(half);
    if (pcm.ok()) {
      EXPECT_GT(pcm->size(), 0u) << name;
      EXPECT_LE(pcm->size() / 16000.0, 4.1) << name;
    } else {
      EXPECT_EQ(pcm.error().code, ErrorCode::kUndecodable) << name << ": " << pcm.error().message;
    }
  }
}

TEST_F(DecoderTest, CorruptMiddleIsSkippedNotFatal) {
  std::string full = Sine("corrupt_src.mp3", "-c:a libmp3lame -b:a 64k", 4);
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::mt19937 rng(7);
  for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 4000; ++i)
    bytes[i] = static_cast<char>(rng());
  std::string path = Write("corrupt.mp3", bytes);
  // FFmpeg's own complaints must not reach stderr; only our one warning does.
  std::string captured = (*dir_ / "stderr.txt").string();
  std::fflush(stderr);
  int saved = dup(STDERR_FILENO);
  int fd = open(captured.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(fd, STDERR_FILENO);
  auto pcm = DecodeFile(path);
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fd);
  ASSERT_TRUE(pcm.ok()) << pcm.error().message;
  EXPECT_GT(pcm->size() / 16000.0, 3.0);
  std::ifstream in_log(captured);
  std::string logs((std::istreambuf_iterator<char>(in_log)), {});
  EXPECT_NE(logs.find("skipping damaged audio frames"), std::string::npos) << logs;
  EXPECT_EQ(logs.find(" @ 0x"), std::string::npos) << logs;
}

TEST_F(DecoderTest, AudioLostToDamageBecomesSilenceSoLaterAudioKeepsItsTime) {
  // Ogg pages carry timestamps: a damaged page is dropped and the hole it leaves is filled.
  std::string full = Sine("gap_src.ogg", "-c:a libopus -b:a 64k", 4, 48000);
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 3000; ++i) bytes[i] ^= 0x5a;
  auto pcm = DecodeFile(Write("gap.ogg", bytes));
  ASSERT_TRUE(pcm.ok()) << pcm.error().message;
  EXPECT_NEAR(pcm->size() / 16000.0, 4.0, 0.05);
  // The hole is silent, not a copy of neighbouring audio.
  size_t silent_run = 0, longest = 0;
  for (float v : *pcm) {
    silent_run = v == 0.0f ? silent_run + 1 : 0;
    longest = std::max(longest, silent_run);
  }
  EXPECT_GT(longest, 16000u / 10);
}

TEST_F(DecoderTest, EmptyFileIsUndecodable) {
  auto r = Probe(Write("empty.wav", ""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUndecodable);
  EXPECT_NE(r.error().message.find("empty"), std::string::npos);
}

TEST_F(DecoderTest, TextFileIsNotMedia) {
  for (const char* name : {"notes.txt", "notes.wav"}) {
    auto r = Probe(Write(name, "Compte rendu de la réunion avec Maître Dupont.\nÀ suivre.\n"));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kUnsupportedMediaType) << name << r.error().message;
    EXPECT_NE(r.error().message.find("not an audio or video"), std::string::npos);
    // Messages reach API users: they never reveal where the server keeps files.
    EXPECT_EQ(r.error().message.find(dir_->string()), std::string::npos);
    EXPECT_EQ(r.error().details.dump().find(dir_->string()), std::string::npos);
  }
}

TEST_F(DecoderTest, RandomBytesAreRejected) {
  std::mt19937 rng(42);
  std::string bytes(200000, '\0');
  for (auto& c : bytes) c = static_cast<char>(rng());
  for (const char* name : {"noise.bin", "noise.mp3"}) {
    auto r = Probe(Write(name, bytes));
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_TRUE(r.error().code == ErrorCode::kUnsupportedMediaType ||
                r.error().code == ErrorCode::kUndecodable)
        << name << ": " << r.error().message;
  }
}

TEST_F(DecoderTest, PlaylistsPointingToOtherFilesAreRefused) {
  std::string target = Sine("target.wav", "-c:a pcm_s16le", 1, 16000);
  auto hls = Probe(Write("list.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n" + target +
                                          "\n#EXT-X-ENDLIST\n"));
  ASSERT_FALSE(hls.ok());
  EXPECT_EQ(hls.error().code, ErrorCode::kUnsupportedMediaType) << hls.error().message;
  auto concat = Probe(Write("list.ffconcat", "ffconcat version 1.0\nfile '" + target + "'\n"));
  ASSERT_FALSE(concat.ok());
  EXPECT_EQ(concat.error().code, ErrorCode::kUnsupportedMediaType) << concat.error().message;
}

TEST_F(DecoderTest, PathsAreFilesNeverProtocols) {
  // A file whose name looks like a protocol prefix is still just a local file.
  fs::create_directories(*dir_ / "concat:x");
  std::string odd = Sine("concat:x/a:b.wav", "-c:a pcm_s16le", 1, 16000);
  auto pcm = DecodeFile(odd);
  ASSERT_TRUE(pcm.ok()) << pcm.error().message;
  EXPECT_EQ(pcm->size(), 16000u);
}

TEST_F(DecoderTest, ImageIsNotMedia) {
  std::string png = Make("pic.png", "-f lavfi -i color=c=red:size=32x32 -frames:v 1");
  auto r = Probe(png);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupportedMediaType) << r.error().message;
}

TEST_F(DecoderTest, VideoWithoutAudioIsUndecodable) {
  std::string mp4 = Make("silent.mp4",
                         "-f lavfi -i testsrc=size=64x48:rate=10:duration=2 -c:v libx264 "
                         "-preset ultrafast");
  auto r = Probe(mp4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUndecodable);
  EXPECT_NE(r.error().message.find("no audio track"), std::string::npos);
}

TEST_F(DecoderTest, MissingFileIsNotFound) {
  auto r = Probe((*dir_ / "nowhere.wav").string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(DecoderTest, CancellationStopsDecodeFile) {
  std::string path = Sine("cancel.wav", "-c:a pcm_s16le", 20, 16000);
  ProgressSink sink;
  int calls = 0;
  sink.is_cancelled = [&] { return ++calls > 2; };
  auto r = DecodeFile(path, kSampleRate, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled);
}

long ResidentKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

TEST_F(DecoderTest, StreamingALongFileKeepsMemoryBounded) {
  // 30 minutes of 8 kHz audio: 115 MB once decoded to 16 kHz float, which must never be held.
  std::string path = Make("long.wav",
                          "-f lavfi -i sine=frequency=300:sample_rate=8000:duration=1800 "
                          "-c:a pcm_u8");
  auto stream = PcmStream::Open(path);
  ASSERT_TRUE(stream.ok());
  std::vector<float> buf(16000);
  long before = ResidentKiB();
  size_t total = 0;
  while (true) {
    auto got = (*stream)->Read(buf.data(), buf.size());
    ASSERT_TRUE(got.ok());
    if (*got == 0) break;
    total += *got;
  }
  long after = ResidentKiB();
  EXPECT_NEAR(total / 16000.0, 1800.0, 0.05);
  EXPECT_LT(after - before, 16 * 1024) << "RSS grew by " << (after - before) << " KiB";
}

}  // namespace
}  // namespace crm::audio
