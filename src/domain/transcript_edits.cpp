// Splitting and merging segments (transcripts.h): both rewrite positions inside one transaction,
// keep every word's time, and leave a revision on the segments they change.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "common/text.h"
#include "domain/transcripts.h"
#include "domain/transcripts_internal.h"

namespace crm::domain {

using namespace internal;  // NOLINT: the shared helpers of the transcript files

namespace {

constexpr size_t kMaxSegmentChars = 10000;

std::string JoinWords(const std::vector<TimedWord>& words, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    std::string w = Trim(words[i].text);
    if (w.empty()) continue;
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

std::string JoinEngine(const std::vector<asr::Word>& words) {
  std::string out;
  for (const auto& w : words) out += w.text;
  return Trim(out);
}

std::string Joined(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + " " + b;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

// Moves the positions of the recording's segments after `after` by `delta` (+1 or -1) without
// ever holding two rows on one position (the UNIQUE index is checked row by row): through
// negative positions first.
Status ShiftPositions(storage::Connection& c, const std::string& firm_id,
                      const std::string& recording_id, int64_t after, int delta) {
  CRM_TRY(c.Exec(
      "UPDATE transcript_segments SET position = -(position + ?) - 1 WHERE firm_id = ? AND "
      "recording_id = ? AND position > ?",
      {static_cast<int64_t>(delta), firm_id, recording_id, after}));
  CRM_TRY(c.Exec(
      "UPDATE transcript_segments SET position = -position - 1 WHERE firm_id = ? AND "
      "recording_id = ? AND position < 0",
      {firm_id, recording_id}));
  return OkStatus();
}

Result<storage::Row> SegmentRow(storage::Connection& c, const std::string& firm_id,
                                const std::string& recording_id, const std::string& segment_id) {
  CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne("SELECT * FROM transcript_segments WHERE id = ? AND "
                                            "recording_id = ? AND firm_id = ?",
                                            {segment_id, recording_id, firm_id}));
  if (!row) return SegmentNotFound();
  return std::move(*row);
}

}  // namespace

Result<std::pair<StoredSegment, StoredSegment>> SplitSegment(
    storage::Store& store, const Principal& who, const std::string& recording_id,
    const std::string& segment_id, int word_index, std::optional<int64_t> expected_version) {
  const std::string& firm_id = who.firm_id;
  std::string second_id = NewId();
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(storage::Row row, SegmentRow(c, firm_id, recording_id, segment_id));
    StoredSegment s = SegmentFromRow(row);
    if (word_index < 1 || static_cast<size_t>(word_index) >= s.words.size())
      return InvalidArgument(
          "Coupez entre deux mots du segment. / Split between two words of the segment.",
          {{"word_index", s.words.size() < 2 ? "segment_has_one_word" : "out_of_range"}});
    if (expected_version && *expected_version != s.version) return Conflict(s.version);
    const size_t k = static_cast<size_t>(word_index);
    std::vector<TimedWord> first(s.words.begin(), s.words.begin() + k);
    std::vector<TimedWord> second(s.words.begin() + k, s.words.end());
    double cut = std::clamp(second.front().start, s.start, s.end);
    double first_end = std::clamp(first.back().end, s.start, cut);
    std::string text_a = JoinWords(s.words, 0, k), text_b = JoinWords(s.words, k, s.words.size());
    // The engine's words and text, shared out by time (by the middle of each word).
    std::vector<asr::Word> engine_a, engine_b;
    for (const auto& w : s.engine_words)
      ((w.start + w.end) / 2 < cut ? engine_a : engine_b).push_back(w);
    std::string engine_text_a = s.edited ? JoinEngine(engine_a) : text_a;
    std::string engine_text_b = s.edited ? JoinEngine(engine_b) : text_b;
    if (s.edited && s.engine_words.empty()) engine_text_a = s.engine_text;
    const bool edited_a = text_a != engine_text_a, edited_b = text_b != engine_text_b;

    std::string now = NowIsoUtc();
    const int64_t position = row.Int("position");
    CRM_TRY(ShiftPositions(c, firm_id, recording_id, position, +1));
    CRM_ASSIGN_OR_RETURN(
        int64_t n,
        c.Exec("UPDATE transcript_segments SET end_s = ?, text = ?, engine_text = ?, "
               "search_text = ?, words = ?, current_words = ?, version = version + 1, "
               "updated_at = ? WHERE seq = ? AND version = ?",
               {first_end, text_a, engine_text_a, FoldForSearch(text_a), EncodeWords(engine_a),
                edited_a ? storage::Value{EncodeTimedWords(first)} : storage::Value{storage::Null{}},
                now, row.Int("seq"), s.version}));
    if (n == 0) return Conflict(s.version + 1);
    CRM_TRY(c.Exec(
        "INSERT INTO transcript_segments (id, firm_id, recording_id, position, start_s, end_s, "
        "speaker, text, engine_text, search_text, words, current_words, engine, created_at, "
        "updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, 1)",
        {second_id, firm_id, recording_id, position + 1, cut, s.end, s.speaker, text_b,
         engine_text_b, FoldForSearch(text_b), EncodeWords(engine_b),
         edited_b ? storage::Value{EncodeTimedWords(second)} : storage::Value{storage::Null{}},
         now, now}));
    CRM_TRY(InsertRevision(c, who, recording_id, segment_id, s.version + 1, "split", s.text,
                           text_a, now));
    CRM_TRY(InsertRevision(c, who, recording_id, second_id, 1, "split", s.text, text_b, now));
    return BumpTranscript(c, firm_id, recording_id, now);
  }));
  CRM_ASSIGN_OR_RETURN(auto a, GetSegment(store, firm_id, recording_id, segment_id));
  CRM_ASSIGN_OR_RETURN(auto b, GetSegment(store, firm_id, recording_id, second_id));
  return std::make_pair(std::move(a), std::move(b));
}

Result<StoredSegment> MergeWithNext(storage::Store& store, const Principal& who,
                                    const std::string& recording_id, const std::string& segment_id,
                                    std::optional<int64_t> expected_version,
                                    std::optional<int64_t> expected_next_version) {
  const std::string& firm_id = who.firm_id;
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(storage::Row row, SegmentRow(c, firm_id, recording_id, segment_id));
    const int64_t position = row.Int("position");
    CRM_ASSIGN_OR_RETURN(auto next_row,
                         c.QueryOne("SELECT * FROM transcript_segments WHERE firm_id = ? AND "
                                    "recording_id = ? AND position > ? ORDER BY position LIMIT 1",
                                    {firm_id, recording_id, position}));
    if (!next_row)
      return InvalidArgument(
          "C'est le dernier segment : il n'y a rien à fusionner après lui. / This is the last "
          "segment: there is nothing after it to merge.",
          {{"segment_id", "no_next_segment"}});
    StoredSegment a = SegmentFromRow(row), b = SegmentFromRow(*next_row);
    if (expected_version && *expected_version != a.version) return Conflict(a.version);
    if (expected_next_version && *expected_next_version != b.version) return Conflict(b.version);
    std::string text = Joined(a.text, b.text), engine_text = Joined(a.engine_text, b.engine_text);
    if (CodePoints(text) > kMaxSegmentChars)
      return InvalidArgument(
          "Le segment fusionné dépasserait 10000 caractères. / The merged segment would exceed "
          "10000 characters.",
          {{"text", "too_long"}});
    std::vector<TimedWord> words = a.words;
    words.insert(words.end(), b.words.begin(), b.words.end());
    std::vector<asr::Word> engine_words = a.engine_words;
    engine_words.insert(engine_words.end(), b.engine_words.begin(), b.engine_words.end());
    // The engine values (tokens, scores) are the first's, its tokens followed by the second's.
    nlohmann::json engine = nlohmann::json::parse(row.Text("engine"), nullptr, false);
    nlohmann::json engine_b = nlohmann::json::parse(next_row->Text("engine"), nullptr, false);
    if (engine.is_object() && engine_b.is_object() && engine.contains("tokens") &&
        engine_b.contains("tokens") && engine["tokens"].is_array() &&
        engine_b["tokens"].is_array())
      for (const auto& t : engine_b["tokens"]) engine["tokens"].push_back(t);
    if (!engine.is_object()) engine = nlohmann::json::object();

    std::string now = NowIsoUtc();
    CRM_TRY(c.Exec("DELETE FROM transcript_segments WHERE seq = ?", {next_row->Int("seq")}));
    CRM_ASSIGN_OR_RETURN(
        int64_t n,
        c.Exec("UPDATE transcript_segments SET end_s = ?, text = ?, engine_text = ?, "
               "search_text = ?, words = ?, current_words = ?, engine = ?, version = version + 1, "
               "updated_at = ? WHERE seq = ? AND version = ?",
               {std::max(a.end, b.end), text, engine_text, FoldForSearch(text),
                EncodeWords(engine_words),
                text != engine_text ? storage::Value{EncodeTimedWords(words)}
                                    : storage::Value{storage::Null{}},
                engine.dump(), now, row.Int("seq"), a.version}));
    if (n == 0) return Conflict(a.version + 1);
    CRM_TRY(ShiftPositions(c, firm_id, recording_id, next_row->Int("position"), -1));
    CRM_TRY(InsertRevision(c, who, recording_id, segment_id, a.version + 1, "merge", a.text, text,
                           now));
    return BumpTranscript(c, firm_id, recording_id, now);
  }));
  return GetSegment(store, firm_id, recording_id, segment_id);
}

}  // namespace crm::domain
