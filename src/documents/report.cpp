#include "documents/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <unordered_map>

#include "common/text.h"

namespace crm::documents {

using nlohmann::json;

namespace {

// Function words of French (and English, for mixed meetings) that say nothing of the subject.
const std::set<std::string>& StopWords() {
  static const std::set<std::string> words = {
      "a", "ai", "aie", "aient", "ait", "alors", "as", "au", "aucun", "aussi", "autre", "aux",
      "avais", "avait", "avant", "avec", "avez", "avoir", "avons", "bah", "ben", "bien", "bon",
      "c", "ca", "ce", "ceci", "cela", "celle", "celui", "ces", "cet", "cette", "chez", "ci",
      "comme", "comment", "d", "dans", "de", "des", "deja", "donc", "dont", "du", "elle", "elles",
      "en", "encore", "enfin", "es", "est", "et", "etait", "etais", "ete", "etes", "etre", "eu",
      "euh", "eux", "fait", "faire", "fais", "hein", "hum", "il", "ils", "j", "je", "jusqu", "l",
      "la", "le", "les", "leur", "leurs", "lui", "m", "ma", "mais", "me", "meme", "mes", "mhm",
      "moi", "mon", "n", "ne", "ni", "non", "nos", "notre", "nous", "on", "ont", "ou", "oui",
      "par", "parce", "pas", "peu", "peut", "plus", "pour", "pourquoi", "qu", "quand", "que",
      "quel", "quelle", "qui", "quoi", "s", "sa", "sans", "se", "sera", "ses", "si", "sien",
      "son", "sont", "suis", "sur", "t", "ta", "te", "tes", "toi", "ton", "tous", "tout", "toute",
      "tres", "tu", "un", "une", "va", "vais", "voila", "vos", "votre", "vous", "vu", "y",
      "the", "and", "of", "to", "is", "in", "it", "that", "we", "you", "i", "for", "on", "be",
      "this", "are", "so", "ok", "okay", "d'accord", "voilà", "effectivement", "exactement"};
  return words;
}

// Folded text with apostrophes and hyphens as spaces: what the phrase lists are matched against.
std::string Normalized(const std::string& text) {
  std::string f = FoldForSearch(text);
  std::string out;
  out.reserve(f.size() + 2);
  out += ' ';
  for (size_t i = 0; i < f.size(); ++i) {
    unsigned char c = f[i];
    if (c == 0xE2 && i + 2 < f.size() && static_cast<unsigned char>(f[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(f[i + 2]) == 0x99 ||
         static_cast<unsigned char>(f[i + 2]) == 0x98)) {
      out += ' ';  // ’ ‘
      i += 2;
    } else if (c == '\'' || c == '-' || c == ',' || c == ';' || c == ':' || c == '!' ||
               c == '?' || c == '.') {
      out += ' ';
    } else {
      out += static_cast<char>(c);
    }
  }
  out += ' ';
  // Collapse runs of spaces so phrases match across punctuation.
  std::string collapsed;
  for (char c : out)
    if (!(c == ' ' && !collapsed.empty() && collapsed.back() == ' ')) collapsed += c;
  return collapsed;
}

std::vector<std::string> ContentWords(const std::string& text) {
  std::vector<std::string> out;
  std::string norm = Normalized(text), word;
  auto flush = [&] {
    if (word.size() >= 2 && !StopWords().count(word) &&
        !std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; }))
      out.push_back(word);
    word.clear();
  };
  for (char c : norm) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80)
      word += c;
    else
      flush();
  }
  flush();
  return out;
}

struct Sentence {
  ReportSentence s;
  std::vector<std::string> words;
  std::unordered_map<std::string, double> vec;  // tf-idf
  double norm = 0;
  double score = 0;
  size_t segment = 0;
};

bool IsAbbreviation(const std::string& text, size_t dot) {
  size_t b = dot;
  while (b > 0 && std::isalpha(static_cast<unsigned char>(text[b - 1]))) --b;
  std::string w = text.substr(b, dot - b);
  static const std::set<std::string> abbr = {"M", "Mme", "Mlle", "Me", "Mr", "Dr", "St", "art",
                                             "Art", "cf", "etc", "n", "p", "av", "bd"};
  return abbr.count(w) > 0;
}

// Sentences of one segment with their byte offsets.
std::vector<std::pair<size_t, std::string>> SplitSentences(const std::string& text) {
  std::vector<std::pair<size_t, std::string>> out;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool end = (c == '.' || c == '!' || c == '?') &&
               (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n');
    if (c == '.' && IsAbbreviation(text, i)) end = false;
    if (end || i + 1 == text.size()) {
      std::string s = Trim(std::string_view(text).substr(start, i + 1 - start));
      if (!s.empty()) out.emplace_back(start, s);
      start = i + 1;
    }
  }
  return out;
}

double Cosine(const Sentence& a, const Sentence& b) {
  if (a.norm == 0 || b.norm == 0) return 0;
  const auto& small = a.vec.size() < b.vec.size() ? a.vec : b.vec;
  const auto& big = a.vec.size() < b.vec.size() ? b.vec : a.vec;
  double dot = 0;
  for (const auto& [w, x] : small)
    if (auto it = big.find(w); it != big.end()) dot += x * it->second;
  return dot / (a.norm * b.norm);
}

// --- dates -----------------------------------------------------------------------------------

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

bool ValidDate(int y, int m, int d) {
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > days[m - 1]) return false;
  if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return false;
  return true;
}

int MonthOf(const std::string& name) {
  static const char* months[] = {"janvier", "fevrier", "mars",      "avril",   "mai",
                                 "juin",    "juillet", "aout",      "septembre", "octobre",
                                 "novembre", "decembre"};
  for (int i = 0; i < 12; ++i)
    if (name == months[i]) return i + 1;
  return 0;
}

int WeekdayOf(const std::string& name) {  // 0 = Monday
  static const char* days[] = {"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
                               "dimanche"};
  for (int i = 0; i < 7; ++i)
    if (name == days[i]) return i;
  return -1;
}

// A day number in the future of `base` for (day, month, year?).
std::optional<int64_t> DayAfter(int64_t base, int by, int bm, int d, int m, int y) {
  if (y > 0) {
    if (y < 100) y += 2000;
    if (!ValidDate(y, m, d)) return std::nullopt;
    return DaysFromCivil(y, m, d);
  }
  for (int year = by; year <= by + 1; ++year) {
    if (!ValidDate(year, m, d)) continue;
    int64_t day = DaysFromCivil(year, m, d);
    if (day >= base) return day;
  }
  return std::nullopt;
}

// --- phrases ---------------------------------------------------------------------------------

enum class Who { kSpeaker, kOther, kUnknown };

struct Trigger {
  const char* phrase;
  Who who;
};

const std::vector<Trigger>& ActionTriggers() {
  static const std::vector<Trigger> t = {
      {" il faut ", Who::kUnknown},           {" il faudra ", Who::kUnknown},
      {" il faudrait ", Who::kUnknown},       {" je vous envoie ", Who::kSpeaker},
      {" je vous enverrai ", Who::kSpeaker},  {" je vous transmets ", Who::kSpeaker},
      {" je vous transmettrai ", Who::kSpeaker}, {" je vous fais parvenir ", Who::kSpeaker},
      {" je vous ferai parvenir ", Who::kSpeaker}, {" je m occupe ", Who::kSpeaker},
      {" je me charge ", Who::kSpeaker},      {" je vais ", Who::kSpeaker},
      {" je prepare ", Who::kSpeaker},        {" je redige ", Who::kSpeaker},
      {" je reviens vers vous ", Who::kSpeaker}, {" je vous rappelle ", Who::kSpeaker},
      {" je dois ", Who::kSpeaker},           {" nous allons ", Who::kSpeaker},
      {" nous devons ", Who::kSpeaker},       {" on va ", Who::kSpeaker},
      {" on doit ", Who::kSpeaker},           {" vous devez ", Who::kOther},
      {" vous devrez ", Who::kOther},         {" vous devriez ", Who::kOther},
      {" pourriez vous ", Who::kOther},       {" pouvez vous ", Who::kOther},
      {" merci de ", Who::kOther},            {" n oubliez pas ", Who::kOther},
      {" pensez a ", Who::kOther},            {" i will ", Who::kSpeaker},
      {" we will ", Who::kSpeaker},           {" you need to ", Who::kOther},
      {" please send ", Who::kOther}};
  return t;
}

const std::vector<const char*>& DecisionTriggers() {
  static const std::vector<const char*> t = {
      " nous avons decide ", " on a decide ",   " j ai decide ",     " vous avez decide ",
      " il est convenu ",    " c est convenu ", " nous sommes convenus ", " nous convenons ",
      " on retient ",        " nous retenons ", " c est valide ",    " c est decide ",
      " nous validons ",     " on valide ",     " d accord pour ",   " nous optons ",
      " on part sur ",       " la decision ",   " we decided ",      " we agreed "};
  return t;
}

}  // namespace

std::optional<std::string> ResolveDeadline(const std::string& sentence,
                                           const std::string& meeting_date, std::string* said) {
  std::string n = Normalized(sentence);
  int by = 0, bm = 0, bd = 0;
  bool have_base = std::sscanf(meeting_date.c_str(), "%4d-%2d-%2d", &by, &bm, &bd) == 3 &&
                   ValidDate(by, bm, bd);
  int64_t base = have_base ? DaysFromCivil(by, bm, bd) : 0;
  std::smatch m;
  static const std::regex dated(
      " ((avant|pour|d ici|au plus tard|jusqu au|des) (le )?(\\d{1,2})(er)? "
      "(janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)"
      "( (\\d{4}))?)");
  static const std::regex numeric(
      " ((avant|pour|d ici|au plus tard|le) (le )?(\\d{1,2})/(\\d{1,2})(/(\\d{2,4}))?)");
  static const std::regex weekday(
      " ((avant|pour|d ici|des) (lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
      "( prochain)?)");
  static const std::regex relative(
      " ((apres demain|demain|la semaine prochaine|(avant |d ici )?la fin du mois|"
      "dans (\\d{1,3}) jours|dans (\\d{1,2}) semaines|sous (huit|quinze|\\d{1,3}) jours))");
  if (std::regex_search(n, m, dated)) {
    *said = m[1];
    if (!have_base) return std::nullopt;
    int y = m[8].matched ? std::stoi(m[8]) : 0;
    auto day = DayAfter(base, by, bm, std::stoi(m[4]), MonthOf(m[6]), y);
    if (day) return CivilFromDays(*day);
    return std::nullopt;
  }
  if (std::regex_search(n, m, numeric)) {
    *said = m[1];
    if (!have_base) return std::nullopt;
    int y = m[7].matched ? std::stoi(m[7]) : 0;
    auto day = DayAfter(base, by, bm, std::stoi(m[4]), std::stoi(m[5]), y);
    if (day) return CivilFromDays(*day);
    return std::nullopt;
  }
  if (std::regex_search(n, m, weekday)) {
    *said = m[1];
    if (!have_base) return std::nullopt;
    int want = WeekdayOf(m[3]);
    int today = static_cast<int>(((base % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday
    int ahead = (want - today + 7) % 7;
    if (ahead == 0) ahead = 7;
    return CivilFromDays(base + ahead);
  }
  if (std::regex_search(n, m, relative)) {
    *said = m[1];
    if (!have_base) return std::nullopt;
    std::string what = m[2];
    if (what == "demain") return CivilFromDays(base + 1);
    if (what == "apres demain") return CivilFromDays(base + 2);
    if (what == "la semaine prochaine") return CivilFromDays(base + 7);
    if (what.find("la fin du mois") != std::string::npos) {
      int nm = bm == 12 ? 1 : bm + 1, ny = bm == 12 ? by + 1 : by;
      return CivilFromDays(DaysFromCivil(ny, nm, 1) - 1);
    }
    if (m[4].matched) return CivilFromDays(base + std::stoi(m[4]));
    if (m[5].matched) return CivilFromDays(base + 7 * std::stoi(m[5]));
    if (m[6].matched) {
      std::string k = m[6];
      int days = k == "huit" ? 8 : k == "quinze" ? 15 : std::stoi(k);
      return CivilFromDays(base + days);
    }
  }
  said->clear();
  return std::nullopt;
}

Report ReportHeader(const ReportInput& in, std::string mode) {
  Report r;
  r.mode = std::move(mode);
  r.title = "Compte rendu — " + (in.meeting_title.empty() ? in.client_name : in.meeting_title);
  r.firm_name = in.firm_name;
  r.client_name = in.client_name;
  r.meeting_date = in.meeting_date;
  r.participants = in.participants;
  r.recording_id = in.recording_id;
  return r;
}

Result<Report> ExtractiveReport(const ReportInput& in, const ExtractiveOptions& o) {
  if (in.segments.empty())
    return InvalidArgument(
        "La transcription est vide : il n'y a rien à résumer. / The transcript is empty: there "
        "is nothing to summarise.",
        {{"transcript", "empty"}});
  Report r = ReportHeader(in, "extractive");

  // Sentences with times interpolated inside their segment.
  std::vector<Sentence> sents;
  std::map<std::string, double> spoken;  // speaker → words spoken
  for (size_t si = 0; si < in.segments.size(); ++si) {
    const auto& seg = in.segments[si];
    double len = std::max<size_t>(seg.text.size(), 1);
    auto parts = SplitSentences(seg.text);
    for (size_t k = 0; k < parts.size(); ++k) {
      Sentence s;
      size_t off = parts[k].first;
      size_t next = k + 1 < parts.size() ? parts[k + 1].first : seg.text.size();
      s.s.text = parts[k].second;
      s.s.speaker = seg.speaker;
      s.s.start = seg.start + (seg.end - seg.start) * (off / len);
      s.s.end = seg.start + (seg.end - seg.start) * (next / len);
      s.s.segment_id = seg.id;
      s.segment = si;
      s.words = ContentWords(s.s.text);
      spoken[seg.speaker] += static_cast<double>(s.words.size());
      sents.push_back(std::move(s));
    }
  }
  const double n = static_cast<double>(sents.size());

  // TF-IDF vectors and the meeting's centroid.
  std::unordered_map<std::string, int> df;
  for (const auto& s : sents) {
    std::set<std::string> uniq(s.words.begin(), s.words.end());
    for (const auto& w : uniq) ++df[w];
  }
  Sentence centroid;
  for (auto& s : sents) {
    std::unordered_map<std::string, int> tf;
    for (const auto& w : s.words) ++tf[w];
    for (const auto& [w, c] : tf) {
      double idf = std::log((n + 1) / (df[w] + 0.5));
      s.vec[w] = (1 + std::log(c)) * idf;
      centroid.vec[w] += c * idf;
    }
    for (const auto& [w, x] : s.vec) s.norm += x * x;
    s.norm = std::sqrt(s.norm);
  }
  for (const auto& [w, x] : centroid.vec) centroid.norm += x * x;
  centroid.norm = std::sqrt(centroid.norm);
  double best = 0;
  for (auto& s : sents) {
    double words = static_cast<double>(s.words.size());
    s.score = Cosine(s, centroid) * std::min(1.0, words / 5.0);  // short replies weigh less
    best = std::max(best, s.score);
  }

  // Summary: MMR with speaker balance.
  int k = static_cast<int>(std::lround(n / o.sentences_per_summary_sentence));
  k = std::clamp(k, o.min_summary_sentences, o.max_summary_sentences);
  k = std::min<int>(k, static_cast<int>(sents.size()));
  double total_spoken = 0;
  for (const auto& [sp, w] : spoken) total_spoken += w;
  std::map<std::string, int> cap, taken;
  std::set<std::string> owed;  // speakers with a real share who must appear once
  for (const auto& [sp, w] : spoken) {
    double share = total_spoken > 0 ? w / total_spoken : 0;
    cap[sp] = static_cast<int>(std::floor(share * k)) + 1;
    if (share >= 0.15) owed.insert(sp);
  }
  std::vector<size_t> chosen;
  std::vector<bool> used(sents.size(), false);
  while (static_cast<int>(chosen.size()) < k) {
    int slots = k - static_cast<int>(chosen.size());
    bool must_pay = static_cast<int>(owed.size()) >= slots && !owed.empty();
    double top = -1e9;
    size_t pick = sents.size();
    for (size_t i = 0; i < sents.size(); ++i) {
      const auto& s = sents[i];
      if (used[i] || s.words.size() < 3) continue;
      if (taken[s.s.speaker] >= cap[s.s.speaker]) continue;
      if (must_pay && !owed.count(s.s.speaker)) continue;
      double sim = 0;
      for (size_t c : chosen) sim = std::max(sim, Cosine(s, sents[c]));
      double mmr = o.mmr_lambda * (best > 0 ? s.score / best : 0) - (1 - o.mmr_lambda) * sim;
      if (mmr > top) {
        top = mmr;
        pick = i;
      }
    }
    if (pick == sents.size()) {
      if (must_pay) {
        owed.clear();  // the owed speakers have nothing left worth saying
        continue;
      }
      break;
    }
    used[pick] = true;
    chosen.push_back(pick);
    ++taken[sents[pick].s.speaker];
    owed.erase(sents[pick].s.speaker);
  }
  std::sort(chosen.begin(), chosen.end());
  for (size_t c : chosen) r.summary.push_back(sents[c].s);

  // The other party of a speaker: whoever else speaks the most.
  auto other_of = [&](const std::string& speaker) {
    std::string who;
    double most = -1;
    for (const auto& [sp, w] : spoken)
      if (sp != speaker && !sp.empty() && w > most) {
        most = w;
        who = sp;
      }
    return who;
  };

  for (const auto& s : sents) {
    std::string norm = Normalized(s.s.text);
    if (static_cast<int>(r.decisions.size()) < o.max_decisions)
      for (const char* t : DecisionTriggers())
        if (norm.find(t) != std::string::npos) {
          r.decisions.push_back(s.s);
          break;
        }
    if (static_cast<int>(r.actions.size()) >= o.max_actions) continue;
    for (const auto& t : ActionTriggers()) {
      if (norm.find(t.phrase) == std::string::npos) continue;
      ActionItem a;
      a.who = t.who == Who::kSpeaker ? s.s.speaker
              : t.who == Who::kOther ? other_of(s.s.speaker)
                                     : "";
      a.what = s.s.text;
      a.due_date = ResolveDeadline(s.s.text, in.meeting_date, &a.due_text);
      a.start = s.s.start;
      a.segment_id = s.s.segment_id;
      r.actions.push_back(std::move(a));
      break;
    }
  }

  // Key excerpts: the most central segments the summary does not already quote.
  std::set<std::string> in_summary;
  for (const auto& s : r.summary) in_summary.insert(s.segment_id);
  std::vector<std::pair<double, size_t>> seg_scores(in.segments.size(), {0.0, 0});
  for (size_t i = 0; i < in.segments.size(); ++i) seg_scores[i].second = i;
  for (const auto& s : sents)
    seg_scores[s.segment].first = std::max(seg_scores[s.segment].first, s.score);
  std::sort(seg_scores.begin(), seg_scores.end(), std::greater<>());
  std::vector<size_t> picks;
  for (const auto& [score, i] : seg_scores) {
    if (static_cast<int>(picks.size()) >= o.excerpts) break;
    if (score <= 0 || in_summary.count(in.segments[i].id)) continue;
    picks.push_back(i);
  }
  std::sort(picks.begin(), picks.end());
  for (size_t i : picks) {
    const auto& seg = in.segments[i];
    r.excerpts.push_back({seg.text, seg.speaker, seg.start, seg.end, seg.id});
  }
  return r;
}

namespace {

json SentenceJson(const ReportSentence& s, const std::string& recording_id) {
  return {{"text", s.text},
          {"speaker", s.speaker},
          {"start", std::round(s.start * 100) / 100},
          {"end", std::round(s.end * 100) / 100},
          {"segment_id", s.segment_id},
          {"audio_url", recording_id.empty()
                            ? json(nullptr)
                            : json("/api/recordings/" + recording_id + "/audio#t=" +
                                   std::to_string(static_cast<int64_t>(std::floor(s.start))))}};
}

Result<ReportSentence> SentenceFrom(const json& j, const std::string& field) {
  if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
    return InvalidArgument("Phrase invalide. / Invalid sentence.", {{field, "invalid"}});
  ReportSentence s;
  s.text = j["text"].get<std::string>();
  s.speaker = j.value("speaker", "");
  s.start = j.contains("start") && j["start"].is_number() ? j["start"].get<double>() : 0;
  s.end = j.contains("end") && j["end"].is_number() ? j["end"].get<double>() : s.start;
  s.segment_id = j.value("segment_id", "");
  if (s.text.size() > 5000 || !IsValidUtf8(s.text))
    return InvalidArgument("Phrase trop longue. / Sentence too long.", {{field, "invalid"}});
  return s;
}

}  // namespace

json ReportToJson(const Report& r) {
  json summary = json::array(), decisions = json::array(), actions = json::array(),
       excerpts = json::array();
  for (const auto& s : r.summary) summary.push_back(SentenceJson(s, r.recording_id));
  for (const auto& s : r.decisions) decisions.push_back(SentenceJson(s, r.recording_id));
  for (const auto& s : r.excerpts) excerpts.push_back(SentenceJson(s, r.recording_id));
  for (const auto& a : r.actions)
    actions.push_back({{"who", a.who},
                       {"what", a.what},
                       {"due_date", a.due_date ? json(*a.due_date) : json(nullptr)},
                       {"due_text", a.due_text},
                       {"start", std::round(a.start * 100) / 100},
                       {"segment_id", a.segment_id}});
  return {{"mode", r.mode},
          {"title", r.title},
          {"header",
           {{"firm", r.firm_name},
            {"client", r.client_name},
            {"date", r.meeting_date},
            {"participants", r.participants}}},
          {"recording_id", r.recording_id},
          {"summary", summary},
          {"decisions", decisions},
          {"actions", actions},
          {"excerpts", excerpts}};
}

std::string FrenchDate(const std::string& iso) {
  static const char* months[] = {"janvier", "février", "mars",      "avril",   "mai",
                                 "juin",    "juillet", "août",      "septembre", "octobre",
                                 "novembre", "décembre"};
  int y = 0, m = 0, d = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || !ValidDate(y, m, d)) return iso;
  return std::to_string(d) + (d == 1 ? "er " : " ") + months[m - 1] + " " + std::to_string(y);
}

std::string ClockTime(double seconds) {
  auto t = static_cast<int64_t>(std::max(0.0, std::floor(seconds)));
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(t / 3600),
                  static_cast<long long>(t / 60 % 60), static_cast<long long>(t % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(t / 60),
                  static_cast<long long>(t % 60));
  return buf;
}

json ReportTemplateContext(const json& report) {
  json c = report;
  json header = report.contains("header") ? report["header"] : json::object();
  c["date_text"] = FrenchDate(header.value("date", ""));
  std::string participants;
  if (header.contains("participants") && header["participants"].is_array())
    for (const auto& p : header["participants"])
      if (p.is_string()) participants += (participants.empty() ? "" : ", ") + p.get<std::string>();
  c["participants_text"] = participants;
  c["has_actions"] = report.contains("actions") && report["actions"].is_array() &&
                     !report["actions"].empty();
  for (const char* list : {"summary", "decisions", "excerpts", "actions"}) {
    if (!c.contains(list) || !c[list].is_array()) {
      c[list] = json::array();
      continue;
    }
    for (auto& e : c[list]) {
      if (!e.is_object()) continue;
      e["time"] = ClockTime(e.contains("start") && e["start"].is_number() ? e["start"].get<double>()
                                                                          : 0);
      if (std::string(list) == "actions")
        e["due"] = e.contains("due_date") && e["due_date"].is_string()
                       ? FrenchDate(e["due_date"].get<std::string>())
                       : e.value("due_text", "");
    }
  }
  return c;
}

Result<Report> ReportFromJson(const json& j) {
  if (!j.is_object()) return InvalidArgument("Objet JSON attendu. / JSON object expected.", {});
  Report r;
  r.mode = j.value("mode", "extractive");
  r.title = j.value("title", "");
  if (j.contains("header") && j["header"].is_object()) {
    const json& h = j["header"];
    r.firm_name = h.value("firm", "");
    r.client_name = h.value("client", "");
    r.meeting_date = h.value("date", "");
    if (h.contains("participants") && h["participants"].is_array())
      for (const auto& p : h["participants"])
        if (p.is_string()) r.participants.push_back(p.get<std::string>());
  }
  r.recording_id = j.value("recording_id", "");
  auto list = [&](const char* field, std::vector<ReportSentence>& out) -> Status {
    if (!j.contains(field)) return OkStatus();
    if (!j[field].is_array() || j[field].size() > 200)
      return InvalidArgument("Liste attendue. / List expected.", {{field, "invalid"}});
    for (const auto& e : j[field]) {
      CRM_ASSIGN_OR_RETURN(auto s, SentenceFrom(e, field));
      out.push_back(std::move(s));
    }
    return OkStatus();
  };
  CRM_TRY(list("summary", r.summary));
  CRM_TRY(list("decisions", r.decisions));
  CRM_TRY(list("excerpts", r.excerpts));
  if (j.contains("actions")) {
    if (!j["actions"].is_array() || j["actions"].size() > 200)
      return InvalidArgument("Liste attendue. / List expected.", {{"actions", "invalid"}});
    for (const auto& e : j["actions"]) {
      if (!e.is_object() || !e.contains("what") || !e["what"].is_string() ||
          Trim(e["what"].get<std::string>()).empty())
        return InvalidArgument("Chaque action a un texte (what). / Each action has a text (what).",
                               {{"actions", "invalid"}});
      ActionItem a;
      a.what = e["what"].get<std::string>();
      a.who = e.contains("who") && e["who"].is_string() ? e["who"].get<std::string>() : "";
      if (e.contains("due_date") && e["due_date"].is_string()) {
        std::string d = e["due_date"].get<std::string>();
        int y, m, dd;
        if (d.size() != 10 || std::sscanf(d.c_str(), "%4d-%2d-%2d", &y, &m, &dd) != 3 ||
            !ValidDate(y, m, dd))
          return InvalidArgument("Date au format AAAA-MM-JJ. / Date as YYYY-MM-DD.",
                                 {{"actions", "invalid_due_date"}});
        a.due_date = d;
      }
      a.due_text = e.value("due_text", "");
      a.start = e.contains("start") && e["start"].is_number() ? e["start"].get<double>() : 0;
      a.segment_id = e.value("segment_id", "");
      r.actions.push_back(std::move(a));
    }
  }
  return r;
}

}  // namespace crm::documents
