#include "asr/remote/stitch.h"

#include <algorithm>

namespace crm::asr::remote {
namespace {

bool Inside(double t, double from, double until) { return t >= from && t < until; }

}  // namespace

Transcript Stitch(const std::vector<ChunkTranscript>& chunks, double duration) {
  Transcript out;
  double last_word_end = -1;  // of the words kept so far
  out.duration = duration;
  for (const ChunkTranscript& chunk : chunks) {
    if (out.language.empty()) out.language = chunk.transcript.language;
    const double from = chunk.keep_from;
    const double until = chunk.keep_until;
    for (const Segment& original : chunk.transcript.segments) {
      Segment s = original;
      s.start += chunk.offset;
      s.end += chunk.offset;
      if (s.words.empty()) {
        if (!Inside((s.start + s.end) / 2, from, until)) continue;
      } else {
        std::vector<Word> kept;
        for (Word w : s.words) {
          w.start += chunk.offset;
          w.end += chunk.offset;
          if (!Inside((w.start + w.end) / 2, from, until)) continue;
          if (w.start < last_word_end) {
            // Overlapping the word before it (the other chunk's): mostly the same sound heard
            // twice, dropped; a slight overlap is trimmed.
            if (last_word_end - w.start > 0.5 * (w.end - w.start)) continue;
            w.start = last_word_end;
          }
          last_word_end = w.end;
          kept.push_back(std::move(w));
        }
        if (kept.empty()) continue;
        if (kept.size() != s.words.size()) {
          s.text.clear();
          for (const Word& w : kept) {
            const bool spaced = !w.text.empty() && (w.text.front() == ' ');
            s.text += spaced ? w.text : " " + w.text;
          }
          s.start = std::max(s.start, kept.front().start);
          s.end = std::min(s.end, kept.back().end);
          s.tokens.clear();  // they no longer match the text
        }
        s.words = std::move(kept);
      }
      // Clamp to the chunk's share so neighbouring chunks never overlap in time.
      s.start = std::max(s.start, from);
      s.end = std::clamp(s.end, s.start, std::max(s.start, until));
      if (!out.segments.empty()) s.start = std::max(s.start, out.segments.back().start);
      s.end = std::max(s.end, s.start);
      out.segments.push_back(std::move(s));
    }
  }
  for (size_t i = 0; i < out.segments.size(); ++i) out.segments[i].id = static_cast<int>(i);
  return out;
}

}  // namespace crm::asr::remote
