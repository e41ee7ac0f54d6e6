// Enrolled voiceprints: enrolment from sources, more sources, rename/link, delete, read, list.
// The speakers of recordings (stored voiceprints, automatic names, suggestions, similar speakers,
// applied names) are in voiceprint_speakers.cpp.
#include "domain/voiceprints.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "common/text.h"
#include "domain/audit.h"
#include "domain/voiceprints_internal.h"

namespace crm::domain {

using nlohmann::json;

namespace voiceprints_internal {

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

Error RecordingNotFound() { return NotFound("Enregistrement introuvable. / Recording not found."); }

Error Invalid(const json& problems) {
  std::string names;
  for (auto& [k, _] : problems.items()) names += (names.empty() ? "" : ", ") + k;
  return InvalidArgument("Champs invalides : " + names + ". / Invalid fields: " + names + ".",
                         problems);
}

Error Stale(int64_t current_version, const std::string& what_fr) {
  return Error(ErrorCode::kConflict,
               what_fr +
                   " a été modifié entre-temps : rechargez avant d'enregistrer. / It was "
                   "changed by someone else; reload it.",
               {{"current_version", current_version}});
}

const char* NameProblem(const std::string& raw) {
  if (!IsValidUtf8(raw)) return "invalid_utf8";
  std::string name = Trim(raw);
  if (name.empty()) return "required";
  if (CountCodePoints(name) > kMaxNameChars) return "too_long";
  return nullptr;
}

Status BumpTranscripts(storage::Connection& c, const std::string& firm_id,
                       const std::set<std::string>& recordings) {
  std::string now = NowIsoUtc();
  for (const auto& r : recordings)
    CRM_TRY(
        c.Exec("UPDATE transcripts SET version = version + 1, updated_at = ? WHERE firm_id = ? "
               "AND recording_id = ?",
               {now, firm_id, r}));
  return OkStatus();
}

}  // namespace voiceprints_internal

namespace {

using namespace voiceprints_internal;
using storage::Value;

constexpr size_t kMaxRangesPerSource = 50;
constexpr double kMaxRangeEnd = 7 * 24 * 3600.0;

Error VoiceprintNotFound() {
  return NotFound("Empreinte vocale introuvable. / Voiceprint not found.");
}

Value OptText(const std::string& s) { return s.empty() ? Value(storage::Null{}) : Value(s); }

// Every recording of the sources, and the linked user and contact, must be the firm's.
Status CheckIdsInFirm(storage::Store& store, const std::string& firm,
                      const std::vector<SourceRequest>& sources, const VoiceprintFields& fields) {
  std::vector<std::string> recordings;
  for (const auto& s : sources) recordings.push_back(s.recording_id);
  CRM_TRY(CheckRecordingsInFirm(store, firm, recordings));
  if (fields.user_id && !fields.user_id->empty()) {
    CRM_ASSIGN_OR_RETURN(auto row, store.QueryOne("SELECT id FROM users WHERE firm_id = ? AND "
                                                  "id = ?",
                                                  {firm, *fields.user_id}));
    if (!row) return NotFound("Utilisateur introuvable. / User not found.");
  }
  if (fields.contact_id && !fields.contact_id->empty()) {
    CRM_ASSIGN_OR_RETURN(auto row, store.QueryOne("SELECT id FROM contacts WHERE firm_id = ? AND "
                                                  "id = ?",
                                                  {firm, *fields.contact_id}));
    if (!row) return NotFound("Contact introuvable. / Contact not found.");
  }
  return OkStatus();
}

// Shape of the sources: problems as "sources[i]" → reason.
void CheckSourceShapes(const std::vector<SourceRequest>& sources, const VoiceprintOptions& o,
                       const std::set<std::pair<std::string, std::string>>& existing,
                       json& problems) {
  if (sources.empty()) {
    problems["sources"] = "required";
    return;
  }
  if (sources.size() > o.max_sources) {
    problems["sources"] = "too_many";
    return;
  }
  std::set<std::pair<std::string, std::string>> seen = existing;
  for (size_t i = 0; i < sources.size(); ++i) {
    const SourceRequest& s = sources[i];
    std::string key = "sources[" + std::to_string(i) + "]";
    if (s.recording_id.empty()) {
      problems[key] = "recording_required";
    } else if (s.label.empty() == s.ranges.empty()) {
      problems[key] = "label_or_ranges";
    } else if (s.ranges.size() > kMaxRangesPerSource) {
      problems[key] = "too_many_ranges";
    } else if (!s.label.empty()) {
      if (!seen.insert({s.recording_id, s.label}).second) problems[key] = "duplicate";
    } else {
      for (const auto& r : s.ranges)
        if (!std::isfinite(r.start) || !std::isfinite(r.end) || r.start < 0 || r.end <= r.start ||
            r.end > kMaxRangeEnd)
          problems[key] = "invalid_range";
    }
  }
}

struct ComputedSource {
  const SourceRequest* request = nullptr;
  diarization::WeightedVoiceprint voice;
};

// The voice of every source: stored speaker voiceprints for labels, `ranges_fn` for time ranges.
Result<std::vector<ComputedSource>> ComputeSources(storage::Store& store, const std::string& firm,
                                                   const std::vector<SourceRequest>& sources,
                                                   const RangeVoiceprintFn& ranges_fn,
                                                   const VoiceprintOptions& o) {
  std::vector<ComputedSource> out;
  json problems = json::object();
  for (size_t i = 0; i < sources.size(); ++i) {
    const SourceRequest& s = sources[i];
    std::string key = "sources[" + std::to_string(i) + "]";
    ComputedSource cs{&s, {}};
    if (!s.label.empty()) {
      CRM_ASSIGN_OR_RETURN(auto row, store.QueryOne("SELECT voiceprint, seconds_of_speech FROM "
                                                    "recording_speakers WHERE firm_id = ? AND "
                                                    "recording_id = ? AND label = ?",
                                                    {firm, s.recording_id, s.label}));
      auto parsed = row ? diarization::ParseVoiceprint(row->Text("voiceprint"))
                        : Result<std::vector<float>>(NotFound("no voiceprint"));
      if (!parsed.ok()) {
        problems[key] = "no_voiceprint";
        continue;
      }
      cs.voice = {std::move(*parsed), row->Real("seconds_of_speech")};
    } else {
      if (!ranges_fn) return Error(ErrorCode::kUnavailable, "audio of recordings is not readable");
      auto v = ranges_fn(s.recording_id, s.ranges);
      if (!v.ok()) {
        if (v.error().code != ErrorCode::kInvalidArgument) return v.error();
        problems[key] = "too_short";
        continue;
      }
      cs.voice = std::move(*v);
    }
    if (cs.voice.seconds < o.min_source_seconds) {
      problems[key] = "too_short";
      continue;
    }
    out.push_back(std::move(cs));
  }
  if (!problems.empty()) {
    std::string names;
    for (auto& [k, _] : problems.items()) names += (names.empty() ? "" : ", ") + k;
    char min[32];
    std::snprintf(min, sizeof min, "%.0f", o.min_source_seconds);
    return InvalidArgument(
        "Sources inutilisables : " + names +
            ". Chaque source doit être un intervenant identifié par la diarisation (label) ou des "
            "passages d'au moins " +
            min + " s où la personne parle. / Unusable sources: " + names + ".",
        problems);
  }
  return out;
}

Error NotEnoughSpeech(double seconds, double min) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "Pas assez de parole pour une empreinte vocale : %.1f s, il en faut au moins "
                "%.0f s. Ajoutez des passages où la personne parle seule. / Not enough speech for "
                "a voiceprint: %.1f s, at least %.0f s are needed.",
                seconds, min, seconds, min);
  return InvalidArgument(buf, {{"sources", "too_short"},
                               {"seconds_of_speech", std::round(seconds * 100) / 100},
                               {"min_seconds", min}});
}

std::string RangesJson(const std::vector<diarization::TimeRange>& ranges) {
  json out = json::array();
  for (const auto& r : ranges) out.push_back({r.start, r.end});
  return out.dump();
}

std::vector<diarization::TimeRange> RangesFromJson(const std::string& text) {
  std::vector<diarization::TimeRange> out;
  json j = json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& r : j)
    if (r.is_array() && r.size() == 2 && r[0].is_number() && r[1].is_number())
      out.push_back({r[0].get<double>(), r[1].get<double>()});
  return out;
}

Status InsertSources(storage::Connection& c, const Principal& who, const std::string& vp_id,
                     const std::vector<ComputedSource>& sources, const std::string& now) {
  for (const auto& s : sources)
    CRM_TRY(
        c.Exec("INSERT INTO voiceprint_sources (id, firm_id, voiceprint_id, recording_id, "
               "label, ranges, seconds_of_speech, created_by, created_at) VALUES (?, ?, ?, ?, "
               "?, ?, ?, ?, ?)",
               {NewId(), who.firm_id, vp_id, s.request->recording_id, OptText(s.request->label),
                RangesJson(s.request->ranges), s.voice.seconds,
                OptText(who.user_id.empty() ? who.api_key_id : who.user_id), now}));
  return OkStatus();
}

const char* kVoiceprintColumns =
    "v.id, v.name, v.user_id, v.contact_id, v.seconds_of_speech, v.created_by, v.created_at, "
    "v.updated_at, v.version, (SELECT COUNT(*) FROM voiceprint_sources s WHERE s.firm_id = "
    "v.firm_id AND s.voiceprint_id = v.id) AS source_count, (SELECT COUNT(*) FROM "
    "transcript_speakers t WHERE t.firm_id = v.firm_id AND t.voiceprint_id = v.id AND t.origin = "
    "'automatic') AS automatic_names";

Voiceprint FromRow(const storage::Row& r) {
  Voiceprint v;
  v.id = r.Text("id");
  v.name = r.Text("name");
  v.user_id = r.Text("user_id");
  v.contact_id = r.Text("contact_id");
  v.seconds_of_speech = r.Real("seconds_of_speech");
  v.source_count = r.Int("source_count");
  v.automatic_names = r.Int("automatic_names");
  v.created_by = r.Text("created_by");
  v.created_at = r.Text("created_at");
  v.updated_at = r.Text("updated_at");
  v.version = r.Int("version");
  return v;
}

// Name and links after applying `f` to the current ones; problems by field name.
void CheckFields(const VoiceprintFields& f, const Voiceprint* current, json& problems) {
  if (f.name) {
    if (const char* p = NameProblem(*f.name)) problems["name"] = p;
  } else if (!current) {
    problems["name"] = "required";
  }
  std::string user = f.user_id ? *f.user_id : (current ? current->user_id : "");
  std::string contact = f.contact_id ? *f.contact_id : (current ? current->contact_id : "");
  if (!user.empty() && !contact.empty()) problems["contact_id"] = "one_link_only";
}

}  // namespace

Status CheckRecordingsInFirm(storage::Store& store, const std::string& firm_id,
                             const std::vector<std::string>& recording_ids) {
  std::set<std::string> unique(recording_ids.begin(), recording_ids.end());
  for (const auto& id : unique) {
    if (id.empty()) continue;
    CRM_ASSIGN_OR_RETURN(auto row, store.QueryOne("SELECT id FROM recordings WHERE firm_id = ? "
                                                  "AND id = ?",
                                                  {firm_id, id}));
    if (!row) return RecordingNotFound();
  }
  return OkStatus();
}

Result<Voiceprint> EnrolVoiceprint(storage::Store& store, const Principal& who,
                                   const VoiceprintFields& fields,
                                   const std::vector<SourceRequest>& sources,
                                   const RangeVoiceprintFn& ranges_fn,
                                   const VoiceprintOptions& options) {
  CRM_TRY(CheckIdsInFirm(store, who.firm_id, sources, fields));
  json problems = json::object();
  CheckFields(fields, nullptr, problems);
  CheckSourceShapes(sources, options, {}, problems);
  if (!problems.empty()) return Invalid(problems);
  CRM_ASSIGN_OR_RETURN(auto computed,
                       ComputeSources(store, who.firm_id, sources, ranges_fn, options));
  std::vector<diarization::WeightedVoiceprint> parts;
  double seconds = 0;
  for (const auto& c : computed) {
    parts.push_back(c.voice);
    seconds += c.voice.seconds;
  }
  if (seconds < options.min_enrol_seconds)
    return NotEnoughSpeech(seconds, options.min_enrol_seconds);
  CRM_ASSIGN_OR_RETURN(auto average, diarization::AverageVoiceprints(parts));

  std::string id = NewId(), now = NowIsoUtc(), name = Trim(*fields.name);
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    CRM_TRY(
        c.Exec("INSERT INTO voiceprints (id, firm_id, name, user_id, contact_id, voiceprint, "
               "seconds_of_speech, created_by, created_at, updated_at, version) VALUES (?, ?, "
               "?, ?, ?, ?, ?, ?, ?, ?, 1)",
               {id, who.firm_id, name, OptText(fields.user_id.value_or("")),
                OptText(fields.contact_id.value_or("")), diarization::SerializeVoiceprint(average),
                seconds, OptText(who.user_id.empty() ? who.api_key_id : who.user_id), now, now}));
    CRM_TRY(InsertSources(c, who, id, computed, now));
    return AuditIn(c, who, "voiceprint.enrol", "voiceprint", id,
                   {{"name", name},
                    {"sources", computed.size()},
                    {"seconds_of_speech", std::round(seconds * 100) / 100}});
  }));
  return GetVoiceprint(store, who.firm_id, id);
}

Result<Voiceprint> AddVoiceprintSources(storage::Store& store, const Principal& who,
                                        const std::string& voiceprint_id,
                                        const std::vector<SourceRequest>& sources,
                                        const RangeVoiceprintFn& ranges_fn,
                                        std::optional<int64_t> expected_version,
                                        const VoiceprintOptions& options) {
  CRM_ASSIGN_OR_RETURN(auto current, GetVoiceprint(store, who.firm_id, voiceprint_id));
  CRM_TRY(CheckIdsInFirm(store, who.firm_id, sources, {}));
  std::set<std::pair<std::string, std::string>> existing;
  for (const auto& s : current.sources)
    if (!s.label.empty()) existing.insert({s.recording_id, s.label});
  json problems = json::object();
  CheckSourceShapes(sources, options, existing, problems);
  if (!problems.empty()) return Invalid(problems);
  CRM_ASSIGN_OR_RETURN(auto computed,
                       ComputeSources(store, who.firm_id, sources, ranges_fn, options));
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne("SELECT voiceprint, seconds_of_speech, version FROM "
                                              "voiceprints WHERE firm_id = ? AND id = ?",
                                              {who.firm_id, voiceprint_id}));
    if (!row) return VoiceprintNotFound();
    int64_t version = row->Int("version");
    if (expected_version && *expected_version != version)
      return Stale(version, "Cette empreinte vocale");
    CRM_ASSIGN_OR_RETURN(auto vector, diarization::ParseVoiceprint(row->Text("voiceprint")));
    std::vector<diarization::WeightedVoiceprint> parts = {
        {std::move(vector), row->Real("seconds_of_speech")}};
    double seconds = row->Real("seconds_of_speech"), added = 0;
    for (const auto& s : computed) {
      parts.push_back(s.voice);
      added += s.voice.seconds;
    }
    CRM_ASSIGN_OR_RETURN(auto average, diarization::AverageVoiceprints(parts));
    std::string now = NowIsoUtc();
    CRM_TRY(
        c.Exec("UPDATE voiceprints SET voiceprint = ?, seconds_of_speech = ?, version = "
               "version + 1, updated_at = ? WHERE firm_id = ? AND id = ?",
               {diarization::SerializeVoiceprint(average), seconds + added, now, who.firm_id,
                voiceprint_id}));
    CRM_TRY(InsertSources(c, who, voiceprint_id, computed, now));
    return AuditIn(
        c, who, "voiceprint.add_sources", "voiceprint", voiceprint_id,
        {{"sources", computed.size()}, {"seconds_of_speech", std::round(added * 100) / 100}});
  }));
  return GetVoiceprint(store, who.firm_id, voiceprint_id);
}

Result<Voiceprint> UpdateVoiceprint(storage::Store& store, const Principal& who,
                                    const std::string& voiceprint_id,
                                    const VoiceprintFields& fields,
                                    std::optional<int64_t> expected_version) {
  CRM_ASSIGN_OR_RETURN(auto current, GetVoiceprint(store, who.firm_id, voiceprint_id));
  CRM_TRY(CheckIdsInFirm(store, who.firm_id, {}, fields));
  json problems = json::object();
  CheckFields(fields, &current, problems);
  if (!problems.empty()) return Invalid(problems);
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne("SELECT name, version FROM voiceprints WHERE "
                                              "firm_id = ? AND id = ?",
                                              {who.firm_id, voiceprint_id}));
    if (!row) return VoiceprintNotFound();
    int64_t version = row->Int("version");
    if (expected_version && *expected_version != version)
      return Stale(version, "Cette empreinte vocale");
    std::string name = fields.name ? Trim(*fields.name) : row->Text("name");
    std::string now = NowIsoUtc();
    CRM_TRY(c.Exec(
        "UPDATE voiceprints SET name = ?, user_id = ?, contact_id = ?, version = version + 1, "
        "updated_at = ? WHERE firm_id = ? AND id = ?",
        {name, OptText(fields.user_id.value_or(current.user_id)),
         OptText(fields.contact_id.value_or(current.contact_id)), now, who.firm_id,
         voiceprint_id}));
    if (name != row->Text("name")) {
      // Its automatic names follow; confirmed names are the users' and stay.
      CRM_ASSIGN_OR_RETURN(auto named, c.Query("SELECT DISTINCT recording_id FROM "
                                               "transcript_speakers WHERE firm_id = ? AND "
                                               "voiceprint_id = ? AND origin = 'automatic'",
                                               {who.firm_id, voiceprint_id}));
      std::set<std::string> recordings;
      for (const auto& r : named) recordings.insert(r.Text("recording_id"));
      CRM_TRY(
          c.Exec("UPDATE transcript_speakers SET name = ?, updated_at = ? WHERE firm_id = ? "
                 "AND voiceprint_id = ? AND origin = 'automatic'",
                 {name, now, who.firm_id, voiceprint_id}));
      CRM_TRY(BumpTranscripts(c, who.firm_id, recordings));
    }
    json details = json::object();
    if (fields.name) details["name"] = name;
    if (fields.user_id) details["user_id"] = *fields.user_id;
    if (fields.contact_id) details["contact_id"] = *fields.contact_id;
    return AuditIn(c, who, "voiceprint.update", "voiceprint", voiceprint_id, details);
  }));
  return GetVoiceprint(store, who.firm_id, voiceprint_id);
}

Status DeleteVoiceprint(storage::Store& store, const Principal& who,
                        const std::string& voiceprint_id) {
  return store.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto row,
                         c.QueryOne(std::string("SELECT ") + kVoiceprintColumns +
                                        " FROM voiceprints v WHERE v.firm_id = ? AND v.id = ?",
                                    {who.firm_id, voiceprint_id}));
    if (!row) return VoiceprintNotFound();
    CRM_TRY(ForgetVoiceprintsIn(c, who.firm_id, "v.id = ?", {voiceprint_id}));
    CRM_TRY(c.Exec("DELETE FROM voiceprints WHERE firm_id = ? AND id = ?",
                   {who.firm_id, voiceprint_id}));
    return AuditIn(
        c, who, "voiceprint.delete", "voiceprint", voiceprint_id,
        {{"name", row->Text("name")}, {"cleared_automatic_names", row->Int("automatic_names")}});
  });
}

Status ForgetVoiceprintsIn(storage::Connection& c, const std::string& firm_id,
                           const std::string& where, const storage::Params& params) {
  storage::Params p = {firm_id};
  p.insert(p.end(), params.begin(), params.end());
  CRM_ASSIGN_OR_RETURN(
      auto rows, c.Query("SELECT v.id FROM voiceprints v WHERE v.firm_id = ? AND " + where, p));
  for (const auto& v : rows) {
    const std::string id = v.Text("id");
    CRM_ASSIGN_OR_RETURN(auto named, c.Query("SELECT DISTINCT recording_id FROM transcript_speakers "
                                             "WHERE firm_id = ? AND voiceprint_id = ? AND "
                                             "origin = 'automatic'",
                                             {firm_id, id}));
    std::set<std::string> recordings;
    for (const auto& r : named) recordings.insert(r.Text("recording_id"));
    CRM_TRY(BumpTranscripts(c, firm_id, recordings));
    CRM_TRY(c.Exec("DELETE FROM transcript_speakers WHERE firm_id = ? AND voiceprint_id = ? AND "
                   "origin = 'automatic'",
                   {firm_id, id}));
    CRM_TRY(c.Exec("UPDATE transcript_speakers SET voiceprint_id = NULL WHERE firm_id = ? AND "
                   "voiceprint_id = ?",
                   {firm_id, id}));
  }
  return OkStatus();
}

Result<Voiceprint> GetVoiceprint(storage::Store& store, const std::string& firm_id,
                                 const std::string& voiceprint_id) {
  CRM_ASSIGN_OR_RETURN(auto row,
                       store.QueryOne(std::string("SELECT ") + kVoiceprintColumns +
                                          " FROM voiceprints v WHERE v.firm_id = ? AND v.id = ?",
                                      {firm_id, voiceprint_id}));
  if (!row) return VoiceprintNotFound();
  Voiceprint v = FromRow(*row);
  CRM_ASSIGN_OR_RETURN(auto sources, store.Query("SELECT id, recording_id, label, ranges, "
                                                 "seconds_of_speech, created_at FROM "
                                                 "voiceprint_sources WHERE firm_id = ? AND "
                                                 "voiceprint_id = ? ORDER BY id",
                                                 {firm_id, voiceprint_id}));
  for (const auto& s : sources)
    v.sources.push_back({s.Text("id"), s.Text("recording_id"), s.Text("label"),
                         RangesFromJson(s.Text("ranges")), s.Real("seconds_of_speech"),
                         s.Text("created_at")});
  return v;
}

Result<std::pair<std::vector<Voiceprint>, std::optional<std::string>>> ListVoiceprints(
    storage::Store& store, const std::string& firm_id, int limit, const std::string& cursor) {
  limit = std::clamp(limit, 1, 200);
  CRM_ASSIGN_OR_RETURN(auto rows, store.Query(std::string("SELECT ") + kVoiceprintColumns +
                                                  " FROM voiceprints v WHERE v.firm_id = ? AND "
                                                  "v.id > ? ORDER BY v.id LIMIT ?",
                                              {firm_id, cursor, int64_t{limit} + 1}));
  std::vector<Voiceprint> out;
  std::optional<std::string> next;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (static_cast<int>(i) == limit) {
      next = out.back().id;
      break;
    }
    out.push_back(FromRow(rows[i]));
  }
  return std::make_pair(std::move(out), next);
}

}  // namespace crm::domain
