#include "diarization/words.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace crm::diarization {

int BestTurn(const std::vector<Turn>& turns, double start, double end) {
  if (turns.empty()) return -1;
  if (end < start) std::swap(start, end);
  // Exclusive turns sorted by start are also sorted by end: the turns overlapping [start, end)
  // sit just before the first turn starting at or after `end`.
  auto after = std::lower_bound(turns.begin(), turns.end(), end,
                                [](const Turn& t, double v) { return t.start < v; });
  int best = -1;
  double best_overlap = 0;
  for (auto it = after; it != turns.begin();) {
    --it;
    if (it->end <= start) break;
    double overlap = std::min(end, it->end) - std::max(start, it->start);
    if (overlap > best_overlap) {
      best_overlap = overlap;
      best = static_cast<int>(it - turns.begin());
    }
  }
  if (best >= 0) return best;
  // No overlap: the nearer of the turn just before and the turn just after.
  double best_gap = std::numeric_limits<double>::infinity();
  if (after != turns.end()) {
    best_gap = after->start - end;
    best = static_cast<int>(after - turns.begin());
  }
  if (after != turns.begin()) {
    auto before = after - 1;
    if (start - before->end <= best_gap) best = static_cast<int>(before - turns.begin());
  }
  return best;
}

void AssignSpeakers(const std::vector<Turn>& turns, asr::Transcript* transcript) {
  if (transcript == nullptr || turns.empty()) return;
  std::vector<Turn> sorted = turns;
  std::sort(sorted.begin(), sorted.end(),
            [](const Turn& a, const Turn& b) { return a.start < b.start; });
  auto label_for = [&](double start, double end) {
    int i = BestTurn(sorted, start, end);
    return i < 0 ? std::string() : SpeakerLabel(sorted[i].speaker);
  };
  std::vector<asr::Segment> out;
  for (asr::Segment& seg : transcript->segments) {
    if (seg.words.empty()) {
      seg.speaker = label_for(seg.start, seg.end);
      out.push_back(std::move(seg));
      continue;
    }
    for (asr::Word& w : seg.words) w.speaker = label_for(w.start, w.end);
    size_t begin = 0;
    bool first_piece = true;
    while (begin < seg.words.size()) {
      size_t end = begin + 1;
      while (end < seg.words.size() && seg.words[end].speaker == seg.words[begin].speaker) ++end;
      asr::Segment piece;
      piece.speaker = seg.words[begin].speaker;
      piece.start = first_piece ? seg.start : seg.words[begin].start;
      piece.end = end == seg.words.size() ? seg.end : seg.words[end - 1].end;
      piece.words.assign(seg.words.begin() + begin, seg.words.begin() + end);
      for (const asr::Word& w : piece.words) piece.text += w.text;
      if (first_piece && end == seg.words.size()) piece.text = seg.text;  // not split
      if (first_piece) piece.tokens = seg.tokens;
      piece.avg_logprob = seg.avg_logprob;
      piece.compression_ratio = seg.compression_ratio;
      piece.no_speech_prob = seg.no_speech_prob;
      piece.temperature = seg.temperature;
      out.push_back(std::move(piece));
      first_piece = false;
      begin = end;
    }
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].id = static_cast<int>(i);
  transcript->segments = std::move(out);
}

}  // namespace crm::diarization
