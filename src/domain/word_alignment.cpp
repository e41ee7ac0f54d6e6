#include "domain/word_alignment.h"

#include <algorithm>
#include <cstdint>

#include "common/text.h"

namespace crm::domain {

std::vector<std::string> TextWords(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string AlignmentKey(std::string_view word) {
  std::string folded = FoldForSearch(word), key;
  for (unsigned char c : folded)
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) key.push_back(c);
  return key.empty() ? std::string(Trim(word)) : key;
}

namespace {

// Pairs (old index, new index) of a longest common subsequence of a[0..n) and b[0..m).
std::vector<std::pair<size_t, size_t>> CommonSubsequence(const std::vector<std::string>& a,
                                                         const std::vector<std::string>& b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::pair<size_t, size_t>> out;
  if (n == 0 || m == 0 || n * m > kMaxAlignCells) return out;
  std::vector<uint32_t> len((n + 1) * (m + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return len[i * (m + 1) + j]; };
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      at(i, j) = a[i] == b[j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
  for (size_t i = 0, j = 0; i < n && j < m;) {
    if (a[i] == b[j]) {
      out.emplace_back(i++, j++);
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

}  // namespace

std::vector<TimedWord> AlignWords(const std::vector<TimedWord>& timed, std::string_view text,
                                  double segment_start, double segment_end,
                                  const std::string& speaker, bool mark_new_as_edited) {
  const std::vector<std::string> words = TextWords(text);
  std::vector<std::string> old_keys, new_keys;
  for (const auto& w : timed) old_keys.push_back(AlignmentKey(w.text));
  for (const auto& w : words) new_keys.push_back(AlignmentKey(w));

  // match[j]: the timed word new word j keeps, or -1.
  std::vector<long> match(words.size(), -1);
  size_t head = 0;
  while (head < words.size() && head < timed.size() && old_keys[head] == new_keys[head]) {
    match[head] = static_cast<long>(head);
    ++head;
  }
  size_t tail = 0;
  while (tail < words.size() - head && tail < timed.size() - head &&
         old_keys[timed.size() - 1 - tail] == new_keys[words.size() - 1 - tail]) {
    match[words.size() - 1 - tail] = static_cast<long>(timed.size() - 1 - tail);
    ++tail;
  }
  std::vector<std::string> a(old_keys.begin() + head, old_keys.end() - tail);
  std::vector<std::string> b(new_keys.begin() + head, new_keys.end() - tail);
  for (auto [i, j] : CommonSubsequence(a, b)) match[head + j] = static_cast<long>(head + i);

  std::vector<TimedWord> out(words.size());
  for (size_t j = 0; j < words.size(); ++j) {
    out[j].text = " " + words[j];
    if (match[j] < 0) continue;
    const TimedWord& from = timed[static_cast<size_t>(match[j])];
    out[j].start = from.start;
    out[j].end = from.end;
    out[j].confidence = from.confidence;
    out[j].edited = from.edited;
    out[j].speaker = from.speaker.empty() ? speaker : from.speaker;
  }
  // Runs of unmatched words share the time between their matched neighbours.
  for (size_t j = 0; j < words.size();) {
    if (match[j] >= 0) {
      ++j;
      continue;
    }
    size_t k = j;
    while (k < words.size() && match[k] < 0) ++k;
    double from = j > 0 ? out[j - 1].end : segment_start;
    double to = k < words.size() ? out[k].start : segment_end;
    if (to < from) to = from;
    size_t chars = 0;
    for (size_t x = j; x < k; ++x) chars += words[x].size();
    double t = from;
    for (size_t x = j; x < k; ++x) {
      double share = chars ? (to - from) * static_cast<double>(words[x].size()) / chars : 0;
      out[x].start = t;
      out[x].end = x + 1 == k ? to : t + share;
      t = out[x].end;
      out[x].speaker = speaker;
      out[x].edited = mark_new_as_edited;
      out[x].confidence = mark_new_as_edited ? 1.0f : -1.0f;
    }
    j = k;
  }
  return out;
}

}  // namespace crm::domain
