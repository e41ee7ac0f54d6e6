#include "domain/transcript_search.h"

#include <algorithm>
#include <map>

#include "common/text.h"

namespace crm::domain {
namespace {

// Candidates read per notes table before the word-prefix filter: notes hits are a handful in
// practice; a query that would match more is too vague to page through anyway.
constexpr int kMaxNoteCandidates = 500;

// Decodes the code point at s[i] (valid UTF-8 assumed; a stray byte counts as one character).
char32_t CodePointAt(std::string_view s, size_t i, size_t* len) {
  auto b = static_cast<unsigned char>(s[i]);
  int n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + n > s.size()) n = 1;
  char32_t cp = n == 1 ? b : b & (0x7F >> n);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *len = static_cast<size_t>(n);
  return cp;
}

// Letters and digits make words, as for FTS5's unicode61 tokenizer; punctuation (ASCII, Latin-1,
// general punctuation such as ’ « » …, CJK) and spaces separate them.
bool IsWordChar(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA;
  if (c == 0xD7 || c == 0xF7) return false;
  if (c >= 0x2000 && c <= 0x2BFF) return false;
  if (c >= 0x3000 && c <= 0x303F) return false;
  if (c >= 0xFE30 && c <= 0xFE4F) return false;
  if (c >= 0xFF00 && c <= 0xFF0F) return false;
  return true;
}

struct WordSpan {
  size_t begin;
  size_t end;
};

std::vector<WordSpan> Words(std::string_view s) {
  std::vector<WordSpan> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t len;
    char32_t c = CodePointAt(s, i, &len);
    if (!IsWordChar(c)) {
      i += len;
      continue;
    }
    size_t begin = i;
    while (i < s.size()) {
      c = CodePointAt(s, i, &len);
      if (!IsWordChar(c)) break;
      i += len;
    }
    out.push_back({begin, i});
  }
  return out;
}

bool WordMatches(std::string_view folded_word, const std::vector<std::string>& terms) {
  for (const auto& t : terms)
    if (folded_word.starts_with(t)) return true;
  return false;
}

// Byte offset `chars` characters before/after `pos`, clamped to the text.
size_t BackChars(std::string_view s, size_t pos, size_t chars) {
  while (pos > 0 && chars > 0) {
    --pos;
    while (pos > 0 && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) --pos;
    --chars;
  }
  return pos;
}
size_t ForwardChars(std::string_view s, size_t pos, size_t chars) {
  while (pos < s.size() && chars > 0) {
    ++pos;
    while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
    --chars;
  }
  return pos;
}

class SqliteFtsIndex : public SegmentIndex {
 public:
  Result<std::vector<int64_t>> Find(storage::Store& store, const std::string& firm_id,
                                    const std::vector<std::string>& terms, int offset,
                                    int limit) override {
    // Terms hold only letters and digits, so quoting each one is a complete escape; '*' makes it
    // a prefix query, and space-separated phrases must all match. Newest first walks the index
    // backwards and stops at the page's end, where ranking would score every match first.
    std::string match;
    for (const auto& t : terms) match += (match.empty() ? "\"" : " \"") + t + "\"*";
    CRM_ASSIGN_OR_RETURN(
        auto rows,
        store.Query("SELECT s.seq FROM transcript_fts JOIN transcript_segments s ON s.seq = "
                    "transcript_fts.rowid WHERE transcript_fts MATCH ? AND s.firm_id = ? "
                    "ORDER BY transcript_fts.rowid DESC LIMIT ? OFFSET ?",
                    {match, firm_id, int64_t{limit}, int64_t{offset}}));
    std::vector<int64_t> out;
    for (const auto& r : rows) out.push_back(r.Int("seq"));
    return out;
  }
};

std::string LikeAll(const storage::Dialect& dialect, const std::vector<std::string>& terms,
                    storage::Params& params, const char* column) {
  std::string sql;
  for (const auto& t : terms) {
    sql += " AND " + dialect.ContainsClause(column);
    params.push_back(dialect.ContainsPattern(t));
  }
  return sql;
}

bool HasMatchingWord(std::string_view text, const std::vector<std::string>& terms) {
  for (const auto& w : Words(text))
    if (WordMatches(FoldForSearch(text.substr(w.begin, w.end - w.begin)), terms)) return true;
  return false;
}

// The field a notes hit shows: the first of `fields` with a match, else the first one.
std::string NoteSnippet(const std::vector<std::string>& fields,
                        const std::vector<std::string>& terms) {
  for (const auto& f : fields)
    if (HasMatchingWord(f, terms)) return HighlightSnippet(f, terms);
  return HighlightSnippet(fields.front(), terms);
}

Result<std::vector<SearchHit>> NoteHits(storage::Store& store, const std::string& firm_id,
                                        const std::vector<std::string>& terms) {
  std::vector<SearchHit> hits;
  storage::Params p = {firm_id};
  std::string sql = "SELECT id, name, company, notes, search_text FROM clients WHERE firm_id = ?" +
                    LikeAll(store.dialect(), terms, p, "search_text") +
                    " ORDER BY name, id LIMIT ?";
  p.push_back(int64_t{kMaxNoteCandidates});
  CRM_ASSIGN_OR_RETURN(auto clients, store.Query(sql, p));
  for (const auto& r : clients) {
    if (!MatchesAllTerms(r.Text("search_text"), terms)) continue;
    SearchHit h;
    h.type = "client";
    h.client_id = r.Text("id");
    h.client_name = r.Text("name");
    h.snippet = NoteSnippet({r.Text("name"), r.Text("notes"), r.Text("company")}, terms);
    hits.push_back(std::move(h));
  }
  p = {firm_id};
  sql =
      "SELECT m.id, m.title, m.notes, m.location, m.search_text, m.client_id, c.name AS "
      "client_name FROM meetings m JOIN clients c ON c.id = m.client_id AND c.firm_id = "
      "m.firm_id WHERE m.firm_id = ?" +
      LikeAll(store.dialect(), terms, p, "m.search_text") +
      " ORDER BY m.starts_at DESC, m.id LIMIT ?";
  p.push_back(int64_t{kMaxNoteCandidates});
  CRM_ASSIGN_OR_RETURN(auto meetings, store.Query(sql, p));
  for (const auto& r : meetings) {
    if (!MatchesAllTerms(r.Text("search_text"), terms)) continue;
    SearchHit h;
    h.type = "meeting";
    h.client_id = r.Text("client_id");
    h.client_name = r.Text("client_name");
    h.meeting_id = r.Text("id");
    h.meeting_title = r.Text("title");
    h.snippet = NoteSnippet({r.Text("title"), r.Text("notes"), r.Text("location")}, terms);
    hits.push_back(std::move(h));
  }
  return hits;
}

// Document pages matching every term, newest document first; at most kMaxNoteCandidates, as
// for notes (a query matching more pages than that is too vague to page through).
Result<std::vector<SearchHit>> DocumentHits(storage::Store& store, const std::string& firm_id,
                                            const std::vector<std::string>& terms) {
  std::vector<SearchHit> hits;
  if (store.dialect().name() != "sqlite") return hits;
  std::string match;
  for (const auto& t : terms) match += (match.empty() ? "\"" : " \"") + t + "\"*";
  CRM_ASSIGN_OR_RETURN(
      auto rows,
      store.Query("SELECT p.page, p.text, d.id AS document_id, d.name AS document_name, "
                  "d.client_id, c.name AS client_name, d.meeting_id, m.title AS meeting_title "
                  "FROM document_fts JOIN document_pages p ON p.seq = document_fts.rowid "
                  "JOIN documents d ON d.id = p.document_id AND d.firm_id = p.firm_id "
                  "JOIN clients c ON c.id = d.client_id AND c.firm_id = d.firm_id "
                  "LEFT JOIN meetings m ON m.id = d.meeting_id AND m.firm_id = d.firm_id "
                  "WHERE document_fts MATCH ? AND p.firm_id = ? "
                  "ORDER BY d.id DESC, p.page LIMIT ?",
                  {match, firm_id, int64_t{kMaxNoteCandidates}}));
  for (const auto& r : rows) {
    SearchHit h;
    h.type = "document";
    h.client_id = r.Text("client_id");
    h.client_name = r.Text("client_name");
    h.meeting_id = r.OptText("meeting_id");
    if (h.meeting_id) h.meeting_title = r.OptText("meeting_title");
    h.document_id = r.Text("document_id");
    h.document_name = r.Text("document_name");
    h.page = static_cast<int>(r.Int("page"));
    h.snippet = HighlightSnippet(r.Text("text"), terms);
    hits.push_back(std::move(h));
  }
  return hits;
}

Result<std::vector<SearchHit>> SegmentHits(storage::Store& store, const std::string& firm_id,
                                           const std::vector<int64_t>& seqs,
                                           const std::vector<std::string>& terms) {
  std::vector<SearchHit> hits;
  if (seqs.empty()) return hits;
  std::string in;
  storage::Params p = {firm_id};
  for (int64_t s : seqs) {
    in += in.empty() ? "?" : ", ?";
    p.push_back(s);
  }
  CRM_ASSIGN_OR_RETURN(
      auto rows,
      store.Query("SELECT s.seq, s.id, s.recording_id, s.start_s, s.text, r.client_id, c.name AS "
                  "client_name, r.meeting_id, m.title AS meeting_title FROM transcript_segments s "
                  "JOIN recordings r ON r.id = s.recording_id AND r.firm_id = s.firm_id "
                  "JOIN clients c ON c.id = r.client_id AND c.firm_id = s.firm_id "
                  "LEFT JOIN meetings m ON m.id = r.meeting_id AND m.firm_id = s.firm_id "
                  "WHERE s.firm_id = ? AND s.seq IN (" +
                      in + ")",
                  p));
  std::map<int64_t, const storage::Row*> by_seq;
  for (const auto& r : rows) by_seq[r.Int("seq")] = &r;
  for (int64_t seq : seqs) {
    auto it = by_seq.find(seq);
    if (it == by_seq.end()) continue;
    const storage::Row& r = *it->second;
    SearchHit h;
    h.type = "transcript";
    h.client_id = r.Text("client_id");
    h.client_name = r.Text("client_name");
    h.meeting_id = r.OptText("meeting_id");
    if (h.meeting_id) h.meeting_title = r.OptText("meeting_title");
    h.recording_id = r.Text("recording_id");
    h.segment_id = r.Text("id");
    h.start = r.Real("start_s");
    h.snippet = HighlightSnippet(r.Text("text"), terms);
    hits.push_back(std::move(h));
  }
  return hits;
}

}  // namespace

std::vector<std::string> SearchTerms(std::string_view query) {
  std::string folded = FoldForSearch(query);
  std::vector<std::string> terms;
  for (const auto& w : Words(folded)) {
    std::string t = folded.substr(w.begin, w.end - w.begin);
    if (std::find(terms.begin(), terms.end(), t) != terms.end()) continue;
    terms.push_back(std::move(t));
    if (terms.size() == kMaxSearchTerms) break;
  }
  return terms;
}

bool MatchesAllTerms(std::string_view text, const std::vector<std::string>& terms) {
  std::string folded = FoldForSearch(text);
  std::vector<bool> found(terms.size(), false);
  for (const auto& w : Words(folded)) {
    std::string_view word = std::string_view(folded).substr(w.begin, w.end - w.begin);
    for (size_t i = 0; i < terms.size(); ++i)
      if (word.starts_with(terms[i])) found[i] = true;
  }
  return std::all_of(found.begin(), found.end(), [](bool b) { return b; });
}

std::string HighlightSnippet(std::string_view text, const std::vector<std::string>& terms,
                             size_t max_chars) {
  std::vector<WordSpan> words = Words(text);
  std::vector<bool> marked(words.size(), false);
  size_t first = words.size();
  for (size_t i = 0; i < words.size(); ++i) {
    marked[i] = WordMatches(
        FoldForSearch(text.substr(words[i].begin, words[i].end - words[i].begin)), terms);
    if (marked[i] && first == words.size()) first = i;
  }
  // The window starts a third of its length before the first match, on a word's start.
  size_t begin = 0;
  if (first < words.size()) {
    size_t want = BackChars(text, words[first].begin, max_chars / 3);
    for (const auto& w : words)
      if (w.begin >= want) {
        begin = w.begin;
        break;
      }
    if (begin > words[first].begin) begin = words[first].begin;
  }
  size_t end = ForwardChars(text, begin, max_chars);
  if (end < text.size()) {
    // Cut after the last whole word inside the window (or inside a word longer than it).
    size_t cut = begin;
    for (const auto& w : words)
      if (w.begin >= begin && w.end <= end) cut = w.end;
    if (cut > begin) end = cut;
  }
  std::string out;
  if (begin > 0) out += "…";
  size_t pos = begin;
  for (size_t i = 0; i < words.size(); ++i) {
    if (!marked[i] || words[i].end <= begin || words[i].begin >= end) continue;
    size_t wb = std::max(words[i].begin, begin), we = std::min(words[i].end, end);
    AppendHtmlEscaped(out, text.substr(pos, wb - pos));
    out += "<mark>";
    AppendHtmlEscaped(out, text.substr(wb, we - wb));
    out += "</mark>";
    pos = we;
  }
  AppendHtmlEscaped(out, text.substr(pos, end - pos));
  if (end < text.size()) out += "…";
  return out;
}

Result<std::unique_ptr<SegmentIndex>> SegmentIndexFor(std::string_view dialect) {
  if (dialect == "sqlite") return std::unique_ptr<SegmentIndex>(new SqliteFtsIndex());
  return Error(ErrorCode::kUnavailable,
               "no transcript search index for the " + std::string(dialect) + " database");
}

Result<SearchPage> Search(storage::Store& store, const std::string& firm_id, std::string_view query,
                          const SearchOptions& options) {
  std::vector<std::string> terms = SearchTerms(query);
  if (terms.empty())
    return InvalidArgument(
        "Saisissez au moins un mot à rechercher. / Enter at least one word to search for.",
        {{"q", "required"}});
  int limit = std::clamp(options.limit, 1, 200);
  int offset = std::max(options.offset, 0);
  CRM_ASSIGN_OR_RETURN(auto notes, NoteHits(store, firm_id, terms));
  CRM_ASSIGN_OR_RETURN(auto pages, DocumentHits(store, firm_id, terms));
  for (auto& h : pages) notes.push_back(std::move(h));
  SearchPage page;
  int notes_count = static_cast<int>(notes.size());
  for (int i = offset; i < notes_count && static_cast<int>(page.hits.size()) < limit; ++i)
    page.hits.push_back(std::move(notes[i]));
  int wanted = limit - static_cast<int>(page.hits.size());
  int segment_offset = std::max(offset - notes_count, 0);
  CRM_ASSIGN_OR_RETURN(auto index, SegmentIndexFor(store.dialect().name()));
  // One more than needed tells whether another page follows.
  CRM_ASSIGN_OR_RETURN(auto seqs, index->Find(store, firm_id, terms, segment_offset, wanted + 1));
  page.more = static_cast<int>(seqs.size()) > wanted || offset + limit < notes_count;
  if (static_cast<int>(seqs.size()) > wanted) seqs.resize(wanted);
  CRM_ASSIGN_OR_RETURN(auto segments, SegmentHits(store, firm_id, seqs, terms));
  for (auto& h : segments) page.hits.push_back(std::move(h));
  return page;
}

}  // namespace crm::domain
