// Held-out behaviour of the diarizer: clips and voices none of the defaults was chosen on
// (trn05, trn07, trn08, trn09 of AMI; trn01 and trn02 are held out too but hold no speech Silero
// detects). Each test asserts a margin against a baseline scored in the same run, not a tuned
// figure, and checks that a deliberately bad setting fails the same assertion: the test can fail.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "audio/decoder.h"
#include "audio/vad.h"
#include "diarization/der.h"
#include "diarization/diarization.h"
#include "diarization/rttm.h"

namespace crm::diarization {
namespace {

std::string Data(const std::string& rel) {
  const char* d = std::getenv("CRM_SOURCE_DIR");
  return std::string(d ? d : ".") + "/tests/data/" + rel;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A clip with its reference and Silero's speech, computed once per test binary.
struct Clip {
  std::string name;
  std::vector<float> pcm;
  std::vector<NamedTurn> reference;
  std::vector<audio::SpeechSegment> speech;
  int main_speakers = 0;  // reference speakers holding >= 20 % of the speech (as the bench)
};

const Clip& LoadClip(const std::string& name) {
  static std::map<std::string, Clip> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  Clip c{name, {}, {}, {}, 0};
  auto pcm = audio::DecodeFile(Data("diarization/" + name + ".wav"));
  EXPECT_TRUE(pcm.ok()) << name;
  if (pcm.ok()) c.pcm = std::move(*pcm);
  auto ref = ParseRttm(Slurp(Data("diarization/" + name + ".rttm")));
  EXPECT_TRUE(ref.ok()) << name;
  if (ref.ok()) c.reference = std::move(*ref);
  const char* build = std::getenv("CRM_BUILD_DIR");
  std::string warning;
  auto vad = audio::MakeVoiceActivityDetector(
      {"silero", std::string(build ? build : ".") + "/silero_vad_v5.onnx"}, &warning);
  EXPECT_EQ(vad->name(), "silero") << warning;
  auto speech = vad->Detect(c.pcm.data(), c.pcm.size());
  EXPECT_TRUE(speech.ok());
  if (speech.ok()) c.speech = std::move(*speech);
  std::map<std::string, double> seconds;
  double total = 0;
  for (const NamedTurn& t : c.reference) {
    seconds[t.speaker] += t.end - t.start;
    total += t.end - t.start;
  }
  for (const auto& [speaker, s] : seconds) c.main_speakers += s >= 0.2 * total;
  return cache.emplace(name, std::move(c)).first->second;
}

struct HeldOutScore {
  double total = 0, error = 0, one_speaker_error = 0;
  double worst_excess = -1;  // largest (DER - one-speaker DER) of any clip
  std::string counts;        // "clip found/main ..." for the messages
  bool counts_in_range = true;
  double Der() const { return error / total; }
  double OneSpeakerDer() const { return one_speaker_error / total; }
};

const std::vector<std::string> kHeldOut = {"trn05", "trn07", "trn08", "trn09"};

// DER (collar 0, overlap scored, the whole clip) of `options` on the held-out clips, beside the
// answer "all of Silero's speech is one speaker" on the same speech. The count is in range when
// it is at least 1 and at most the clip's main speakers (one voice split in two is the costly
// mistake; a minor participant missed is not).
HeldOutScore ScoreHeldOut(const DiarizationOptions& options) {
  HeldOutScore h;
  for (const std::string& name : kHeldOut) {
    const Clip& c = LoadClip(name);
    auto d = Diarizer(options).Run(c.pcm.data(), c.pcm.size(), c.speech);
    EXPECT_TRUE(d.ok()) << name;
    if (!d.ok()) continue;
    DerOptions o;
    o.uem_end = c.pcm.size() / 16000.0;
    const DerResult r = ScoreDiarization(c.reference, NameTurns(d->turns), o);
    std::vector<NamedTurn> one;
    for (const auto& s : c.speech) one.push_back({s.start, s.end, "one"});
    const DerResult b = ScoreDiarization(c.reference, one, o);
    h.total += r.total;
    h.error += r.der() * r.total;
    h.one_speaker_error += b.der() * b.total;
    h.worst_excess = std::max(h.worst_excess, r.der() - b.der());
    h.counts += name + " " + std::to_string(d->num_speakers) + "/" +
                std::to_string(c.main_speakers) + " ";
    h.counts_in_range &= d->num_speakers >= 1 && d->num_speakers <= c.main_speakers;
  }
  return h;
}

// Margins: the held-out DER at least one point under the one-speaker answer, and no clip more
// than two points over its own one-speaker answer. (Measured with the defaults: 40.8 % against
// 42.3 %; trn08 57.5 % against 62.9 %, the others level with theirs.)
constexpr double kPooledMargin = 0.01;
constexpr double kClipSlack = 0.02;

bool Passes(const HeldOutScore& h) {
  return h.Der() <= h.OneSpeakerDer() - kPooledMargin && h.worst_excess <= kClipSlack &&
         h.counts_in_range;
}

// Over-splitting on purpose: a low cut, no minimum speaker share, no consensus count check.
DiarizationOptions Oversplitting() {
  DiarizationOptions o;
  o.clustering.threshold = 0.3;
  o.bic_lambda = 0.5;
  o.resegmentation.min_speaker_share = 0;
  o.consensus.min_count_share = 0;
  return o;
}

TEST(DiarizationHeldOutTest, BeatsTheOneSpeakerAnswerWithCountsInRange) {
  const HeldOutScore h = ScoreHeldOut({});
  EXPECT_LE(h.Der(), h.OneSpeakerDer() - kPooledMargin)
      << "held-out DER " << h.Der() << ", one speaker " << h.OneSpeakerDer();
  EXPECT_LE(h.worst_excess, kClipSlack);
  EXPECT_TRUE(h.counts_in_range) << h.counts;
  // The same check refuses a diarizer that splits voices.
  const HeldOutScore bad = ScoreHeldOut(Oversplitting());
  EXPECT_FALSE(Passes(bad)) << "over-splitting settings pass: DER " << bad.Der() << ", one speaker "
                            << bad.OneSpeakerDer() << ", counts " << bad.counts;
}

// One voice alone gives one speaker: each held-out speaker's solo stretches (at least 0.3 s with
// nobody else), end to end with 0.3 s of the clip's own room sound between them, as
// crm_diarization_bench builds them; kept when they add up to 6 s.
std::vector<std::pair<std::string, std::vector<float>>> OneVoiceRecordings(const Clip& c) {
  const size_t frames = c.pcm.size() / 160;
  std::map<std::string, std::vector<int>> own;
  std::vector<int> talkers(frames, 0);
  for (const NamedTurn& t : c.reference) {
    auto& a = own[t.speaker];
    a.resize(frames, 0);
    for (size_t f = static_cast<size_t>(t.start * 100); f < frames && f < t.end * 100; ++f) {
      if (!a[f]) ++talkers[f];
      a[f] = 1;
    }
  }
  std::vector<float> room;
  for (size_t f = 0; f < frames; ++f) {
    if (talkers[f] == 0) room.insert(room.end(), &c.pcm[f * 160], &c.pcm[f * 160] + 160);
  }
  if (room.size() < 4800) room.assign(4800, 0.f);
  size_t room_at = 0;
  std::vector<std::pair<std::string, std::vector<float>>> out;
  for (const auto& [speaker, a] : own) {
    std::vector<float> pcm;
    for (size_t f = 0; f < frames;) {
      size_t e = f;
      while (e < frames && a[e] && talkers[e] == 1) ++e;
      if (e - f >= 30) {
        pcm.insert(pcm.end(), &c.pcm[f * 160], &c.pcm[e * 160]);
        for (int i = 0; i < 4800; ++i) pcm.push_back(room[room_at++ % room.size()]);
      }
      f = e > f ? e : f + 1;
    }
    if (pcm.size() >= 6 * 16000) out.emplace_back(c.name + "/" + speaker, std::move(pcm));
  }
  return out;
}

int Speakers(const std::vector<float>& pcm, const DiarizationOptions& options) {
  const char* build = std::getenv("CRM_BUILD_DIR");
  auto vad = audio::MakeVoiceActivityDetector(
      {"silero", std::string(build ? build : ".") + "/silero_vad_v5.onnx"});
  auto d = Diarizer(options).Run(pcm.data(), pcm.size(), *vad);
  EXPECT_TRUE(d.ok());
  return d.ok() ? d->num_speakers : -1;
}

TEST(DiarizationHeldOutTest, OneVoiceOfAHeldOutClipIsOneSpeaker) {
  int voices = 0, bad_split = 0;
  for (const std::string& name : kHeldOut) {
    for (const auto& [voice, pcm] : OneVoiceRecordings(LoadClip(name))) {
      ++voices;
      EXPECT_EQ(Speakers(pcm, {}), 1) << voice;
      bad_split += Speakers(pcm, Oversplitting()) > 1;
    }
  }
  EXPECT_GE(voices, 3);  // the recordings exist
  EXPECT_GE(bad_split, 1) << "the over-splitting settings split no voice: the test cannot fail";
}

}  // namespace
}  // namespace crm::diarization
