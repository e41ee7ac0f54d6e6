// Word times of a text that a user corrected, keeping the times of the words that did not change.
//
// A segment's text is cut into words at white space. AlignWords pairs those words with timed
// words (the engine's, or the result of an earlier alignment) by their folded letters — case,
// accents and punctuation aside, so "Country," matches " country" — trimming the common head and
// tail first and taking a longest common subsequence of the middle (bounded: beyond
// kMaxAlignCells a changed middle is treated as replaced whole). A matched word keeps its times,
// confidence and edited mark; every run of new or changed words shares the time between its
// matched neighbours (or the segment's bounds), in proportion to its length, and is marked
// edited (confidence 1: a person wrote it). With `mark_new_as_edited` false (reading an engine
// transcript whose words were cut differently from its text) unmatched words get no confidence
// and no edited mark. Pure functions, no storage.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace crm::domain {

inline constexpr size_t kMaxAlignCells = 4'000'000;

struct TimedWord {
  double start = 0;
  double end = 0;
  std::string text;         // " word": leading space, as engines write them
  float confidence = -1;    // 0..1; negative when unknown
  bool edited = false;      // written or changed by a person
  std::string speaker;      // label, carried from the matched word (else the segment's)
};

// `text` cut into words at white space (UTF-8 aware only in that it never splits a byte > 0x7f).
std::vector<std::string> TextWords(std::string_view text);

// The folded key two words are compared by: FoldForSearch, then ASCII letters and digits (and
// any non-ASCII byte) only; the word itself when nothing remains (pure punctuation).
std::string AlignmentKey(std::string_view word);

std::vector<TimedWord> AlignWords(const std::vector<TimedWord>& timed, std::string_view text,
                                  double segment_start, double segment_end,
                                  const std::string& speaker, bool mark_new_as_edited);

}  // namespace crm::domain
