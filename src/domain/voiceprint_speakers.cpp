// Speakers of recordings: their stored voiceprints, automatic names from the firm's voiceprints,
// suggestions (voiceprints and meeting participants), similar speakers in the firm's other
// recordings, and a name applied to chosen ones. See voiceprints.h for the contract.
#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/text.h"
#include "domain/audit.h"
#include "domain/voiceprints.h"
#include "domain/voiceprints_internal.h"

namespace crm::domain {

using nlohmann::json;
using namespace voiceprints_internal;

namespace {

struct KnownVoice {
  std::string id, name, user_id, contact_id;
  std::vector<float> voiceprint;
};

template <class Db>
Result<std::vector<KnownVoice>> FirmVoiceprints(Db& db, const std::string& firm) {
  CRM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT id, name, user_id, contact_id, voiceprint FROM "
                                           "voiceprints WHERE firm_id = ? ORDER BY id",
                                           {firm}));
  std::vector<KnownVoice> out;
  for (const auto& r : rows) {
    auto v = diarization::ParseVoiceprint(r.Text("voiceprint"));
    if (!v.ok()) continue;  // another version: never matched, never misread
    out.push_back(
        {r.Text("id"), r.Text("name"), r.Text("user_id"), r.Text("contact_id"), std::move(*v)});
  }
  return out;
}

struct StoredVoice {
  std::vector<float> voiceprint;  // empty when unreadable
  double seconds = 0;
};

template <class Db>
Result<std::map<std::string, StoredVoice>> RecordingVoices(Db& db, const std::string& firm,
                                                           const std::string& recording) {
  CRM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT label, voiceprint, seconds_of_speech FROM "
                                           "recording_speakers WHERE firm_id = ? AND "
                                           "recording_id = ?",
                                           {firm, recording}));
  std::map<std::string, StoredVoice> out;
  for (const auto& r : rows) {
    auto v = diarization::ParseVoiceprint(r.Text("voiceprint"));
    out[r.Text("label")] = {v.ok() ? std::move(*v) : std::vector<float>{},
                            r.Real("seconds_of_speech")};
  }
  return out;
}

struct NameRow {
  std::string name, origin, voiceprint_id;
  std::optional<double> confidence;
};

template <class Db>
Result<std::map<std::string, NameRow>> SpeakerNames(Db& db, const std::string& firm,
                                                    const std::string& recording) {
  CRM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT label, name, origin, confidence, voiceprint_id "
                                           "FROM transcript_speakers WHERE firm_id = ? AND "
                                           "recording_id = ?",
                                           {firm, recording}));
  std::map<std::string, NameRow> out;
  for (const auto& r : rows)
    out[r.Text("label")] = {
        r.Text("name"), r.Text("origin"), r.Text("voiceprint_id"),
        r.IsNull("confidence") ? std::nullopt : std::optional<double>(r.Real("confidence"))};
  return out;
}

// Labels of the recording: the transcript's in order of first appearance, then the diarized
// speakers the transcript does not show.
template <class Db>
Result<std::vector<std::string>> Labels(Db& db, const std::string& firm,
                                        const std::string& recording) {
  CRM_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT speaker FROM transcript_segments WHERE firm_id "
                                           "= ? AND recording_id = ? AND speaker != '' GROUP BY "
                                           "speaker ORDER BY MIN(position)",
                                           {firm, recording}));
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& r : rows)
    if (seen.insert(r.Text("speaker")).second) out.push_back(r.Text("speaker"));
  CRM_ASSIGN_OR_RETURN(auto voices, db.Query("SELECT label FROM recording_speakers WHERE firm_id "
                                             "= ? AND recording_id = ? ORDER BY label",
                                             {firm, recording}));
  for (const auto& r : voices)
    if (seen.insert(r.Text("label")).second) out.push_back(r.Text("label"));
  return out;
}

template <class Db>
Result<bool> RecordingExists(Db& db, const std::string& firm, const std::string& recording) {
  CRM_ASSIGN_OR_RETURN(auto row, db.QueryOne("SELECT id FROM recordings WHERE firm_id = ? AND "
                                             "id = ?",
                                             {firm, recording}));
  return row.has_value();
}

// The meeting's participants as people: firm users and client contacts resolved in the firm
// (ids of another firm are ignored), guests by name.
Result<std::vector<ParticipantSuggestion>> Participants(storage::Store& store,
                                                        const std::string& firm,
                                                        const std::string& participants_json) {
  std::vector<ParticipantSuggestion> out;
  json list = json::parse(participants_json, nullptr, false);
  if (!list.is_array()) return out;
  for (const auto& p : list) {
    auto text = [&](const char* k) {
      return p.is_object() && p.contains(k) && p[k].is_string() ? p[k].get<std::string>() : "";
    };
    ParticipantSuggestion s;
    if (std::string id = text("user_id"); !id.empty()) {
      CRM_ASSIGN_OR_RETURN(auto u, store.QueryOne("SELECT name, email FROM users WHERE firm_id = "
                                                  "? AND id = ?",
                                                  {firm, id}));
      if (!u) continue;
      s = {"user", id, u->Text("name").empty() ? u->Text("email") : u->Text("name"),
           u->Text("email")};
    } else if (std::string cid = text("contact_id"); !cid.empty()) {
      CRM_ASSIGN_OR_RETURN(auto ct, store.QueryOne("SELECT name, email FROM contacts WHERE "
                                                   "firm_id = ? AND id = ?",
                                                   {firm, cid}));
      if (!ct) continue;
      s = {"contact", cid, ct->Text("name"), ct->Text("email")};
    } else if (p.is_string()) {
      s = {"guest", "", p.get<std::string>(), ""};
    } else {
      s = {"guest", "", text("name"), text("email")};
    }
    s.name = Trim(s.name);
    if (!s.name.empty() && IsValidUtf8(s.name)) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Status StoreRecordingSpeakers(storage::Connection& c, const std::string& firm_id,
                              const std::string& recording_id,
                              const std::vector<SpeakerVoice>& speakers) {
  CRM_ASSIGN_OR_RETURN(bool exists, RecordingExists(c, firm_id, recording_id));
  if (!exists) return RecordingNotFound();
  CRM_TRY(c.Exec("DELETE FROM recording_speakers WHERE firm_id = ? AND recording_id = ?",
                 {firm_id, recording_id}));
  std::string now = NowIsoUtc();
  for (const auto& s : speakers) {
    if (s.voiceprint.empty() || s.label.empty()) continue;
    CRM_TRY(
        c.Exec("INSERT INTO recording_speakers (recording_id, label, firm_id, voiceprint, "
               "seconds_of_speech, created_at) VALUES (?, ?, ?, ?, ?, ?)",
               {recording_id, s.label, firm_id, diarization::SerializeVoiceprint(s.voiceprint),
                std::max(0.0, s.seconds_of_speech), now}));
  }
  return OkStatus();
}

Result<std::vector<AutomaticName>> NameKnownSpeakers(storage::Connection& c,
                                                     const std::string& firm_id,
                                                     const std::string& recording_id,
                                                     const VoiceprintOptions& options) {
  CRM_ASSIGN_OR_RETURN(bool exists, RecordingExists(c, firm_id, recording_id));
  if (!exists) return RecordingNotFound();
  CRM_ASSIGN_OR_RETURN(auto voices, RecordingVoices(c, firm_id, recording_id));
  CRM_ASSIGN_OR_RETURN(auto names, SpeakerNames(c, firm_id, recording_id));
  CRM_ASSIGN_OR_RETURN(auto known, FirmVoiceprints(c, firm_id));

  // Confirmed names stay, and the people they name are not looked for elsewhere in the recording.
  std::set<std::string> confirmed_labels, confirmed_names, confirmed_voiceprints;
  std::map<std::string, std::pair<std::string, std::string>> before;  // automatic, label → name/id
  for (const auto& [label, n] : names) {
    if (n.origin == "automatic") {
      before[label] = {n.name, n.voiceprint_id};
      continue;
    }
    confirmed_labels.insert(label);
    confirmed_names.insert(FoldForSearch(n.name));
    if (!n.voiceprint_id.empty()) confirmed_voiceprints.insert(n.voiceprint_id);
  }
  std::vector<std::string> labels;
  std::vector<std::vector<float>> speakers;
  for (const auto& [label, v] : voices) {
    if (v.voiceprint.empty() || v.seconds < options.min_match_seconds) continue;
    if (confirmed_labels.contains(label)) continue;
    labels.push_back(label);
    speakers.push_back(v.voiceprint);
  }
  std::vector<diarization::KnownSpeaker> candidates;
  std::map<std::string, const KnownVoice*> by_id;
  for (const auto& k : known) {
    if (confirmed_voiceprints.contains(k.id) || confirmed_names.contains(FoldForSearch(k.name)))
      continue;
    candidates.push_back({k.id, k.voiceprint});
    by_id[k.id] = &k;
  }
  auto matches = diarization::MatchSpeakers(speakers, candidates, {options.threshold});

  std::vector<AutomaticName> out;
  std::map<std::string, std::pair<std::string, std::string>> after;
  for (const auto& m : matches) {
    const KnownVoice* k = by_id[m.id];
    out.push_back({labels[m.speaker], k->name, k->id, m.confidence});
    after[labels[m.speaker]] = {k->name, k->id};
  }
  std::string now = NowIsoUtc();
  CRM_TRY(
      c.Exec("DELETE FROM transcript_speakers WHERE firm_id = ? AND recording_id = ? AND "
             "origin = 'automatic'",
             {firm_id, recording_id}));
  for (const auto& a : out)
    CRM_TRY(
        c.Exec("INSERT INTO transcript_speakers (recording_id, label, firm_id, name, "
               "updated_at, origin, confidence, voiceprint_id) VALUES (?, ?, ?, ?, ?, "
               "'automatic', ?, ?)",
               {recording_id, a.label, firm_id, a.name, now, a.confidence, a.voiceprint_id}));
  if (before != after) CRM_TRY(BumpTranscripts(c, firm_id, {recording_id}));
  return out;
}

Result<RecordingSpeakers> ListRecordingSpeakers(storage::Store& store, const std::string& firm_id,
                                                const std::string& recording_id,
                                                const VoiceprintOptions& options) {
  CRM_ASSIGN_OR_RETURN(auto rec, store.QueryOne("SELECT r.id, m.participants FROM recordings r "
                                                "LEFT JOIN meetings m ON m.id = r.meeting_id AND "
                                                "m.firm_id = r.firm_id WHERE r.firm_id = ? AND "
                                                "r.id = ?",
                                                {firm_id, recording_id}));
  if (!rec) return RecordingNotFound();
  RecordingSpeakers out;
  out.recording_id = recording_id;
  CRM_ASSIGN_OR_RETURN(auto head, store.QueryOne("SELECT version FROM transcripts WHERE firm_id = "
                                                 "? AND recording_id = ?",
                                                 {firm_id, recording_id}));
  if (head) out.version = head->Int("version");
  CRM_ASSIGN_OR_RETURN(auto labels, Labels(store, firm_id, recording_id));
  CRM_ASSIGN_OR_RETURN(auto voices, RecordingVoices(store, firm_id, recording_id));
  CRM_ASSIGN_OR_RETURN(auto names, SpeakerNames(store, firm_id, recording_id));
  CRM_ASSIGN_OR_RETURN(auto known, FirmVoiceprints(store, firm_id));
  CRM_ASSIGN_OR_RETURN(auto people, Participants(store, firm_id, rec->Text("participants")));

  // A participant is assigned once a speaker of this recording bears their name, or a name that
  // came from their voiceprint.
  std::set<std::string> assigned_names, assigned_people;
  std::map<std::string, const KnownVoice*> by_id;
  for (const auto& k : known) by_id[k.id] = &k;
  for (const auto& [label, n] : names) {
    assigned_names.insert(FoldForSearch(n.name));
    if (auto it = by_id.find(n.voiceprint_id); it != by_id.end()) {
      if (!it->second->user_id.empty()) assigned_people.insert("user:" + it->second->user_id);
      if (!it->second->contact_id.empty())
        assigned_people.insert("contact:" + it->second->contact_id);
    }
  }
  std::vector<ParticipantSuggestion> remaining;
  for (const auto& p : people)
    if (!assigned_names.contains(FoldForSearch(p.name)) &&
        !assigned_people.contains(p.kind + ":" + p.id))
      remaining.push_back(p);

  for (const auto& label : labels) {
    RecordingSpeaker s;
    s.label = label;
    if (auto it = names.find(label); it != names.end()) {
      s.name = it->second.name;
      s.origin = it->second.origin;
      if (s.origin == "automatic") {
        s.confidence = it->second.confidence;
        s.voiceprint_id = it->second.voiceprint_id;
      }
    }
    auto voice = voices.find(label);
    if (voice != voices.end()) {
      s.has_voiceprint = !voice->second.voiceprint.empty();
      s.seconds_of_speech = voice->second.seconds;
    }
    if (s.origin != "confirmed") {
      if (s.has_voiceprint) {
        for (const auto& k : known) {
          double conf = diarization::VoiceprintConfidence(voice->second.voiceprint, k.voiceprint);
          if (conf >= options.suggestion_threshold)
            s.voiceprints.push_back({k.id, k.name, k.user_id, k.contact_id, conf});
        }
        std::sort(s.voiceprints.begin(), s.voiceprints.end(),
                  [](const auto& a, const auto& b) { return a.confidence > b.confidence; });
        if (s.voiceprints.size() > options.max_suggestions)
          s.voiceprints.resize(options.max_suggestions);
      }
      s.participants = remaining;
    }
    out.speakers.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<SimilarSpeaker>> FindSimilarSpeakers(storage::Store& store,
                                                        const std::string& firm_id,
                                                        const std::string& recording_id,
                                                        const std::string& label, size_t limit,
                                                        std::optional<double> min_confidence,
                                                        const VoiceprintOptions& options) {
  CRM_ASSIGN_OR_RETURN(bool exists, RecordingExists(store, firm_id, recording_id));
  if (!exists) return RecordingNotFound();
  CRM_ASSIGN_OR_RETURN(auto voices, RecordingVoices(store, firm_id, recording_id));
  auto self = voices.find(label);
  if (self == voices.end() || self->second.voiceprint.empty())
    return NotFound(
        "Cet intervenant n'a pas d'empreinte vocale dans cet enregistrement (diarisation non "
        "faite ou intervenant inconnu). / This speaker has no voiceprint in this recording.");
  const double floor = min_confidence.value_or(options.suggestion_threshold);
  std::vector<SimilarSpeaker> out;
  CRM_ASSIGN_OR_RETURN(
      auto rows,
      store.Query("SELECT rs.recording_id, rs.label, rs.voiceprint, r.title, r.created_at, "
                  "m.starts_at, c.id AS client_id, c.name AS client_name, ts.name AS name, "
                  "ts.origin AS origin FROM recording_speakers rs "
                  "JOIN recordings r ON r.id = rs.recording_id AND r.firm_id = rs.firm_id "
                  "JOIN clients c ON c.id = r.client_id AND c.firm_id = r.firm_id "
                  "LEFT JOIN meetings m ON m.id = r.meeting_id AND m.firm_id = r.firm_id "
                  "LEFT JOIN transcript_speakers ts ON ts.recording_id = rs.recording_id AND "
                  "ts.label = rs.label AND ts.firm_id = rs.firm_id "
                  "WHERE rs.firm_id = ? AND rs.recording_id != ?",
                  {firm_id, recording_id}));
  for (const auto& r : rows) {
    auto v = diarization::ParseVoiceprint(r.Text("voiceprint"));
    if (!v.ok()) continue;
    double conf = diarization::VoiceprintConfidence(self->second.voiceprint, *v);
    if (conf < floor) continue;
    out.push_back({r.Text("recording_id"), r.Text("title"),
                   r.IsNull("starts_at") ? r.Text("created_at") : r.Text("starts_at"),
                   r.Text("client_id"), r.Text("client_name"), r.Text("label"), r.Text("name"),
                   r.Text("origin"), conf});
  }
  std::sort(out.begin(), out.end(), [](const SimilarSpeaker& a, const SimilarSpeaker& b) {
    if (a.confidence != b.confidence) return a.confidence > b.confidence;
    return a.recorded_at > b.recorded_at;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<std::vector<ApplyTarget>> ApplySpeakerName(storage::Store& store, const Principal& who,
                                                  const std::string& recording_id,
                                                  const std::string& label, const std::string& name,
                                                  const std::vector<ApplyTarget>& targets,
                                                  const VoiceprintOptions& options) {
  const std::string& firm = who.firm_id;
  CRM_ASSIGN_OR_RETURN(bool exists, RecordingExists(store, firm, recording_id));
  if (!exists) return RecordingNotFound();
  for (const auto& t : targets) {
    CRM_ASSIGN_OR_RETURN(bool mine, RecordingExists(store, firm, t.recording_id));
    if (!mine) return RecordingNotFound();
  }
  json problems = json::object();
  if (targets.empty()) problems["targets"] = "required";
  if (targets.size() > options.max_apply_targets) problems["targets"] = "too_many";
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < targets.size() && problems.empty(); ++i)
    if (targets[i].label.empty() ||
        !seen.insert({targets[i].recording_id, targets[i].label}).second)
      problems["targets[" + std::to_string(i) + "]"] =
          targets[i].label.empty() ? "label_required" : "duplicate";
  if (!name.empty())
    if (const char* p = NameProblem(name)) problems["name"] = p;
  if (!problems.empty()) return Invalid(problems);

  std::vector<ApplyTarget> out = targets;
  std::string applied;
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    applied = Trim(name);
    if (applied.empty()) {
      CRM_ASSIGN_OR_RETURN(auto names, SpeakerNames(c, firm, recording_id));
      if (auto it = names.find(label); it != names.end()) applied = it->second.name;
      if (applied.empty())
        return InvalidArgument(
            "Nommez d'abord cet intervenant (ou donnez le nom à appliquer). / Name this speaker "
            "first, or give the name to apply.",
            {{"name", "required"}});
    }
    json bad = json::object(), stale = json::object();
    std::map<std::string, int64_t> versions;
    for (size_t i = 0; i < targets.size(); ++i) {
      const ApplyTarget& t = targets[i];
      std::string key = "targets[" + std::to_string(i) + "]";
      CRM_ASSIGN_OR_RETURN(auto labels, Labels(c, firm, t.recording_id));
      if (std::find(labels.begin(), labels.end(), t.label) == labels.end()) {
        bad[key] = "unknown_speaker";
        continue;
      }
      if (!versions.contains(t.recording_id)) {
        CRM_ASSIGN_OR_RETURN(auto head, c.QueryOne("SELECT version FROM transcripts WHERE "
                                                   "firm_id = ? AND recording_id = ?",
                                                   {firm, t.recording_id}));
        versions[t.recording_id] = head ? head->Int("version") : 0;
      }
      if (t.version && *t.version != versions[t.recording_id])
        stale[key] = {{"current_version", versions[t.recording_id]}};
    }
    if (!bad.empty()) return Invalid(bad);
    if (!stale.empty())
      return Error(ErrorCode::kConflict,
                   "Des transcriptions ont été modifiées entre-temps : rechargez-les, rien n'a été "
                   "appliqué. / Some transcripts were changed by someone else; nothing was "
                   "applied.",
                   stale);
    std::string now = NowIsoUtc();
    std::set<std::string> recordings;
    json list = json::array();
    for (const auto& t : targets) {
      CRM_TRY(
          c.Exec("DELETE FROM transcript_speakers WHERE firm_id = ? AND recording_id = ? AND "
                 "label = ?",
                 {firm, t.recording_id, t.label}));
      CRM_TRY(
          c.Exec("INSERT INTO transcript_speakers (recording_id, label, firm_id, name, "
                 "updated_at, origin) VALUES (?, ?, ?, ?, ?, 'confirmed')",
                 {t.recording_id, t.label, firm, applied, now}));
      recordings.insert(t.recording_id);
      list.push_back({{"recording_id", t.recording_id}, {"label", t.label}});
    }
    CRM_TRY(BumpTranscripts(c, firm, recordings));
    for (auto& t : out) {
      CRM_ASSIGN_OR_RETURN(auto head, c.QueryOne("SELECT version FROM transcripts WHERE firm_id "
                                                 "= ? AND recording_id = ?",
                                                 {firm, t.recording_id}));
      t.version = head ? std::optional<int64_t>(head->Int("version")) : std::nullopt;
    }
    return AuditIn(c, who, "speakers.apply", "recording", recording_id,
                   {{"label", label}, {"name", applied}, {"targets", list}});
  }));
  return out;
}

}  // namespace crm::domain
