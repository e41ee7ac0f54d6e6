#include "domain/transcripts.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "common/text.h"
#include "domain/transcripts_internal.h"

namespace crm::domain {

using namespace internal;  // NOLINT: the helpers shared with transcript_edits.cpp

namespace {

using nlohmann::json;

constexpr size_t kMaxSegmentChars = 10000;
constexpr size_t kMaxSpeakerNameChars = 100;
constexpr size_t kMaxSpeakerLabelChars = 100;

Error TranscriptNotFound() {
  return NotFound("Transcription introuvable. / Transcript not found.");
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

std::string EncodeEngineValues(const asr::Segment& s) {
  return json{{"tokens", s.tokens},
              {"avg_logprob", s.avg_logprob},
              {"compression_ratio", s.compression_ratio},
              {"no_speech_prob", s.no_speech_prob},
              {"temperature", s.temperature}}
      .dump();
}

void DecodeEngineValues(const std::string& text, asr::Segment& s) {
  json v = json::parse(text, nullptr, false);
  if (!v.is_object()) return;
  s.tokens = v.value("tokens", std::vector<int>{});
  s.avg_logprob = v.value("avg_logprob", 0.0f);
  s.compression_ratio = v.value("compression_ratio", 0.0f);
  s.no_speech_prob = v.value("no_speech_prob", 0.0f);
  s.temperature = v.value("temperature", 0.0f);
}

bool SameTime(double a, double b) { return std::fabs(a - b) < 1e-6; }

// The engine's segment as it will be stored: trimmed text, finite ordered times.
Result<asr::Segment> Normalised(const asr::Segment& in, size_t index) {
  asr::Segment s = in;
  if (!std::isfinite(s.start) || !std::isfinite(s.end) || s.start < 0)
    return InvalidArgument("segment " + std::to_string(index) + " has invalid times",
                           {{"segment", index}});
  if (s.end < s.start) s.end = s.start;
  s.text = Trim(s.text);
  if (CountCodePoints(s.speaker) > kMaxSpeakerLabelChars) s.speaker.resize(kMaxSpeakerLabelChars);
  return s;
}

Result<std::optional<storage::Row>> TranscriptRow(storage::Connection& c,
                                                  const std::string& firm_id,
                                                  const std::string& recording_id) {
  return c.QueryOne("SELECT * FROM transcripts WHERE recording_id = ? AND firm_id = ?",
                    {recording_id, firm_id});
}

Status InsertSegment(storage::Connection& c, const std::string& firm_id,
                     const std::string& recording_id, size_t position, const asr::Segment& s,
                     const std::string& now) {
  CRM_TRY(c.Exec(
      "INSERT INTO transcript_segments (id, firm_id, recording_id, position, start_s, end_s, "
      "speaker, text, engine_text, search_text, words, engine, created_at, updated_at, version) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
      {NewId(), firm_id, recording_id, static_cast<int64_t>(position), s.start, s.end, s.speaker,
       s.text, s.text, FoldForSearch(s.text), EncodeWords(s.words), EncodeEngineValues(s), now,
       now}));
  return OkStatus();
}

std::string SpeakerShown(const std::map<std::string, std::string>& names,
                         const std::string& label) {
  auto it = names.find(label);
  return it == names.end() ? label : it->second;
}

Result<std::vector<storage::Row>> SegmentRows(storage::Store& store, const std::string& firm_id,
                                              const std::string& recording_id) {
  return store.Query(
      "SELECT * FROM transcript_segments WHERE firm_id = ? AND recording_id = ? ORDER BY position",
      {firm_id, recording_id});
}

}  // namespace

namespace internal {

Error SegmentNotFound() {
  return NotFound("Segment de transcription introuvable. / Transcript segment not found.");
}

Error Conflict(int64_t current_version) {
  return Error(ErrorCode::kConflict,
               "Ce texte a été modifié entre-temps : rechargez la transcription avant de "
               "l'enregistrer. / The text was changed by someone else; reload the transcript.",
               {{"current_version", current_version}});
}

std::string EncodeWords(const std::vector<asr::Word>& words) {
  json out = json::array();
  for (const auto& w : words) out.push_back({w.start, w.end, w.probability, w.text, w.speaker});
  return out.dump();
}

std::vector<asr::Word> DecodeWords(const std::string& text) {
  std::vector<asr::Word> words;
  json rows = json::parse(text, nullptr, false);
  if (!rows.is_array()) return words;
  for (const auto& r : rows) {
    if (!r.is_array() || r.size() < 5) continue;
    asr::Word w;
    w.start = r[0].get<double>();
    w.end = r[1].get<double>();
    w.probability = r[2].get<float>();
    w.text = r[3].get<std::string>();
    w.speaker = r[4].get<std::string>();
    words.push_back(std::move(w));
  }
  return words;
}

std::string EncodeTimedWords(const std::vector<TimedWord>& words) {
  json out = json::array();
  for (const auto& w : words)
    out.push_back({w.start, w.end, w.confidence, w.text, w.speaker, w.edited});
  return out.dump();
}

std::vector<TimedWord> DecodeTimedWords(const std::string& text) {
  std::vector<TimedWord> words;
  json rows = json::parse(text, nullptr, false);
  if (!rows.is_array()) return words;
  for (const auto& r : rows) {
    if (!r.is_array() || r.size() < 6) continue;
    words.push_back({r[0].get<double>(), r[1].get<double>(), r[3].get<std::string>(),
                     r[2].get<float>(), r[5].get<bool>(), r[4].get<std::string>()});
  }
  return words;
}

std::vector<TimedWord> ToTimed(const std::vector<asr::Word>& words) {
  std::vector<TimedWord> out;
  out.reserve(words.size());
  for (const auto& w : words)
    out.push_back({w.start, w.end, w.text, w.probability, false, w.speaker});
  return out;
}

StoredSegment SegmentFromRow(const storage::Row& r) {
  StoredSegment s;
  s.id = r.Text("id");
  s.index = static_cast<int>(r.Int("position"));
  s.start = r.Real("start_s");
  s.end = r.Real("end_s");
  s.speaker = r.Text("speaker");
  s.text = r.Text("text");
  s.engine_text = r.Text("engine_text");
  s.edited = s.text != s.engine_text;
  s.version = r.Int("version");
  s.engine_words = DecodeWords(r.Text("words"));
  if (!r.IsNull("current_words"))
    s.words = DecodeTimedWords(r.Text("current_words"));
  else  // the engine's words, one per word of the text (engines may cut them differently)
    s.words = AlignWords(ToTimed(s.engine_words), s.text, s.start, s.end, s.speaker, false);
  s.updated_at = r.Text("updated_at");
  return s;
}

Status BumpTranscript(storage::Connection& c, const std::string& firm_id,
                      const std::string& recording_id, const std::string& now) {
  CRM_TRY(
      c.Exec("UPDATE transcripts SET version = version + 1, updated_at = ? "
             "WHERE recording_id = ? AND firm_id = ?",
             {now, recording_id, firm_id}));
  return OkStatus();
}

Status InsertRevision(storage::Connection& c, const Principal& who, const std::string& recording_id,
                      const std::string& segment_id, int64_t version, const std::string& kind,
                      const std::string& old_text, const std::string& new_text,
                      const std::string& now) {
  CRM_TRY(c.Exec(
      "INSERT INTO transcript_revisions (id, firm_id, recording_id, segment_id, version, kind, "
      "old_text, new_text, user_id, api_key_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?)",
      {NewId(), who.firm_id, recording_id, segment_id, version, kind, old_text, new_text,
       who.user_id.empty() ? storage::Value{storage::Null{}} : storage::Value{who.user_id},
       who.api_key_id.empty() ? storage::Value{storage::Null{}} : storage::Value{who.api_key_id},
       now}));
  return OkStatus();
}

}  // namespace internal

Status SaveEngineTranscript(storage::Connection& c, const std::string& firm_id,
                            const std::string& recording_id, const asr::Transcript& t) {
  if (firm_id.empty() || recording_id.empty())
    return InvalidArgument("a transcript needs a firm and a recording");
  std::vector<asr::Segment> segments;
  segments.reserve(t.segments.size());
  for (size_t i = 0; i < t.segments.size(); ++i) {
    CRM_ASSIGN_OR_RETURN(auto s, Normalised(t.segments[i], i));
    segments.push_back(std::move(s));
  }
  double duration = std::isfinite(t.duration) && t.duration > 0 ? t.duration : 0;
  std::string now = NowIsoUtc();

  CRM_ASSIGN_OR_RETURN(auto recording, c.QueryOne("SELECT id FROM recordings WHERE id = ? AND "
                                                  "firm_id = ?",
                                                  {recording_id, firm_id}));
  if (!recording) return NotFound("Enregistrement introuvable. / Recording not found.");
  CRM_ASSIGN_OR_RETURN(auto owner, TranscriptRow(c, firm_id, recording_id));
  if (owner) {
    CRM_TRY(c.Exec(
        "UPDATE transcripts SET language = ?, duration = ?, updated_at = ?, version = version + 1 "
        "WHERE recording_id = ? AND firm_id = ?",
        {t.language, duration, now, recording_id, firm_id}));
  } else {
    CRM_TRY(
        c.Exec("INSERT INTO transcripts (recording_id, firm_id, language, duration, created_at, "
               "updated_at, version) VALUES (?, ?, ?, ?, ?, ?, 1)",
               {recording_id, firm_id, t.language, duration, now, now}));
  }

  CRM_ASSIGN_OR_RETURN(auto old_rows,
                       c.Query("SELECT seq, position, start_s, end_s, engine_text, speaker, "
                               "words, engine FROM transcript_segments WHERE firm_id = ? AND "
                               "recording_id = ? ORDER BY position",
                               {firm_id, recording_id}));
  // A segment the new output reproduces at the same place keeps its row (id, correction,
  // version); its diarization and word data are refreshed. Any other old segment goes.
  std::vector<bool> kept(segments.size(), false);
  for (const auto& row : old_rows) {
    size_t pos = static_cast<size_t>(row.Int("position"));
    bool same = pos < segments.size() && SameTime(row.Real("start_s"), segments[pos].start) &&
                SameTime(row.Real("end_s"), segments[pos].end) &&
                row.Text("engine_text") == segments[pos].text;
    if (!same) {
      CRM_TRY(c.Exec("DELETE FROM transcript_segments WHERE seq = ?", {row.Int("seq")}));
      continue;
    }
    kept[pos] = true;
    const auto& s = segments[pos];
    std::string words = EncodeWords(s.words);
    std::string engine = EncodeEngineValues(s);
    if (row.Text("speaker") != s.speaker || row.Text("words") != words ||
        row.Text("engine") != engine)
      CRM_TRY(c.Exec(
          "UPDATE transcript_segments SET speaker = ?, words = ?, engine = ?, updated_at = ? "
          "WHERE seq = ?",
          {s.speaker, words, engine, now, row.Int("seq")}));
  }
  for (size_t i = 0; i < segments.size(); ++i)
    if (!kept[i]) CRM_TRY(InsertSegment(c, firm_id, recording_id, i, segments[i], now));
  return OkStatus();
}

Status DeleteForRecording(storage::Connection& c, const std::string& firm_id,
                          const std::string& recording_id) {
  storage::Params p = {firm_id, recording_id};
  CRM_TRY(c.Exec("DELETE FROM transcript_segments WHERE firm_id = ? AND recording_id = ?", p));
  CRM_TRY(c.Exec("DELETE FROM transcript_revisions WHERE firm_id = ? AND recording_id = ?", p));
  CRM_TRY(c.Exec("DELETE FROM transcript_speakers WHERE firm_id = ? AND recording_id = ?", p));
  CRM_TRY(c.Exec("DELETE FROM transcripts WHERE firm_id = ? AND recording_id = ?", p));
  return OkStatus();
}

namespace {

// The transcript with the rows it was read from (LoadTranscript also needs their engine values).
Result<StoredTranscript> ReadStored(storage::Store& store, const std::string& firm_id,
                                    const std::string& recording_id, storage::Rows& rows) {
  CRM_ASSIGN_OR_RETURN(auto head,
                       store.QueryOne("SELECT * FROM transcripts WHERE recording_id = ? AND "
                                      "firm_id = ?",
                                      {recording_id, firm_id}));
  if (!head) return TranscriptNotFound();
  StoredTranscript t;
  t.recording_id = recording_id;
  t.language = head->Text("language");
  t.duration = head->Real("duration");
  t.version = head->Int("version");
  t.created_at = head->Text("created_at");
  t.updated_at = head->Text("updated_at");
  CRM_ASSIGN_OR_RETURN(rows, SegmentRows(store, firm_id, recording_id));
  CRM_ASSIGN_OR_RETURN(auto names, store.Query("SELECT label, name FROM transcript_speakers "
                                               "WHERE firm_id = ? AND recording_id = ?",
                                               {firm_id, recording_id}));
  for (const auto& r : names) t.speaker_names[r.Text("label")] = r.Text("name");
  std::set<std::string> seen;
  for (const auto& r : rows) {
    StoredSegment s = SegmentFromRow(r);
    if (!s.speaker.empty() && seen.insert(s.speaker).second) t.speakers.push_back(s.speaker);
    if (auto it = t.speaker_names.find(s.speaker); it != t.speaker_names.end())
      s.speaker_name = it->second;
    t.segments.push_back(std::move(s));
  }
  return t;
}

}  // namespace

Result<StoredTranscript> GetStoredTranscript(storage::Store& store, const std::string& firm_id,
                                             const std::string& recording_id) {
  storage::Rows rows;
  return ReadStored(store, firm_id, recording_id, rows);
}

Result<asr::Transcript> LoadTranscript(storage::Store& store, const std::string& firm_id,
                                       const std::string& recording_id) {
  storage::Rows rows;
  CRM_ASSIGN_OR_RETURN(auto stored, ReadStored(store, firm_id, recording_id, rows));
  asr::Transcript t;
  t.language = stored.language;
  t.duration = stored.duration;
  for (size_t i = 0; i < stored.segments.size(); ++i) {
    const StoredSegment& in = stored.segments[i];
    asr::Segment s;
    s.id = in.index;
    s.start = in.start;
    s.end = in.end;
    s.text = in.text;
    s.speaker = SpeakerShown(stored.speaker_names, in.speaker);
    if (!in.edited) {
      s.words = in.engine_words;
      DecodeEngineValues(rows[i].Text("engine"), s);
    } else {
      for (const auto& w : in.words)
        s.words.push_back({w.start, w.end, w.text, w.confidence < 0 ? 0.0f : w.confidence,
                           w.speaker.empty() ? in.speaker : w.speaker});
    }
    for (auto& w : s.words) w.speaker = SpeakerShown(stored.speaker_names, w.speaker);
    t.segments.push_back(std::move(s));
  }
  return t;
}

Result<asr::Transcript> LoadEngineTranscript(storage::Store& store, const std::string& firm_id,
                                             const std::string& recording_id) {
  CRM_ASSIGN_OR_RETURN(auto head, store.QueryOne("SELECT language, duration FROM transcripts WHERE "
                                                 "recording_id = ? AND firm_id = ?",
                                                 {recording_id, firm_id}));
  if (!head) return TranscriptNotFound();
  CRM_ASSIGN_OR_RETURN(auto rows, SegmentRows(store, firm_id, recording_id));
  asr::Transcript t;
  t.language = head->Text("language");
  t.duration = head->Real("duration");
  for (const auto& r : rows) {
    asr::Segment s;
    s.id = static_cast<int>(r.Int("position"));
    s.start = r.Real("start_s");
    s.end = r.Real("end_s");
    s.text = r.Text("engine_text");
    s.speaker = r.Text("speaker");
    s.words = DecodeWords(r.Text("words"));
    DecodeEngineValues(r.Text("engine"), s);
    t.segments.push_back(std::move(s));
  }
  return t;
}

Result<StoredSegment> GetSegment(storage::Store& store, const std::string& firm_id,
                                 const std::string& recording_id, const std::string& segment_id) {
  CRM_ASSIGN_OR_RETURN(auto row, store.QueryOne("SELECT * FROM transcript_segments WHERE id = ? "
                                                "AND recording_id = ? AND firm_id = ?",
                                                {segment_id, recording_id, firm_id}));
  if (!row) return SegmentNotFound();
  StoredSegment s = SegmentFromRow(*row);
  CRM_ASSIGN_OR_RETURN(auto name, store.QueryOne("SELECT name FROM transcript_speakers WHERE "
                                                 "recording_id = ? AND label = ? AND firm_id = ?",
                                                 {recording_id, s.speaker, firm_id}));
  if (name) s.speaker_name = name->Text("name");
  return s;
}

Result<StoredSegment> EditSegmentText(storage::Store& store, const Principal& who,
                                      const std::string& recording_id,
                                      const std::string& segment_id, const std::string& text,
                                      std::optional<int64_t> expected_version) {
  const std::string& firm_id = who.firm_id;
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne("SELECT * FROM transcript_segments WHERE id = ? "
                                              "AND recording_id = ? AND firm_id = ?",
                                              {segment_id, recording_id, firm_id}));
    if (!row) return SegmentNotFound();
    std::string clean = Trim(text);
    const char* problem = nullptr;
    if (!IsValidUtf8(text))
      problem = "invalid_utf8";
    else if (clean.empty())
      problem = "required";
    else if (CountCodePoints(clean) > kMaxSegmentChars)
      problem = "too_long";
    if (problem)
      return InvalidArgument("Champs invalides : text. / Invalid fields: text.",
                             {{"text", problem}});
    int64_t current = row->Int("version");
    if (expected_version && *expected_version != current) return Conflict(current);
    std::string old_text = row->Text("text");
    if (clean == old_text) return OkStatus();
    std::string now = NowIsoUtc();
    const StoredSegment before = SegmentFromRow(*row);
    std::vector<TimedWord> words =
        AlignWords(before.words, clean, before.start, before.end, before.speaker, true);
    CRM_ASSIGN_OR_RETURN(
        int64_t n,
        c.Exec(
            "UPDATE transcript_segments SET text = ?, search_text = ?, current_words = ?, "
            "version = version + 1, updated_at = ? WHERE seq = ? AND version = ?",
            {clean, FoldForSearch(clean), EncodeTimedWords(words), now, row->Int("seq"), current}));
    if (n == 0) return Conflict(current + 1);
    CRM_TRY(InsertRevision(c, who, recording_id, segment_id, current + 1, "edit", old_text, clean,
                           now));
    return BumpTranscript(c, firm_id, recording_id, now);
  }));
  return GetSegment(store, firm_id, recording_id, segment_id);
}

Result<std::vector<SegmentRevision>> ListRevisions(storage::Store& store,
                                                   const std::string& firm_id,
                                                   const std::string& recording_id,
                                                   const std::string& segment_id) {
  // A segment replaced by a later engine output keeps its history, reachable by its old id.
  CRM_ASSIGN_OR_RETURN(auto rows, store.Query("SELECT * FROM transcript_revisions WHERE firm_id "
                                              "= ? AND recording_id = ? AND segment_id = ? "
                                              "ORDER BY id",
                                              {firm_id, recording_id, segment_id}));
  if (rows.empty()) CRM_TRY(GetSegment(store, firm_id, recording_id, segment_id));
  std::vector<SegmentRevision> out;
  for (const auto& r : rows)
    out.push_back({r.Text("id"), r.Text("kind"), r.Int("version"), r.Text("old_text"),
                   r.Text("new_text"), r.Text("user_id"), r.Text("api_key_id"),
                   r.Text("created_at")});
  return out;
}

Result<std::map<std::string, std::string>> NameSpeakers(
    storage::Store& store, const Principal& who, const std::string& recording_id,
    const std::map<std::string, std::string>& names, std::optional<int64_t> expected_version) {
  const std::string& firm_id = who.firm_id;
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto head, TranscriptRow(c, firm_id, recording_id));
    if (!head) return TranscriptNotFound();
    CRM_ASSIGN_OR_RETURN(auto labels, c.Query("SELECT DISTINCT speaker FROM transcript_segments "
                                              "WHERE firm_id = ? AND recording_id = ?",
                                              {firm_id, recording_id}));
    std::set<std::string> known;
    for (const auto& r : labels) known.insert(r.Text("speaker"));
    json problems = json::object();
    for (const auto& [label, name] : names) {
      if (label.empty() || !known.contains(label))
        problems[label] = "unknown_speaker";
      else if (!IsValidUtf8(name))
        problems[label] = "invalid_utf8";
      else if (CountCodePoints(Trim(name)) > kMaxSpeakerNameChars)
        problems[label] = "too_long";
    }
    if (!problems.empty()) {
      std::string list;
      for (auto& [k, _] : problems.items()) list += (list.empty() ? "" : ", ") + k;
      return InvalidArgument(
          "Intervenants invalides : " + list + ". / Invalid speakers: " + list + ".", problems);
    }
    int64_t current = head->Int("version");
    if (expected_version && *expected_version != current) return Conflict(current);
    std::string now = NowIsoUtc();
    for (const auto& [label, raw] : names) {
      std::string name = Trim(raw);
      storage::Params key = {firm_id, recording_id, label};
      CRM_TRY(
          c.Exec("DELETE FROM transcript_speakers WHERE firm_id = ? AND recording_id = ? AND "
                 "label = ?",
                 key));
      if (!name.empty())
        CRM_TRY(
            c.Exec("INSERT INTO transcript_speakers (recording_id, label, firm_id, name, "
                   "updated_at) VALUES (?, ?, ?, ?, ?)",
                   {recording_id, label, firm_id, name, now}));
    }
    return BumpTranscript(c, firm_id, recording_id, now);
  }));
  CRM_ASSIGN_OR_RETURN(auto rows, store.Query("SELECT label, name FROM transcript_speakers WHERE "
                                              "firm_id = ? AND recording_id = ?",
                                              {firm_id, recording_id}));
  std::map<std::string, std::string> out;
  for (const auto& r : rows) out[r.Text("label")] = r.Text("name");
  return out;
}

Result<std::optional<RecordingNaming>> GetRecordingNaming(storage::Store& store,
                                                          const std::string& firm_id,
                                                          const std::string& recording_id) {
  CRM_ASSIGN_OR_RETURN(auto row,
                       store.QueryOne("SELECT r.title, r.created_at, c.name FROM recordings r JOIN "
                                      "clients c ON c.id = r.client_id AND c.firm_id = r.firm_id "
                                      "WHERE r.id = ? AND r.firm_id = ?",
                                      {recording_id, firm_id}));
  if (!row) return std::optional<RecordingNaming>();
  return std::optional<RecordingNaming>(
      RecordingNaming{row->Text("title"), row->Text("created_at"), row->Text("name")});
}

}  // namespace crm::domain
