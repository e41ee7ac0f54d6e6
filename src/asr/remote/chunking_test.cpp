// Splitting, re-encoding and stitching, on real audio.
#include "asr/remote/chunking.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "asr/remote/stitch.h"

namespace crm::asr::remote {
namespace {

namespace fs = std::filesystem;
constexpr int kRate = 16000;

std::vector<float> Tone(double seconds, float amplitude) {
  std::vector<float> pcm(static_cast<size_t>(seconds * kRate));
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = amplitude * std::sin(2 * M_PI * 300 * i / kRate);
  return pcm;
}

fs::path TempDir() {
  fs::path dir = fs::temp_directory_path() / ("crm_chunking_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

TEST(ChunkingTest, QuietCutFindsTheSilence) {
  std::vector<float> pcm = Tone(10, 0.5f);
  // Silence from 6.0 s to 6.4 s.
  for (size_t i = 6 * kRate; i < 6.4 * kRate; ++i) pcm[i] = 0;
  size_t cut = FindQuietCut(pcm.data(), 2 * kRate, 10 * kRate, kRate);
  EXPECT_GE(cut, 6.0 * kRate);
  EXPECT_LE(cut, 6.4 * kRate);
  // Without silence anywhere, the cut stays within the range.
  std::vector<float> loud = Tone(4, 0.5f);
  size_t any = FindQuietCut(loud.data(), kRate, 3 * kRate, kRate);
  EXPECT_GE(any, size_t{kRate});
  EXPECT_LE(any, size_t{3 * kRate});
}

TEST(ChunkingTest, EncodedChunkDecodesBackToTheSameLengthAndFitsItsBudget) {
  std::vector<float> pcm = Tone(20, 0.3f);
  EncoderOptions options;
  auto encoded = EncodeChunk(pcm, kRate, options);
  ASSERT_TRUE(encoded.ok()) << encoded.error().message;
  EXPECT_EQ(encoded->filename, "chunk.ogg");
  EXPECT_EQ(encoded->content_type, "audio/ogg");
  EXPECT_LE(encoded->bytes.size(), 20 * EncodedBytesPerSecond(kRate, options));
  EXPECT_GT(encoded->bytes.size(), 20 * EncodedBytesPerSecond(kRate, options) * 0.8);
  fs::path file = TempDir() / "chunk.ogg";
  std::ofstream(file, std::ios::binary) << encoded->bytes;
  auto back = audio::DecodeFile(file.string());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_NEAR(back->size() / double(kRate), 20.0, 0.03);
  fs::remove_all(file.parent_path());
}

TEST(ChunkingTest, SplitterCutsAtSilencesWithOverlapAndCoversTheWholeFile) {
  fs::path dir = TempDir();
  std::string path = (dir / "speech.wav").string();
  // 0.8 s of tone then 0.2 s of silence, repeated for 47 s.
  std::string cmd =
      "ffmpeg -hide_banner -loglevel error -y -f lavfi -i "
      "\"aevalsrc='0.5*sin(2*PI*300*t)*lt(mod(t,1),0.8)':s=16000:d=47\" -c:a pcm_s16le '" +
      path + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto stream = audio::PcmStream::Open(path);
  ASSERT_TRUE(stream.ok());
  SplitOptions options{10.0, 0.5, 3.0};
  ChunkSplitter splitter(stream->get(), kRate, options);
  std::vector<AudioChunk> chunks;
  while (!splitter.done()) {
    auto chunk = splitter.Next();
    ASSERT_TRUE(chunk.ok()) << chunk.error().message;
    chunks.push_back(std::move(*chunk));
  }
  ASSERT_GE(chunks.size(), 5u);
  EXPECT_EQ(chunks.front().first_sample, 0);
  EXPECT_EQ(chunks.front().keep_from, 0);
  EXPECT_TRUE(chunks.back().last);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const AudioChunk& c = chunks[i];
    const int64_t end = c.first_sample + static_cast<int64_t>(c.pcm.size());
    EXPECT_LE(c.pcm.size(), 10u * kRate);
    if (i + 1 < chunks.size()) {
      const AudioChunk& next = chunks[i + 1];
      EXPECT_EQ(end - next.first_sample, kRate / 2) << "overlap of chunk " << i;
      EXPECT_EQ(next.keep_from, c.keep_until);
      EXPECT_GT(c.keep_until, next.first_sample);
      EXPECT_LT(c.keep_until, end);
      // The cut lies in a silence: the chunk ends quietly.
      float tail = 0;
      for (size_t k = c.pcm.size() - 400; k < c.pcm.size(); ++k)
        tail = std::max(tail, std::fabs(c.pcm[k]));
      EXPECT_LT(tail, 0.01f) << "chunk " << i << " was cut in the middle of a sound";
    } else {
      EXPECT_NEAR(end / double(kRate), 47.0, 0.01);
    }
  }
  fs::remove_all(dir);
}

Segment Seg(double start, double end, std::vector<std::pair<double, std::string>> words) {
  Segment s;
  s.start = start;
  s.end = end;
  for (auto& [t, text] : words) {
    s.words.push_back({t, t + 0.4, text, 0.9f, ""});
    s.text += " " + text;
  }
  s.tokens = {1, 2, 3};
  return s;
}

TEST(StitchTest, ShiftsTimesAndDropsWordsHeardTwiceInTheOverlap) {
  // Chunk 0: 0..10 s; chunk 1 starts at 9 s (1 s overlap); handover at 9.5 s.
  ChunkTranscript a;
  a.transcript.language = "fr";
  a.transcript.segments = {Seg(0, 4, {{0, "Bonjour"}, {1, "Maître"}}),
                           Seg(8, 10, {{8.2, "voici"}, {9.0, "le"}, {9.6, "contrat"}})};
  a.offset = 0;
  a.keep_from = 0;
  a.keep_until = 9.5;
  ChunkTranscript b;
  b.transcript.segments = {Seg(0, 3, {{0.0, "le"}, {0.6, "contrat"}, {1.5, "signé."}})};
  b.offset = 9;
  b.keep_from = 9.5;
  b.keep_until = std::numeric_limits<double>::infinity();
  Transcript t = Stitch({a, b}, 12);
  EXPECT_EQ(t.language, "fr");
  EXPECT_DOUBLE_EQ(t.duration, 12);
  ASSERT_EQ(t.segments.size(), 3u);
  EXPECT_EQ(t.Text(), "Bonjour Maître voici le contrat signé.");
  EXPECT_EQ(t.segments[1].text, " voici le");
  EXPECT_TRUE(t.segments[1].tokens.empty());
  EXPECT_LE(t.segments[1].end, 9.5);
  EXPECT_EQ(t.segments[2].text, " contrat signé.");
  EXPECT_DOUBLE_EQ(t.segments[2].start, 9.6);
  EXPECT_DOUBLE_EQ(t.segments[2].words.back().start, 10.5);
  for (size_t i = 0; i < t.segments.size(); ++i) EXPECT_EQ(t.segments[i].id, int(i));
}

TEST(StitchTest, WordsOverlappingTheOtherChunksWordAreDroppedOrTrimmed) {
  // Handover at 9.5 s. Chunk a keeps "contrat" at 9.2..9.6 (midpoint 9.4). Chunk b hears it
  // again at 9.3..9.85 (midpoint 9.575, b's share): mostly the same sound, dropped. "signé"
  // overlaps the kept word a little: its start is trimmed.
  ChunkTranscript a;
  a.transcript.segments = {Seg(8, 9.7, {{8.7, "le"}, {9.2, "contrat"}})};
  a.keep_until = 9.5;
  ChunkTranscript b;
  b.transcript.segments = {Seg(0, 3, {{0.05, "contrat"}, {0.3, "signé"}})};
  b.transcript.segments[0].words[0].end = 0.6;
  b.offset = 9.25;
  b.keep_from = 9.5;
  b.keep_until = std::numeric_limits<double>::infinity();
  Transcript t = Stitch({a, b}, 12);
  EXPECT_EQ(t.Text(), "le contrat signé");
  ASSERT_EQ(t.segments.size(), 2u);
  ASSERT_EQ(t.segments[1].words.size(), 1u);
  EXPECT_DOUBLE_EQ(t.segments[1].words[0].start, 9.6);
  EXPECT_DOUBLE_EQ(t.segments[1].start, 9.6);
  EXPECT_DOUBLE_EQ(t.segments[0].end, 9.5);
}

TEST(StitchTest, SegmentsWithoutWordsGoToTheChunkHoldingTheirMiddle) {
  ChunkTranscript a;
  a.transcript.segments = {{0, 0, 5, " un"}, {1, 8.5, 9.8, " deux"}};
  a.keep_until = 9.5;
  ChunkTranscript b;
  b.transcript.segments = {{0, 0, 0.8, " deux"}, {1, 1, 4, " trois"}};
  b.offset = 9;
  b.keep_from = 9.5;
  b.keep_until = std::numeric_limits<double>::infinity();
  Transcript t = Stitch({a, b}, 13);
  EXPECT_EQ(t.Text(), "un deux trois");
  ASSERT_EQ(t.segments.size(), 3u);
  EXPECT_DOUBLE_EQ(t.segments[2].start, 10);
  EXPECT_DOUBLE_EQ(t.segments[2].end, 13);
}

}  // namespace
}  // namespace crm::asr::remote
