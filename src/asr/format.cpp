#include "asr/format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>

namespace crm::asr {
namespace {

using nlohmann::json;

// Whisper's languages: ISO 639-1 code (or the code Whisper uses) and the English name OpenAI
// returns in verbose_json.
constexpr std::pair<const char*, const char*> kLanguages[] = {
    {"en", "english"},        {"zh", "chinese"},     {"de", "german"},        {"es", "spanish"},
    {"ru", "russian"},        {"ko", "korean"},      {"fr", "french"},        {"ja", "japanese"},
    {"pt", "portuguese"},     {"tr", "turkish"},     {"pl", "polish"},        {"ca", "catalan"},
    {"nl", "dutch"},          {"ar", "arabic"},      {"sv", "swedish"},       {"it", "italian"},
    {"id", "indonesian"},     {"hi", "hindi"},       {"fi", "finnish"},       {"vi", "vietnamese"},
    {"he", "hebrew"},         {"uk", "ukrainian"},   {"el", "greek"},         {"ms", "malay"},
    {"cs", "czech"},          {"ro", "romanian"},    {"da", "danish"},        {"hu", "hungarian"},
    {"ta", "tamil"},          {"no", "norwegian"},   {"th", "thai"},          {"ur", "urdu"},
    {"hr", "croatian"},       {"bg", "bulgarian"},   {"lt", "lithuanian"},    {"la", "latin"},
    {"mi", "maori"},          {"ml", "malayalam"},   {"cy", "welsh"},         {"sk", "slovak"},
    {"te", "telugu"},         {"fa", "persian"},     {"lv", "latvian"},       {"bn", "bengali"},
    {"sr", "serbian"},        {"az", "azerbaijani"}, {"sl", "slovenian"},     {"kn", "kannada"},
    {"et", "estonian"},       {"mk", "macedonian"},  {"br", "breton"},        {"eu", "basque"},
    {"is", "icelandic"},      {"hy", "armenian"},    {"ne", "nepali"},        {"mn", "mongolian"},
    {"bs", "bosnian"},        {"kk", "kazakh"},      {"sq", "albanian"},      {"sw", "swahili"},
    {"gl", "galician"},       {"mr", "marathi"},     {"pa", "punjabi"},       {"si", "sinhala"},
    {"km", "khmer"},          {"sn", "shona"},       {"yo", "yoruba"},        {"so", "somali"},
    {"af", "afrikaans"},      {"oc", "occitan"},     {"ka", "georgian"},      {"be", "belarusian"},
    {"tg", "tajik"},          {"sd", "sindhi"},      {"gu", "gujarati"},      {"am", "amharic"},
    {"yi", "yiddish"},        {"lo", "lao"},         {"uz", "uzbek"},         {"fo", "faroese"},
    {"ht", "haitian creole"}, {"ps", "pashto"},      {"tk", "turkmen"},       {"nn", "nynorsk"},
    {"mt", "maltese"},        {"sa", "sanskrit"},    {"lb", "luxembourgish"}, {"my", "myanmar"},
    {"bo", "tibetan"},        {"tl", "tagalog"},     {"mg", "malagasy"},      {"as", "assamese"},
    {"tt", "tatar"},          {"haw", "hawaiian"},   {"ln", "lingala"},       {"ha", "hausa"},
    {"ba", "bashkir"},        {"jw", "javanese"},    {"su", "sundanese"},     {"yue", "cantonese"},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trimmed(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// Subtitle cues cannot hold blank lines; a line break inside a segment becomes a space.
std::string OneLine(std::string_view s) {
  std::string out = Trimmed(s);
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

// WebVTT cue text: '&', '<' and '>' are markup.
std::string VttEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

double Ms(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

double NumberOr(const json& obj, const char* key, double fallback) {
  auto it = obj.find(key);
  return (it != obj.end() && it->is_number()) ? it->get<double>() : fallback;
}

std::string StringOr(const json& obj, const char* key) {
  auto it = obj.find(key);
  return (it != obj.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

Result<Word> ParseWord(const json& w) {
  if (!w.is_object()) return InvalidArgument("a word is not an object");
  Word word;
  word.text = StringOr(w, "word");
  if (word.text.empty()) word.text = StringOr(w, "text");
  word.start = NumberOr(w, "start", 0);
  word.end = NumberOr(w, "end", word.start);
  word.probability = static_cast<float>(NumberOr(w, "probability", 0));
  word.speaker = StringOr(w, "speaker");
  return word;
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "txt") return OutputFormat::kTxt;
  if (name == "text") return OutputFormat::kText;
  if (name == "srt") return OutputFormat::kSrt;
  if (name == "vtt") return OutputFormat::kVtt;
  if (name == "json") return OutputFormat::kJson;
  if (name == "verbose_json") return OutputFormat::kVerboseJson;
  return InvalidArgument("unknown transcript format '" + std::string(name) +
                             "'; use txt, text, srt, vtt, json or verbose_json",
                         {{"format", std::string(name)}});
}

const char* ContentType(OutputFormat format) {
  switch (format) {
    case OutputFormat::kJson:
    case OutputFormat::kVerboseJson:
      return "application/json";
    case OutputFormat::kVtt:
      return "text/vtt; charset=utf-8";
    case OutputFormat::kSrt:
      return "application/x-subrip; charset=utf-8";
    default:
      return "text/plain; charset=utf-8";
  }
}

std::string Render(const Transcript& t, OutputFormat format) {
  switch (format) {
    case OutputFormat::kTxt:
      return ToTxt(t);
    case OutputFormat::kText:
      return ToText(t);
    case OutputFormat::kSrt:
      return ToSrt(t);
    case OutputFormat::kVtt:
      return ToVtt(t);
    case OutputFormat::kJson:
      return ToJson(t).dump() + "\n";
    case OutputFormat::kVerboseJson:
      return ToVerboseJson(t).dump() + "\n";
  }
  return {};
}

std::string FormatTimestamp(double seconds, char millis_separator) {
  long long ms = std::llround(std::max(0.0, seconds) * 1000.0);
  long long h = ms / 3600000;
  int m = static_cast<int>(ms / 60000 % 60);
  int s = static_cast<int>(ms / 1000 % 60);
  int f = static_cast<int>(ms % 1000);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02d:%02d%c%03d", h, m, s, millis_separator, f);
  return buf;
}

std::string ToTxt(const Transcript& t) {
  std::string out;
  for (const Segment& s : t.segments) {
    std::string text = OneLine(s.text);
    if (text.empty()) continue;
    if (!s.speaker.empty()) out += "[" + s.speaker + "] ";
    out += text + "\n";
  }
  return out;
}

std::string ToText(const Transcript& t) { return t.Text() + "\n"; }

std::string ToSrt(const Transcript& t) {
  std::string out;
  int index = 0;
  for (const Segment& s : t.segments) {
    std::string text = OneLine(s.text);
    if (text.empty()) continue;
    out += std::to_string(++index) + "\n";
    out += FormatTimestamp(s.start, ',') + " --> " + FormatTimestamp(s.end, ',') + "\n";
    if (!s.speaker.empty()) out += "[" + s.speaker + "] ";
    out += text + "\n\n";
  }
  return out;
}

std::string ToVtt(const Transcript& t) {
  std::string out = "WEBVTT\n\n";
  for (const Segment& s : t.segments) {
    std::string text = OneLine(s.text);
    if (text.empty()) continue;
    out += FormatTimestamp(s.start, '.') + " --> " + FormatTimestamp(s.end, '.') + "\n";
    if (!s.speaker.empty()) out += "<v " + VttEscape(OneLine(s.speaker)) + ">";
    out += VttEscape(text) + "\n\n";
  }
  return out;
}

json ToJson(const Transcript& t) { return json{{"text", t.Text()}}; }

json ToVerboseJson(const Transcript& t) {
  json segments = json::array();
  json words = json::array();
  for (const Segment& s : t.segments) {
    json seg = {{"id", s.id},
                {"seek", static_cast<long long>(std::floor(std::max(0.0, s.start) * 100))},
                {"start", Ms(s.start)},
                {"end", Ms(s.end)},
                {"text", s.text},
                {"tokens", s.tokens},
                {"temperature", s.temperature},
                {"avg_logprob", s.avg_logprob},
                {"compression_ratio", s.compression_ratio},
                {"no_speech_prob", s.no_speech_prob}};
    if (!s.speaker.empty()) seg["speaker"] = s.speaker;
    segments.push_back(std::move(seg));
    for (const Word& w : s.words) {
      json word = {{"word", Trimmed(w.text)}, {"start", Ms(w.start)}, {"end", Ms(w.end)}};
      if (!w.speaker.empty()) word["speaker"] = w.speaker;
      words.push_back(std::move(word));
    }
  }
  return json{
      {"task", "transcribe"}, {"language", LanguageName(t.language)}, {"duration", Ms(t.duration)},
      {"text", t.Text()},     {"segments", std::move(segments)},      {"words", std::move(words)}};
}

Result<Transcript> ParseVerboseJson(std::string_view body) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return Error(ErrorCode::kInvalidJson, "the transcription response is not valid JSON");
  return FromVerboseJson(doc);
}

Result<Transcript> FromVerboseJson(const json& doc) {
  if (!doc.is_object() || !doc.contains("text") || !doc["text"].is_string())
    return InvalidArgument("the transcription response has no \"text\"");
  Transcript t;
  t.language = LanguageCode(StringOr(doc, "language"));
  t.duration = NumberOr(doc, "duration", 0);
  auto segs = doc.find("segments");
  if (segs != doc.end() && segs->is_array()) {
    for (const json& js : *segs) {
      if (!js.is_object()) return InvalidArgument("a segment is not an object");
      Segment s;
      s.id = static_cast<int>(NumberOr(js, "id", static_cast<double>(t.segments.size())));
      s.start = NumberOr(js, "start", 0);
      s.end = NumberOr(js, "end", s.start);
      s.text = StringOr(js, "text");
      s.speaker = StringOr(js, "speaker");
      s.temperature = static_cast<float>(NumberOr(js, "temperature", 0));
      s.avg_logprob = static_cast<float>(NumberOr(js, "avg_logprob", 0));
      s.compression_ratio = static_cast<float>(NumberOr(js, "compression_ratio", 0));
      s.no_speech_prob = static_cast<float>(NumberOr(js, "no_speech_prob", 0));
      auto tokens = js.find("tokens");
      if (tokens != js.end() && tokens->is_array())
        for (const json& tok : *tokens)
          if (tok.is_number_integer()) s.tokens.push_back(tok.get<int>());
      auto nested = js.find("words");
      if (nested != js.end() && nested->is_array())
        for (const json& w : *nested) {
          CRM_ASSIGN_OR_RETURN(Word word, ParseWord(w));
          s.words.push_back(std::move(word));
        }
      t.segments.push_back(std::move(s));
    }
  }
  if (t.segments.empty() && !Trimmed(doc["text"].get<std::string>()).empty()) {
    // A plain {"text": ...} answer: one segment over the whole audio.
    Segment s;
    s.end = t.duration;
    s.text = doc["text"].get<std::string>();
    t.segments.push_back(std::move(s));
  }
  auto words = doc.find("words");
  if (words != doc.end() && words->is_array() && !t.segments.empty()) {
    size_t seg = 0;
    for (const json& w : *words) {
      CRM_ASSIGN_OR_RETURN(Word word, ParseWord(w));
      const double mid = (word.start + word.end) / 2;
      // Words come in time order: move forward to the segment that holds the word's middle.
      while (seg + 1 < t.segments.size() && mid >= t.segments[seg + 1].start &&
             mid > t.segments[seg].end)
        ++seg;
      t.segments[seg].words.push_back(std::move(word));
    }
  }
  if (t.duration == 0 && !t.segments.empty()) t.duration = t.segments.back().end;
  return t;
}

std::string LanguageName(std::string_view code) {
  std::string c = Lower(code);
  for (const auto& [k, name] : kLanguages)
    if (c == k) return name;
  return std::string(code);
}

std::string LanguageCode(std::string_view name_or_code) {
  std::string n = Lower(name_or_code);
  for (const auto& [code, name] : kLanguages)
    if (n == name || n == code) return code;
  return n;
}

}  // namespace crm::asr
