// Speakers known to the firm: voiceprints (enrol, list, read, rename/link, add sources, delete)
// and the speakers of a recording (names with their origin and confidence, suggestions, similar
// speakers in the firm's other recordings, a name applied to chosen ones).
//
// Roles: members read and confirm names (apply); enrolling, changing and deleting voiceprints —
// biometric personal data — needs an admin or the owner. Vectors never appear in a response:
// voiceprints are described by their name, links, sources and seconds of speech only. Firm
// scoping comes from the principal; a foreign id anywhere (path, sources, targets, links) is 404
// before the body is judged.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>

#include "api/app.h"
#include "blobs/blob_store.h"
#include "common/log.h"
#include "domain/voiceprints.h"
#include "pipeline/speaker_matching.h"

namespace crm::api {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

Response Fail(const Error& e) { return Response::FromError(e); }

json Nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json RangesJson(const std::vector<diarization::TimeRange>& ranges) {
  json out = json::array();
  for (const auto& r : ranges) out.push_back({{"start", r.start}, {"end", r.end}});
  return out;
}

json VoiceprintJson(const domain::Voiceprint& v, bool with_sources) {
  json j = {{"id", v.id},
            {"name", v.name},
            {"user_id", Nullable(v.user_id)},
            {"contact_id", Nullable(v.contact_id)},
            {"seconds_of_speech", std::round(v.seconds_of_speech * 100) / 100},
            {"source_count", v.source_count},
            {"automatic_names", v.automatic_names},
            {"created_by", Nullable(v.created_by)},
            {"created_at", v.created_at},
            {"updated_at", v.updated_at},
            {"version", v.version}};
  if (with_sources) {
    json sources = json::array();
    for (const auto& s : v.sources)
      sources.push_back({{"id", s.id},
                         {"recording_id", Nullable(s.recording_id)},
                         {"label", Nullable(s.label)},
                         {"ranges", RangesJson(s.ranges)},
                         {"seconds_of_speech", std::round(s.seconds_of_speech * 100) / 100},
                         {"created_at", s.created_at}});
    j["sources"] = sources;
  }
  return j;
}

Response Invalid(const json& problems) {
  std::string names;
  for (auto& [k, _] : problems.items()) names += (names.empty() ? "" : ", ") + k;
  return Fail(InvalidArgument("Champs invalides : " + names + ". / Invalid fields: " + names + ".",
                              problems));
}

void UnknownFields(const json& body, std::initializer_list<const char*> allowed, json& problems) {
  for (auto& [k, _] : body.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) problems[k] = "unknown_field";
  }
}

std::optional<int64_t> ExpectedVersion(const Request& req, const json& body) {
  if (auto v = IfMatchVersion(req)) return v;
  if (body.contains("version") && body["version"].is_number_integer())
    return body["version"].get<int64_t>();
  return std::nullopt;
}

// One range: [start, end] or {"start", "end"}.
std::optional<diarization::TimeRange> ParseRange(const json& r) {
  if (r.is_array() && r.size() == 2 && r[0].is_number() && r[1].is_number())
    return diarization::TimeRange{r[0].get<double>(), r[1].get<double>()};
  if (r.is_object() && r.size() == 2 && r.contains("start") && r.contains("end") &&
      r["start"].is_number() && r["end"].is_number())
    return diarization::TimeRange{r["start"].get<double>(), r["end"].get<double>()};
  return std::nullopt;
}

// "sources": [{recording_id, label} | {recording_id, start, end} | {recording_id, ranges}].
// Entries the domain can judge (wrong mix of fields, bad ranges) are passed on for it to name;
// entries of the wrong JSON shape are problems here. Recording ids read are collected so that a
// foreign one answers 404 first.
std::vector<domain::SourceRequest> ParseSources(const json& body, json& problems,
                                                std::vector<std::string>& recording_ids) {
  std::vector<domain::SourceRequest> out;
  if (!body.contains("sources")) return out;  // the domain says "required"
  const json& list = body["sources"];
  if (!list.is_array()) {
    problems["sources"] = "must_be_array";
    return out;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const json& s = list[i];
    std::string key = "sources[" + std::to_string(i) + "]";
    domain::SourceRequest r;
    if (!s.is_object()) {
      problems[key] = "must_be_object";
      out.push_back(r);
      continue;
    }
    bool shape_ok = true;
    for (auto& [k, v] : s.items()) {
      if ((k == "recording_id" || k == "label") && v.is_string()) continue;
      if ((k == "start" || k == "end") && v.is_number()) continue;
      if (k == "ranges" && v.is_array()) continue;
      shape_ok = false;
    }
    if (s.contains("recording_id") && s["recording_id"].is_string()) {
      r.recording_id = s["recording_id"].get<std::string>();
      recording_ids.push_back(r.recording_id);
    }
    if (!shape_ok) {
      problems[key] = "invalid";
      out.push_back(r);
      continue;
    }
    if (s.contains("label")) r.label = s["label"].get<std::string>();
    if (s.contains("start") || s.contains("end")) {
      // A lone start or end is a range that ends before it starts: invalid_range.
      r.ranges.push_back({s.value("start", 0.0), s.value("end", -1.0)});
    }
    if (s.contains("ranges")) {
      for (const auto& range : s["ranges"]) {
        auto parsed = ParseRange(range);
        r.ranges.push_back(parsed.value_or(diarization::TimeRange{0, -1}));
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

// Optional string-or-null link fields and the name.
domain::VoiceprintFields ParseFields(const json& body, json& problems) {
  domain::VoiceprintFields f;
  if (body.contains("name")) {
    if (body["name"].is_string())
      f.name = body["name"].get<std::string>();
    else
      problems["name"] = "must_be_string";
  }
  for (const char* k : {"user_id", "contact_id"}) {
    if (!body.contains(k)) continue;
    std::optional<std::string>& field = std::string(k) == "user_id" ? f.user_id : f.contact_id;
    if (body[k].is_null())
      field = "";
    else if (body[k].is_string() && !body[k].get<std::string>().empty())
      field = body[k].get<std::string>();
    else
      problems[k] = "must_be_id_or_null";
  }
  return f;
}

// Time-range sources decode each recording once per request (the voiceprint's reference is the
// whole recording); label sources never touch the audio.
domain::RangeVoiceprintFn RangeFunction(App& app, blobs::BlobStore* blobs, const std::string& firm,
                                        double min_seconds) {
  auto decoded =
      std::make_shared<std::map<std::string, std::unique_ptr<diarization::VoiceprintBuilder>>>();
  return [&app, blobs, firm, min_seconds, decoded](
             const std::string& recording, const std::vector<diarization::TimeRange>& ranges)
             -> Result<diarization::WeightedVoiceprint> {
    if (!blobs)
      return Error(ErrorCode::kUnavailable,
                   "Les fichiers audio ne sont pas lisibles : vérifiez DATA_DIR. / Recording "
                   "files are not readable; check DATA_DIR.");
    auto& builder = (*decoded)[recording];
    if (!builder) {
      CRM_ASSIGN_OR_RETURN(builder,
                           pipeline::DecodeForVoiceprints(*app.store, *blobs, firm, recording));
    }
    double seconds = 0;
    CRM_ASSIGN_OR_RETURN(auto v, builder->Finish(ranges, min_seconds, &seconds));
    return diarization::WeightedVoiceprint{std::move(v), seconds};
  };
}

Response Enrol(App& app, blobs::BlobStore* blobs, Request& req) {
  auto body = req.JsonBody();
  if (!body.ok()) return Fail(body.error());
  if (!body->is_object()) return Invalid({{"body", "must_be_object"}});
  json problems = json::object();
  UnknownFields(*body, {"name", "user_id", "contact_id", "sources"}, problems);
  std::vector<std::string> ids;
  auto sources = ParseSources(*body, problems, ids);
  auto fields = ParseFields(*body, problems);
  if (auto st = domain::CheckRecordingsInFirm(*app.store, req.principal.firm_id, ids); !st.ok())
    return Fail(st.error());
  if (!problems.empty()) return Invalid(problems);
  domain::VoiceprintOptions options;
  auto v = domain::EnrolVoiceprint(
      *app.store, req.principal, fields, sources,
      RangeFunction(app, blobs, req.principal.firm_id, options.min_source_seconds), options);
  if (!v.ok()) return Fail(v.error());
  return Created(VoiceprintJson(*v, true)).Header("Location", "/api/voiceprints/" + v->id);
}

Response AddSources(App& app, blobs::BlobStore* blobs, Request& req) {
  const std::string& firm = req.principal.firm_id;
  auto existing = domain::GetVoiceprint(*app.store, firm, req.Param("id"));
  if (!existing.ok()) return Fail(existing.error());
  auto body = req.JsonBody();
  if (!body.ok()) return Fail(body.error());
  if (!body->is_object()) return Invalid({{"body", "must_be_object"}});
  json problems = json::object();
  UnknownFields(*body, {"sources", "version"}, problems);
  if (body->contains("version") && !(*body)["version"].is_number_integer())
    problems["version"] = "must_be_integer";
  std::vector<std::string> ids;
  auto sources = ParseSources(*body, problems, ids);
  if (auto st = domain::CheckRecordingsInFirm(*app.store, firm, ids); !st.ok())
    return Fail(st.error());
  if (!problems.empty()) return Invalid(problems);
  domain::VoiceprintOptions options;
  auto v = domain::AddVoiceprintSources(*app.store, req.principal, req.Param("id"), sources,
                                        RangeFunction(app, blobs, firm, options.min_source_seconds),
                                        ExpectedVersion(req, *body), options);
  if (!v.ok()) return Fail(v.error());
  return Ok(VoiceprintJson(*v, true));
}

Response Update(App& app, Request& req) {
  auto existing = domain::GetVoiceprint(*app.store, req.principal.firm_id, req.Param("id"));
  if (!existing.ok()) return Fail(existing.error());
  auto body = req.JsonBody();
  if (!body.ok()) return Fail(body.error());
  if (!body->is_object()) return Invalid({{"body", "must_be_object"}});
  json problems = json::object();
  UnknownFields(*body, {"name", "user_id", "contact_id", "version"}, problems);
  if (body->contains("version") && !(*body)["version"].is_number_integer())
    problems["version"] = "must_be_integer";
  auto fields = ParseFields(*body, problems);
  if (problems.empty() && !fields.name && !fields.user_id && !fields.contact_id)
    problems["name"] = "required";
  if (!problems.empty()) return Invalid(problems);
  auto v = domain::UpdateVoiceprint(*app.store, req.principal, req.Param("id"), fields,
                                    ExpectedVersion(req, *body));
  if (!v.ok()) return Fail(v.error());
  return Ok(VoiceprintJson(*v, true));
}

json SpeakersJson(const domain::RecordingSpeakers& rs) {
  json speakers = json::array();
  for (const auto& s : rs.speakers) {
    json voiceprints = json::array(), participants = json::array();
    for (const auto& v : s.voiceprints)
      voiceprints.push_back({{"voiceprint_id", v.voiceprint_id},
                             {"name", v.name},
                             {"user_id", Nullable(v.user_id)},
                             {"contact_id", Nullable(v.contact_id)},
                             {"confidence", std::round(v.confidence * 1000) / 1000}});
    for (const auto& p : s.participants)
      participants.push_back({{"kind", p.kind},
                              {"id", Nullable(p.id)},
                              {"name", p.name},
                              {"email", Nullable(p.email)}});
    speakers.push_back(
        {{"label", s.label},
         {"name", Nullable(s.name)},
         {"origin", Nullable(s.origin)},
         {"confidence",
          s.confidence ? json(std::round(*s.confidence * 1000) / 1000) : json(nullptr)},
         {"voiceprint_id", Nullable(s.voiceprint_id)},
         {"has_voiceprint", s.has_voiceprint},
         {"seconds_of_speech", std::round(s.seconds_of_speech * 100) / 100},
         {"suggestions", {{"voiceprints", voiceprints}, {"participants", participants}}}});
  }
  return {{"recording_id", rs.recording_id},
          {"version", rs.version ? json(*rs.version) : json(nullptr)},
          {"speakers", speakers}};
}

Response Similar(App& app, Request& req) {
  std::optional<double> min_confidence;
  json problems = json::object();
  if (auto m = req.Query("min_confidence")) {
    char* end = nullptr;
    double v = std::strtod(m->c_str(), &end);
    if (m->empty() || *end != '\0' || !(v >= 0 && v <= 1)) {
      problems["min_confidence"] = "must_be_between_0_and_1";
    } else {
      min_confidence = v;
    }
  }
  auto limit = PageLimit(req);
  if (!limit.ok()) problems.update(limit.error().details);
  if (!problems.empty()) {
    // Checked after the firm: a foreign recording is 404 whatever the query says.
    auto exists =
        domain::CheckRecordingsInFirm(*app.store, req.principal.firm_id, {req.Param("id")});
    if (!exists.ok()) return Fail(exists.error());
    return Invalid(problems);
  }
  auto r =
      domain::FindSimilarSpeakers(*app.store, req.principal.firm_id, req.Param("id"),
                                  req.Param("label"), static_cast<size_t>(*limit), min_confidence);
  if (!r.ok()) return Fail(r.error());
  std::vector<json> data;
  for (const auto& s : *r)
    data.push_back({{"recording_id", s.recording_id},
                    {"recording_title", s.recording_title},
                    {"recorded_at", s.recorded_at},
                    {"client_id", s.client_id},
                    {"client_name", s.client_name},
                    {"label", s.label},
                    {"name", Nullable(s.name)},
                    {"origin", Nullable(s.origin)},
                    {"confidence", std::round(s.confidence * 1000) / 1000}});
  return Page(data, std::nullopt);
}

Response Apply(App& app, Request& req) {
  const std::string& firm = req.principal.firm_id;
  if (auto st = domain::CheckRecordingsInFirm(*app.store, firm, {req.Param("id")}); !st.ok())
    return Fail(st.error());
  auto body = req.JsonBody();
  if (!body.ok()) return Fail(body.error());
  if (!body->is_object()) return Invalid({{"body", "must_be_object"}});
  json problems = json::object();
  UnknownFields(*body, {"name", "targets"}, problems);
  std::string name;
  if (body->contains("name")) {
    if ((*body)["name"].is_string())
      name = (*body)["name"].get<std::string>();
    else if (!(*body)["name"].is_null())
      problems["name"] = "must_be_string";
  }
  std::vector<domain::ApplyTarget> targets;
  std::vector<std::string> ids;
  if (body->contains("targets") && !(*body)["targets"].is_array()) {
    problems["targets"] = "must_be_array";
  } else if (body->contains("targets")) {
    const json& list = (*body)["targets"];
    for (size_t i = 0; i < list.size(); ++i) {
      const json& t = list[i];
      domain::ApplyTarget target;
      bool ok = t.is_object() && t.contains("recording_id") && t["recording_id"].is_string() &&
                t.contains("label") && t["label"].is_string();
      if (ok)
        for (auto& [k, v] : t.items())
          ok = ok &&
               (k == "recording_id" || k == "label" || (k == "version" && v.is_number_integer()));
      if (t.is_object() && t.contains("recording_id") && t["recording_id"].is_string())
        ids.push_back(t["recording_id"].get<std::string>());
      if (!ok) {
        problems["targets[" + std::to_string(i) + "]"] = "invalid";
        continue;
      }
      target.recording_id = t["recording_id"].get<std::string>();
      target.label = t["label"].get<std::string>();
      if (t.contains("version")) target.version = t["version"].get<int64_t>();
      targets.push_back(std::move(target));
    }
  }
  if (auto st = domain::CheckRecordingsInFirm(*app.store, firm, ids); !st.ok())
    return Fail(st.error());
  if (!problems.empty()) return Invalid(problems);
  auto r = domain::ApplySpeakerName(*app.store, req.principal, req.Param("id"), req.Param("label"),
                                    name, targets);
  if (!r.ok()) return Fail(r.error());
  json applied = json::array();
  for (const auto& t : *r)
    applied.push_back({{"recording_id", t.recording_id},
                       {"label", t.label},
                       {"version", t.version ? json(*t.version) : json(nullptr)}});
  return Ok({{"applied", applied}});
}

json ObjectSchema(json properties, std::vector<std::string> required = {}) {
  json s = {{"type", "object"}, {"additionalProperties", false}, {"properties", properties}};
  if (!required.empty()) s["required"] = required;
  return s;
}

json SourcesSchema() {
  json range = {
      {"type", "array"}, {"items", {{"type", "number"}}}, {"minItems", 2}, {"maxItems", 2}};
  return {{"type", "array"},
          {"minItems", 1},
          {"maxItems", 20},
          {"items", ObjectSchema({{"recording_id", {{"type", "string"}}},
                                  {"label", {{"type", "string"}}},
                                  {"start", {{"type", "number"}}},
                                  {"end", {{"type", "number"}}},
                                  {"ranges", {{"type", "array"}, {"items", range}}}},
                                 {"recording_id"})}};
}

}  // namespace

void RegisterVoiceprintRoutes(http::Router& r, App& app) {
  // The blob store holding recordings, for time-range sources (label sources do without it).
  std::shared_ptr<blobs::BlobStore> blobs;
  if (auto opened = blobs::OpenLocalBlobStore(app.config.data_dir); opened.ok())
    blobs = std::move(*opened);
  else
    log::Warn("voiceprints: recording files not readable", {{"error", opened.error().message}});
  blobs::BlobStore* b = blobs.get();
  json nullable_id = {{"type", json::array({"string", "null"})}};
  json name = {{"type", "string"}, {"minLength", 1}, {"maxLength", 100}};

  r.Add("GET", "/api/voiceprints",
        [&app](Request& req) {
          auto limit = PageLimit(req);
          if (!limit.ok()) return Fail(limit.error());
          auto cursor = PageCursor(req);
          if (!cursor.ok()) return Fail(cursor.error());
          auto page = domain::ListVoiceprints(*app.store, req.principal.firm_id, *limit, *cursor);
          if (!page.ok()) return Fail(page.error());
          std::vector<json> data;
          for (const auto& v : page->first) data.push_back(VoiceprintJson(v, false));
          return Page(data, page->second);
        },
        {.summary = "Lister les empreintes vocales du cabinet (nom, lien, secondes de parole ; "
                    "jamais le vecteur)",
         .tag = "voiceprints",
         .doc = {{"x-list", {"limit", "cursor"}}}});

  r.Add("POST", "/api/voiceprints", [&app, blobs, b](Request& req) { return Enrol(app, b, req); },
        {.min_role = "admin",
         .max_body = 64 * 1024,
         .summary = "Enregistrer l'empreinte vocale d'une personne connue à partir d'intervenants "
                    "identifiés ({recording_id, label}) ou de passages ({recording_id, start, "
                    "end}) d'enregistrements du cabinet ; au moins 4 s de parole (422 sinon). "
                    "Audité",
         .tag = "voiceprints",
         .doc = JsonBodyDoc(ObjectSchema({{"name", name},
                                          {"user_id", nullable_id},
                                          {"contact_id", nullable_id},
                                          {"sources", SourcesSchema()}},
                                         {"name", "sources"}))});

  r.Add("GET", "/api/voiceprints/{id}",
        [&app](Request& req) {
          auto v = domain::GetVoiceprint(*app.store, req.principal.firm_id, req.Param("id"));
          return v.ok() ? Ok(VoiceprintJson(*v, true)) : Fail(v.error());
        },
        {.summary = "Lire une empreinte vocale et ses sources (sans le vecteur)",
         .tag = "voiceprints"});

  r.Add("PATCH", "/api/voiceprints/{id}", [&app](Request& req) { return Update(app, req); },
        {.min_role = "admin",
         .max_body = 16 * 1024,
         .summary = "Renommer une empreinte vocale ou la lier à un utilisateur ou un contact "
                    "(null pour délier) ; les noms automatiques suivent. version ou If-Match : "
                    "409 si périmé",
         .tag = "voiceprints",
         .doc = JsonBodyDoc(ObjectSchema({{"name", name},
                                          {"user_id", nullable_id},
                                          {"contact_id", nullable_id},
                                          {"version", {{"type", "integer"}}}}))});

  r.Add("DELETE", "/api/voiceprints/{id}",
        [&app](Request& req) {
          auto st = domain::DeleteVoiceprint(*app.store, req.principal, req.Param("id"));
          return st.ok() ? Response::NoContent() : Fail(st.error());
        },
        {.min_role = "admin",
         .summary = "Supprimer une empreinte vocale (donnée personnelle) : les noms donnés "
                    "automatiquement par elle sont retirés, les noms confirmés restent. Audité",
         .tag = "voiceprints"});

  r.Add("POST", "/api/voiceprints/{id}/sources",
        [&app, blobs, b](Request& req) { return AddSources(app, b, req); },
        {.min_role = "admin",
         .max_body = 64 * 1024,
         .summary = "Ajouter des sources à une empreinte vocale (moyenne pondérée par les secondes "
                    "de parole). Audité",
         .tag = "voiceprints",
         .doc = JsonBodyDoc(ObjectSchema(
             {{"sources", SourcesSchema()}, {"version", {{"type", "integer"}}}}, {"sources"}))});

  r.Add("GET", "/api/recordings/{id}/speakers",
        [&app](Request& req) {
          auto s =
              domain::ListRecordingSpeakers(*app.store, req.principal.firm_id, req.Param("id"));
          return s.ok() ? Ok(SpeakersJson(*s)) : Fail(s.error());
        },
        {.summary = "Intervenants d'un enregistrement : nom, origine (confirmed / automatic), "
                    "confiance, et suggestions (empreintes vocales, participants du rendez-vous "
                    "pas encore attribués)",
         .tag = "transcripts"});

  r.Add("GET", "/api/recordings/{id}/speakers/{label}/similar",
        [&app](Request& req) { return Similar(app, req); },
        {.summary = "Autres enregistrements du cabinet où la même voix parle (?min_confidence= "
                    "0..1, ?limit=), la plus probable d'abord",
         .tag = "transcripts",
         .doc = {{"x-query", {"min_confidence", "limit"}}}});

  r.Add("POST", "/api/recordings/{id}/speakers/{label}/apply",
        [&app](Request& req) { return Apply(app, req); },
        {.max_body = 64 * 1024,
         .summary = "Donner le nom de cet intervenant (ou name) aux intervenants choisis d'autres "
                    "enregistrements ({targets: [{recording_id, label, version?}]}), tout ou "
                    "rien : 409 si une transcription a changé. Audité",
         .tag = "transcripts",
         .doc = JsonBodyDoc(ObjectSchema(
             {{"name", {{"type", json::array({"string", "null"})}, {"maxLength", 100}}},
              {"targets",
               {{"type", "array"},
                {"minItems", 1},
                {"maxItems", 100},
                {"items", ObjectSchema({{"recording_id", {{"type", "string"}}},
                                        {"label", {{"type", "string"}}},
                                        {"version", {{"type", "integer"}}}},
                                       {"recording_id", "label"})}}}},
             {"targets"}))});
}

}  // namespace crm::api
