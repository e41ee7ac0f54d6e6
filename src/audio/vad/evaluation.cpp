#include "audio/vad/evaluation.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace crm::audio::vad {
namespace {

std::vector<char> Mask(const std::vector<SpeechSegment>& segs, long frames, double frame) {
  std::vector<char> m(frames, 0);
  for (const auto& s : segs) {
    // Frames whose centre (i + 0.5) * frame lies in [start, end).
    long a = static_cast<long>(std::ceil(s.start / frame - 0.5));
    long b = static_cast<long>(std::ceil(s.end / frame - 0.5));
    for (long i = std::max(0L, a); i < std::min(frames, b); ++i) m[i] = 1;
  }
  return m;
}

}  // namespace

SpeechErrorCounts& SpeechErrorCounts::operator+=(const SpeechErrorCounts& o) {
  reference += o.reference;
  missed += o.missed;
  false_alarm += o.false_alarm;
  frames += o.frames;
  return *this;
}

SpeechErrorCounts ScoreSpeech(const std::vector<SpeechSegment>& reference,
                              const std::vector<SpeechSegment>& detected, double duration_seconds,
                              double frame_seconds) {
  SpeechErrorCounts c;
  c.frames = static_cast<long>(std::floor(duration_seconds / frame_seconds + 1e-9));
  const auto ref = Mask(reference, c.frames, frame_seconds);
  const auto hyp = Mask(detected, c.frames, frame_seconds);
  for (long i = 0; i < c.frames; ++i) {
    c.reference += ref[i];
    c.missed += ref[i] && !hyp[i];
    c.false_alarm += hyp[i] && !ref[i];
  }
  return c;
}

Result<std::vector<SpeechSegment>> ReadRttmTurns(const std::string& path) {
  std::ifstream f(path);
  if (!f) return IoError("cannot read RTTM file " + path);
  std::vector<SpeechSegment> turns;
  std::string line;
  int number = 0;
  while (std::getline(f, line)) {
    ++number;
    std::istringstream in(line);
    std::string type, uri, channel;
    double start = 0, duration = 0;
    if (!(in >> type) || type != "SPEAKER") continue;
    if (!(in >> uri >> channel >> start >> duration) || duration < 0)
      return Error(ErrorCode::kCorrupt,
                   path + ":" + std::to_string(number) + ": not an RTTM SPEAKER line");
    turns.push_back({start, start + duration});
  }
  return turns;
}

}  // namespace crm::audio::vad
