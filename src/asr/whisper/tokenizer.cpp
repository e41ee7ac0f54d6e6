#include "asr/whisper/tokenizer.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <set>

namespace crm::asr::whisper {
namespace {

// GPT-2's order of the 256 single-byte tokens: the printable ranges first, then the rest.
std::vector<int> Gpt2ByteOrder() {
  std::vector<int> order;
  std::vector<bool> used(256, false);
  auto add = [&](int lo, int hi) {
    for (int b = lo; b <= hi; ++b) order.push_back(b), used[b] = true;
  };
  add('!', '~');
  add(0xA1, 0xAC);
  add(0xAE, 0xFF);
  for (int b = 0; b < 256; ++b)
    if (!used[b]) order.push_back(b);
  return order;
}

struct CodePoint {
  UChar32 cp;
  size_t begin;  // byte offsets in the text
  size_t end;
};

std::vector<CodePoint> SplitCodePoints(std::string_view s) {
  std::vector<CodePoint> out;
  int32_t i = 0;
  const int32_t n = static_cast<int32_t>(s.size());
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  while (i < n) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(p, i, n, c);
    out.push_back({c, static_cast<size_t>(start), static_cast<size_t>(i)});
  }
  return out;
}

bool IsLetter(UChar32 c) {
  if (c < 0) return false;
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER: case U_LOWERCASE_LETTER: case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER: case U_OTHER_LETTER:
      return true;
    default:
      return false;
  }
}
bool IsNumber(UChar32 c) {
  if (c < 0) return false;
  switch (u_charType(c)) {
    case U_DECIMAL_DIGIT_NUMBER: case U_LETTER_NUMBER: case U_OTHER_NUMBER:
      return true;
    default:
      return false;
  }
}
bool IsSpace(UChar32 c) { return c >= 0 && u_isUWhiteSpace(c); }
bool IsOther(UChar32 c) { return !IsSpace(c) && !IsLetter(c) && !IsNumber(c); }

// GPT-2 pre-tokenisation:
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
std::vector<std::string_view> PreTokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  const auto cps = SplitCodePoints(text);
  const size_t n = cps.size();
  size_t i = 0;
  auto emit = [&](size_t from, size_t to) {  // code point range [from, to)
    pieces.push_back(text.substr(cps[from].begin, cps[to - 1].end - cps[from].begin));
  };
  while (i < n) {
    const UChar32 c = cps[i].cp;
    if (c == '\'' && i + 1 < n) {
      const UChar32 a = cps[i + 1].cp;
      const UChar32 b = i + 2 < n ? cps[i + 2].cp : 0;
      if (a == 's' || a == 't' || a == 'm' || a == 'd') {
        emit(i, i + 2);
        i += 2;
        continue;
      }
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
        emit(i, i + 3);
        i += 3;
        continue;
      }
    }
    size_t j = i;
    if (c == ' ' && i + 1 < n && !IsSpace(cps[i + 1].cp)) j = i + 1;
    const UChar32 d = cps[j].cp;
    if (j > i || !IsSpace(d)) {
      size_t k = j;
      if (IsLetter(d)) {
        while (k < n && IsLetter(cps[k].cp)) ++k;
      } else if (IsNumber(d)) {
        while (k < n && IsNumber(cps[k].cp)) ++k;
      } else {
        while (k < n && IsOther(cps[k].cp)) ++k;
      }
      emit(i, k);
      i = k;
      continue;
    }
    // A run of whitespace: all of it at the end of the text, otherwise all but the last
    // character (which then prefixes the next word), or a single character.
    size_t k = i;
    while (k < n && IsSpace(cps[k].cp)) ++k;
    if (k == n || k - i == 1) {
      emit(i, k);
      i = k;
    } else {
      emit(i, k - 1);
      i = k - 1;
    }
  }
  return pieces;
}

const char* kReplacement = "\xEF\xBF\xBD";

}  // namespace

const std::vector<std::string>& WhisperLanguages() {
  static const std::vector<std::string> kLanguages = {
      "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv",
      "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no",
      "th", "ur", "hr", "bg", "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr",
      "az", "sl", "kn", "et", "mk", "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw",
      "gl", "mr", "pa", "si", "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu",
      "am", "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl",
      "mg", "as", "tt", "haw", "ln", "ha", "ba", "jw", "su", "yue"};
  return kLanguages;
}

Result<Tokenizer> Tokenizer::Create(const std::vector<std::string>& vocab, int n_vocab) {
  Tokenizer t;
  t.n_vocab_ = n_vocab;
  t.multilingual_ = n_vocab >= 51865;
  t.num_languages_ = t.multilingual_ ? n_vocab - 51765 - 1 : 0;
  if (t.num_languages_ > static_cast<int>(WhisperLanguages().size()))
    return InvalidArgument("unsupported vocabulary size " + std::to_string(n_vocab));
  t.eot_ = 50256 + (t.multilingual_ ? 1 : 0);
  t.sot_ = t.eot_ + 1;
  const int dt = t.multilingual_ ? t.num_languages_ - 98 : 0;
  t.translate_ = 50357 + dt;
  t.transcribe_ = 50358 + dt;
  t.sot_lm_ = 50359 + dt;
  t.sot_prev_ = 50360 + dt;
  t.no_speech_ = 50361 + dt;
  t.no_timestamps_ = 50362 + dt;
  t.timestamp_begin_ = 50363 + dt;
  if (static_cast<int>(vocab.size()) < t.eot_ - 1) {
    return InvalidArgument("vocabulary has " + std::to_string(vocab.size()) +
                           " entries, fewer than the " + std::to_string(t.eot_) +
                           " text tokens of Whisper");
  }
  t.bytes_.assign(vocab.begin(), vocab.begin() + std::min<size_t>(vocab.size(), t.eot_));
  t.bytes_.resize(t.eot_);
  const auto order = Gpt2ByteOrder();
  for (int id = 0; id < 256; ++id) t.bytes_[id] = std::string(1, static_cast<char>(order[id]));
  t.ranks_.reserve(t.bytes_.size());
  for (int id = 0; id < static_cast<int>(t.bytes_.size()); ++id) {
    const std::string& b = t.bytes_[id];
    if (b.empty()) continue;
    if (id >= 256 && b.find(kReplacement) != std::string::npos) continue;  // damaged entry
    t.ranks_.emplace(b, id);  // first id wins, as ranks are unique in the original
  }
  return t;
}

int Tokenizer::LanguageToken(std::string_view code) const {
  const auto& langs = WhisperLanguages();
  for (int i = 0; i < num_languages_; ++i)
    if (langs[i] == code) return sot_ + 1 + i;
  return -1;
}

std::string Tokenizer::LanguageCode(int id) const {
  if (!IsLanguageToken(id)) return {};
  return WhisperLanguages()[id - sot_ - 1];
}

std::vector<int> Tokenizer::EncodePiece(std::string_view piece) const {
  if (auto it = ranks_.find(std::string(piece)); it != ranks_.end()) return {it->second};
  // Byte-pair merging: parts are byte ranges; repeatedly merge the adjacent pair whose
  // concatenation has the lowest rank.
  std::vector<size_t> bounds(piece.size() + 1);
  for (size_t i = 0; i <= piece.size(); ++i) bounds[i] = i;
  std::string key;
  while (bounds.size() > 2) {
    int best = INT_MAX;
    size_t best_i = 0;
    for (size_t i = 0; i + 2 < bounds.size(); ++i) {
      key.assign(piece.substr(bounds[i], bounds[i + 2] - bounds[i]));
      auto it = ranks_.find(key);
      if (it != ranks_.end() && it->second < best) best = it->second, best_i = i;
    }
    if (best == INT_MAX) break;
    bounds.erase(bounds.begin() + best_i + 1);
  }
  std::vector<int> out;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    key.assign(piece.substr(bounds[i], bounds[i + 1] - bounds[i]));
    auto it = ranks_.find(key);
    if (it != ranks_.end()) {
      out.push_back(it->second);
    } else {
      for (unsigned char ch : key) out.push_back(ranks_.at(std::string(1, ch)));
    }
  }
  return out;
}

std::vector<int> Tokenizer::Encode(std::string_view text) const {
  std::vector<int> out;
  for (std::string_view piece : PreTokenize(text)) {
    auto ids = EncodePiece(piece);
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return out;
}

std::string Tokenizer::Decode(const std::vector<int>& ids) const {
  std::string raw;
  for (int id : ids)
    if (IsText(id)) raw += bytes_[id];
  return SanitizeUtf8(raw);
}

std::string Tokenizer::TokenText(int id) const {
  if (IsText(id)) return bytes_[id];
  if (id >= timestamp_begin_ && id < n_vocab_) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "<|%.2f|>", (id - timestamp_begin_) * 0.02);
    return buf;
  }
  if (id == eot_) return "<|endoftext|>";
  if (id == sot_) return "<|startoftranscript|>";
  if (IsLanguageToken(id)) return "<|" + LanguageCode(id) + "|>";
  if (id == translate_) return "<|translate|>";
  if (id == transcribe_) return "<|transcribe|>";
  if (id == sot_lm_) return "<|startoflm|>";
  if (id == sot_prev_) return "<|startofprev|>";
  if (id == no_speech_) return "<|nospeech|>";
  if (id == no_timestamps_) return "<|notimestamps|>";
  return "<|unknown:" + std::to_string(id) + "|>";
}

std::vector<int> Tokenizer::NonSpeechTokens() const {
  if (multilingual_) {
    // The multilingual vocabulary is the same in every model: use the list published with the
    // models, since damaged partial-character entries in some files (see the header) make a
    // few music signs encode differently than with the original merges.
    return {1,     2,     7,     8,     9,     10,    14,    25,    26,    27,    28,    29,
            31,    58,    59,    60,    61,    62,    63,    90,    91,    92,    93,    359,
            503,   522,   542,   873,   893,   902,   918,   922,   931,   1350,  1853,  1982,
            2460,  2627,  3246,  3253,  3268,  3536,  3846,  3961,  4183,  4667,  6585,  6647,
            7273,  9061,  9383,  10428, 10929, 11938, 12033, 12331, 12562, 13793, 14157, 14635,
            15265, 15618, 16553, 16604, 18362, 18956, 20075, 21675, 22520, 26130, 26161, 26435,
            28279, 29464, 31650, 32302, 32470, 36865, 42863, 47425, 49870, 50254};
  }
  // The symbol list of Whisper's reference tokenizer (non_speech_tokens).
  std::vector<std::string> symbols;
  for (const char* s : {"\"", "#", "(", ")", "*", "+", "/", ":", ";", "<", "=", ">", "@", "[",
                        "\\", "]", "^", "_", "`", "{", "|", "}", "~", "\u300C", "\u300D",
                        "\u300E", "\u300F"})
    symbols.push_back(s);
  for (const char* s : {"<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[", "('", "(\"", "((",
                        "))", "(((", ")))", "[[", "]]", "{{", "}}", "\u266A\u266A",
                        "\u266A\u266A\u266A"})
    symbols.push_back(s);
  const std::vector<std::string> misc = {"\u2669", "\u266A", "\u266B", "\u266C",
                                         "\u266D", "\u266E", "\u266F"};
  std::set<int> result;
  result.insert(Encode(" -")[0]);
  result.insert(Encode(" '")[0]);
  auto consider = [&](const std::string& symbol, bool is_misc) {
    for (const std::string& text : {symbol, " " + symbol}) {
      auto ids = Encode(text);
      if (!ids.empty() && (ids.size() == 1 || is_misc)) result.insert(ids[0]);
    }
  };
  for (const auto& s : symbols) consider(s, false);
  for (const auto& s : misc) consider(s, true);
  result.erase(Encode(" ")[0]);  // a lone space byte is never a non-speech symbol
  return {result.begin(), result.end()};
}

std::string SanitizeUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const int32_t n = static_cast<int32_t>(bytes.size());
  int32_t i = 0;
  while (i < n) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(p, i, n, c);
    if (c < 0) {
      out += kReplacement;
    } else {
      out.append(bytes.substr(start, i - start));
    }
  }
  return out;
}

bool EndsInsideUtf8Char(std::string_view bytes) {
  // Look back over at most 3 continuation bytes for a lead byte whose sequence is incomplete.
  const size_t n = bytes.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto b = static_cast<uint8_t>(bytes[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte
    int need = 1;
    if ((b & 0xE0) == 0xC0) need = 2;
    else if ((b & 0xF0) == 0xE0) need = 3;
    else if ((b & 0xF8) == 0xF0) need = 4;
    return static_cast<size_t>(need) > back;
  }
  return false;
}

}  // namespace crm::asr::whisper
