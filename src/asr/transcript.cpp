#include "asr/transcript.h"

#include <string_view>

namespace crm::asr {
namespace {

std::string_view Trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Languages written without spaces between words: segments are glued, not spaced.
bool WrittenWithoutSpaces(const std::string& language) {
  for (const char* code : {"zh", "ja", "th", "lo", "km", "my", "yue", "bo"})
    if (language == code) return true;
  return false;
}

}  // namespace

std::string Transcript::Text() const {
  const bool glue = WrittenWithoutSpaces(language);
  std::string out;
  for (const Segment& s : segments) {
    std::string_view t = Trim(s.text);
    if (t.empty()) continue;
    if (!out.empty() && !glue) out += ' ';
    out += t;
  }
  return out;
}

}  // namespace crm::asr
