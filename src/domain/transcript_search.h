// Full-text search over a firm's transcripts and its clients' and meetings' notes, accent- and
// case-insensitive (French first): "helene", "HELENE" and "Hélène" find "Hélène".
//
// Matching: the query is folded (FoldForSearch) and cut into words; a row matches when each query
// word begins a word of it ("avoc" finds "avocate"). Transcript segments are found through a
// database-specific SegmentIndex (SQLite: the FTS5 table of migration 0004 over the folded text;
// MariaDB: a FULLTEXT index over the same folded column fits the same interface),
// clients and meetings through the folded search_text the RecordStore keeps, filtered with the
// same word-prefix rule, so both databases find the same rows. Snippets are cut and highlighted
// here, from the original text, not by the database: the same everywhere, HTML-escaped, matches
// in <mark>…</mark>.
//
// Documents' pages (the text extracted from PDF, DOCX, ODT and text files, migration 0010) are
// found through their own FTS5 table with the same tokenizer and the same folded text.
//
// Order: clients, then meetings, then document pages (newest document first), then transcript
// segments newest first (the order both databases
// give alike, and cheap: a frequent word's thousands of matches need no scoring and sorting);
// `offset`/`limit` page over that list. Every query is scoped by the caller's firm.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/store.h"

namespace crm::domain {

struct SearchHit {
  std::string type;  // "transcript", "client", "meeting" or "document"
  std::string client_id;
  std::string client_name;
  std::optional<std::string> meeting_id;
  std::optional<std::string> meeting_title;
  std::optional<std::string> recording_id;  // transcript hits
  std::optional<std::string> segment_id;    // transcript hits
  std::optional<double> start;              // transcript hits: the second to jump to
  std::optional<std::string> document_id;   // document hits
  std::optional<std::string> document_name;  // document hits
  std::optional<int> page;                  // document hits: the page (from 1) that matches
  std::string snippet;                      // HTML-escaped, matches in <mark>…</mark>
};

struct SearchOptions {
  int limit = 20;  // 1..200
  int offset = 0;  // results to skip (the list's cursor)
};

struct SearchPage {
  std::vector<SearchHit> hits;
  bool more = false;  // results remain after this page
};

// The folded words of a query, in order, duplicates removed, at most kMaxSearchTerms.
constexpr size_t kMaxSearchTerms = 8;
std::vector<std::string> SearchTerms(std::string_view query);

// True when every term begins a word of `text` (folded as the terms are).
bool MatchesAllTerms(std::string_view text, const std::vector<std::string>& terms);

// Up to about max_chars characters of `text` around its first match, cut at word boundaries
// ("…" where cut), HTML-escaped, every matching word wrapped in <mark></mark>. The start of the
// text when nothing matches.
std::string HighlightSnippet(std::string_view text, const std::vector<std::string>& terms,
                             size_t max_chars = 160);

// Finds a firm's transcript segments whose current text matches every term, newest first.
class SegmentIndex {
 public:
  virtual ~SegmentIndex() = default;
  // transcript_segments.seq of the matches, newest first; at most `limit` after `offset`.
  virtual Result<std::vector<int64_t>> Find(storage::Store& store, const std::string& firm_id,
                                            const std::vector<std::string>& terms, int offset,
                                            int limit) = 0;
};

// The index for a store's dialect; kUnavailable when there is none for it.
Result<std::unique_ptr<SegmentIndex>> SegmentIndexFor(std::string_view dialect);

// kInvalidArgument ({"q": "required"}) when the query holds no word.
Result<SearchPage> Search(storage::Store& store, const std::string& firm_id, std::string_view query,
                          const SearchOptions& options = {});

}  // namespace crm::domain
