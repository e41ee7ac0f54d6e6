// A recording's transcript: read it (segments with words, speakers, version), correct a segment
// (optimistic concurrency, revision history), name speakers, export it (txt, srt, vtt, json,
// verbose_json) as a download. Every route finds the transcript through the caller's firm first:
// another firm's recording is 404 before its body or version is looked at.
#include <algorithm>

#include "api/app.h"
#include "asr/format.h"
#include "common/text.h"
#include "domain/audit.h"
#include "domain/transcripts.h"

namespace crm::api {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

json WordsJson(const std::vector<domain::TimedWord>& words) {
  json out = json::array();
  for (const auto& w : words)
    out.push_back({{"start", w.start},
                   {"end", w.end},
                   {"text", w.text},
                   {"confidence", w.confidence < 0 ? json(nullptr) : json(w.confidence)},
                   {"edited", w.edited}});
  return out;
}

json SegmentJson(const domain::StoredSegment& s) {
  return {{"id", s.id},
          {"index", s.index},
          {"start", s.start},
          {"end", s.end},
          {"speaker", s.speaker.empty() ? json(nullptr) : json(s.speaker)},
          {"speaker_name", s.speaker_name.empty() ? json(nullptr) : json(s.speaker_name)},
          {"text", s.text},
          {"engine_text", s.engine_text},
          {"edited", s.edited},
          {"version", s.version},
          {"updated_at", s.updated_at},
          {"words", WordsJson(s.words)}};
}

json TranscriptJson(const domain::StoredTranscript& t) {
  json speakers = json::array();
  for (const auto& label : t.speakers) {
    auto it = t.speaker_names.find(label);
    speakers.push_back({{"label", label},
                        {"name", it == t.speaker_names.end() ? json(nullptr) : json(it->second)}});
  }
  json segments = json::array();
  for (const auto& s : t.segments) segments.push_back(SegmentJson(s));
  return {{"recording_id", t.recording_id}, {"language", t.language},
          {"duration", t.duration},         {"version", t.version},
          {"created_at", t.created_at},     {"updated_at", t.updated_at},
          {"speakers", speakers},           {"segments", segments}};
}

// Field names of `body` outside `allowed`, as 422 details ({"name": "unknown_field"}).
json UnknownFields(const json& body, std::initializer_list<const char*> allowed) {
  json problems = json::object();
  for (auto& [k, _] : body.items()) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || k == a;
    if (!ok) problems[k] = "unknown_field";
  }
  return problems;
}

Response Invalid(const json& problems) {
  std::string names;
  for (auto& [k, _] : problems.items()) names += (names.empty() ? "" : ", ") + k;
  return Response::FromError(InvalidArgument(
      "Champs invalides : " + names + ". / Invalid fields: " + names + ".", problems));
}

// The expected version: If-Match wins over the body's "version".
std::optional<int64_t> ExpectedVersion(const Request& req, const json& body) {
  if (auto v = IfMatchVersion(req)) return v;
  if (body.contains("version") && body["version"].is_number_integer())
    return body["version"].get<int64_t>();
  return std::nullopt;
}

Response EditSegment(App& app, Request& req) {
  const std::string& firm = req.principal.firm_id;
  std::string recording = req.Param("id"), segment = req.Param("segment_id");
  auto existing = domain::GetSegment(*app.store, firm, recording, segment);
  if (!existing.ok()) return Response::FromError(existing.error());
  auto body = req.JsonBody();
  if (!body.ok()) return Response::FromError(body.error());
  json problems = UnknownFields(*body, {"text", "version"});
  if (!body->contains("text"))
    problems["text"] = "required";
  else if (!(*body)["text"].is_string())
    problems["text"] = "must_be_string";
  if (body->contains("version") && !(*body)["version"].is_number_integer())
    problems["version"] = "must_be_integer";
  if (!problems.empty()) return Invalid(problems);
  auto r = domain::EditSegmentText(*app.store, req.principal, recording, segment,
                                   (*body)["text"].get<std::string>(), ExpectedVersion(req, *body));
  if (!r.ok()) return Response::FromError(r.error());
  return Ok(SegmentJson(*r));
}

Response Revisions(App& app, Request& req) {
  auto r = domain::ListRevisions(*app.store, req.principal.firm_id, req.Param("id"),
                                 req.Param("segment_id"));
  if (!r.ok()) return Response::FromError(r.error());
  std::vector<json> data;
  for (const auto& rev : *r)
    data.push_back({{"id", rev.id},
                    {"kind", rev.kind},
                    {"version", rev.version},
                    {"old_text", rev.old_text},
                    {"new_text", rev.new_text},
                    {"user_id", rev.user_id.empty() ? json(nullptr) : json(rev.user_id)},
                    {"api_key_id", rev.api_key_id.empty() ? json(nullptr) : json(rev.api_key_id)},
                    {"created_at", rev.created_at}});
  return Page(data, std::nullopt);
}

// POST .../segments/{segment_id}/split {"word_index": k, "version": v}
Response Split(App& app, Request& req) {
  std::string recording = req.Param("id"), segment = req.Param("segment_id");
  auto existing = domain::GetSegment(*app.store, req.principal.firm_id, recording, segment);
  if (!existing.ok()) return Response::FromError(existing.error());
  auto body = req.JsonBody();
  if (!body.ok()) return Response::FromError(body.error());
  json problems = UnknownFields(*body, {"word_index", "version"});
  if (!body->contains("word_index"))
    problems["word_index"] = "required";
  else if (!(*body)["word_index"].is_number_integer())
    problems["word_index"] = "must_be_integer";
  if (body->contains("version") && !(*body)["version"].is_number_integer())
    problems["version"] = "must_be_integer";
  if (!problems.empty()) return Invalid(problems);
  int64_t k = (*body)["word_index"].get<int64_t>();
  auto r = domain::SplitSegment(*app.store, req.principal, recording, segment,
                                static_cast<int>(std::clamp<int64_t>(k, -1, 1'000'000)),
                                ExpectedVersion(req, *body));
  if (!r.ok()) return Response::FromError(r.error());
  domain::Audit(*app.store, req.principal, "transcript.segment_split", "recording", recording,
                {{"segment_id", segment}, {"new_segment_id", r->second.id}});
  return Ok({{"segments", json::array({SegmentJson(r->first), SegmentJson(r->second)})}});
}

// POST .../segments/{segment_id}/merge {"version": v, "next_version": w}
Response Merge(App& app, Request& req) {
  std::string recording = req.Param("id"), segment = req.Param("segment_id");
  auto existing = domain::GetSegment(*app.store, req.principal.firm_id, recording, segment);
  if (!existing.ok()) return Response::FromError(existing.error());
  auto body = req.JsonBody();
  if (!body.ok()) return Response::FromError(body.error());
  json problems = UnknownFields(*body, {"version", "next_version"});
  for (const char* k : {"version", "next_version"})
    if (body->contains(k) && !(*body)[k].is_number_integer()) problems[k] = "must_be_integer";
  if (!problems.empty()) return Invalid(problems);
  std::optional<int64_t> next;
  if (body->contains("next_version")) next = (*body)["next_version"].get<int64_t>();
  auto r = domain::MergeWithNext(*app.store, req.principal, recording, segment,
                                 ExpectedVersion(req, *body), next);
  if (!r.ok()) return Response::FromError(r.error());
  domain::Audit(*app.store, req.principal, "transcript.segments_merged", "recording", recording,
                {{"segment_id", segment}});
  return Ok(SegmentJson(*r));
}

Response NameSpeakers(App& app, Request& req) {
  const std::string& firm = req.principal.firm_id;
  std::string recording = req.Param("id");
  auto existing = domain::GetStoredTranscript(*app.store, firm, recording);
  if (!existing.ok()) return Response::FromError(existing.error());
  auto body = req.JsonBody();
  if (!body.ok()) return Response::FromError(body.error());
  // {"SPEAKER_1": "Maître Dupont", "SPEAKER_2": null, "version": 3}: null or "" removes a name.
  std::map<std::string, std::string> names;
  json problems = json::object();
  for (auto& [label, value] : body->items()) {
    if (label == "version") {
      if (!value.is_number_integer()) problems["version"] = "must_be_integer";
    } else if (value.is_string()) {
      names[label] = value.get<std::string>();
    } else if (value.is_null()) {
      names[label] = "";
    } else {
      problems[label] = "must_be_string";
    }
  }
  if (names.empty() && problems.empty()) problems["speakers"] = "required";
  if (!problems.empty()) return Invalid(problems);
  auto r = domain::NameSpeakers(*app.store, req.principal, recording, names,
                                ExpectedVersion(req, *body));
  if (!r.ok()) return Response::FromError(r.error());
  auto now = domain::GetStoredTranscript(*app.store, firm, recording);
  if (!now.ok()) return Response::FromError(now.error());
  return Ok(TranscriptJson(*now));
}

// "Succession Martin" → "succession-martin"; empty when nothing usable remains.
std::string Slug(std::string_view s) {
  std::string folded = FoldForSearch(s), out;
  for (char c : folded) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum)
      out.push_back(c);
    else if (!out.empty() && out.back() != '-')
      out.push_back('-');
    if (out.size() >= 60) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

const char* Extension(asr::OutputFormat f) {
  switch (f) {
    case asr::OutputFormat::kSrt:
      return "srt";
    case asr::OutputFormat::kVtt:
      return "vtt";
    case asr::OutputFormat::kJson:
    case asr::OutputFormat::kVerboseJson:
      return "json";
    default:
      return "txt";
  }
}

// transcription-<title or client>-<YYYY-MM-DD>.<ext>
Result<std::string> ExportFilename(App& app, const std::string& firm, const std::string& recording,
                                   asr::OutputFormat f) {
  CRM_ASSIGN_OR_RETURN(auto row, domain::GetRecordingNaming(*app.store, firm, recording));
  std::string name = "transcription";
  if (row) {
    std::string subject = Slug(row->title);
    if (subject.empty()) subject = Slug(row->client_name);
    if (!subject.empty()) name += "-" + subject;
    std::string date = row->created_at.substr(0, 10);
    if (!date.empty()) name += "-" + date;
  }
  if (f == asr::OutputFormat::kVerboseJson) name += "-detaillee";
  return name + "." + Extension(f);
}

Response Export(App& app, Request& req) {
  const std::string& firm = req.principal.firm_id;
  std::string recording = req.Param("id");
  auto t = domain::LoadTranscript(*app.store, firm, recording);
  if (!t.ok()) return Response::FromError(t.error());
  std::string format_name = req.Query("format").value_or("txt");
  auto format = asr::ParseOutputFormat(format_name);
  if (!format.ok())
    return Response::FromError(InvalidArgument(
        "Format inconnu : txt, srt, vtt, json ou verbose_json. / Unknown format: txt, srt, vtt, "
        "json or verbose_json.",
        {{"format", "invalid"}}));
  auto filename = ExportFilename(app, firm, recording, *format);
  if (!filename.ok()) return Response::FromError(filename.error());
  Response res = Response::Text(200, asr::Render(*t, *format), asr::ContentType(*format));
  res.Header("Content-Disposition", "attachment; filename=\"" + *filename + "\"");
  domain::Audit(*app.store, req.principal, "transcript.export", "recording", recording,
                {{"format", format_name}});
  return res;
}

}  // namespace

void RegisterTranscriptRoutes(http::Router& r, App& app) {
  const std::string base = "/api/recordings/{id}/transcript";
  r.Add("GET", base,
        [&app](Request& req) {
          auto t = domain::GetStoredTranscript(*app.store, req.principal.firm_id, req.Param("id"));
          if (!t.ok()) return Response::FromError(t.error());
          return Ok(TranscriptJson(*t));
        },
        {.summary =
             "Lire la transcription d'un enregistrement : segments, mots, intervenants, version",
         .tag = "transcripts"});

  r.Add("PATCH", base + "/segments/{segment_id}",
        [&app](Request& req) { return EditSegment(app, req); },
        {.max_body = 256 * 1024,
         .summary = "Corriger le texte d'un segment ({text, version} ou If-Match : 409 si périmé ; "
                    "l'historique garde l'ancien texte)",
         .tag = "transcripts",
         .doc = JsonBodyDoc({{"type", "object"},
                             {"required", {"text"}},
                             {"additionalProperties", false},
                             {"properties",
                              {{"text", {{"type", "string"}, {"maxLength", 10000}}},
                               {"version", {{"type", "integer"}}}}}})});

  r.Add("POST", base + "/segments/{segment_id}/split",
        [&app](Request& req) { return Split(app, req); },
        {.max_body = 16 * 1024,
         .summary = "Couper un segment avant son mot word_index (1..mots-1) : deux segments, "
                    "temps des mots conservés ({word_index, version} ou If-Match : 409 si périmé)",
         .tag = "transcripts",
         .doc = JsonBodyDoc({{"type", "object"},
                             {"required", {"word_index"}},
                             {"additionalProperties", false},
                             {"properties",
                              {{"word_index", {{"type", "integer"}, {"minimum", 1}}},
                               {"version", {{"type", "integer"}}}}}})});

  r.Add("POST", base + "/segments/{segment_id}/merge",
        [&app](Request& req) { return Merge(app, req); },
        {.max_body = 16 * 1024,
         .summary = "Fusionner un segment avec le suivant (version, next_version ou If-Match : "
                    "409 si l'un a changé ; 422 pour le dernier segment)",
         .tag = "transcripts",
         .doc = JsonBodyDoc(
             {{"type", "object"},
              {"additionalProperties", false},
              {"properties",
               {{"version", {{"type", "integer"}}}, {"next_version", {{"type", "integer"}}}}}})});

  r.Add("GET", base + "/segments/{segment_id}/revisions",
        [&app](Request& req) { return Revisions(app, req); },
        {.summary = "Historique des corrections d'un segment (qui, quand, ancien et nouveau texte)",
         .tag = "transcripts"});

  r.Add("PATCH", "/api/recordings/{id}/speakers",
        [&app](Request& req) { return NameSpeakers(app, req); },
        {.max_body = 64 * 1024,
         .summary =
             "Nommer les intervenants d'un enregistrement ({\"SPEAKER_1\": \"Maître Dupont\"}, "
             "null pour retirer un nom ; version ou If-Match : 409 si périmé)",
         .tag = "transcripts",
         .doc = JsonBodyDoc({{"type", "object"},
                             {"additionalProperties",
                              {{"type", json::array({"string", "null"})}, {"maxLength", 100}}}})});

  r.Add(
      "GET", base + "/export", [&app](Request& req) { return Export(app, req); },
      {.summary = "Télécharger la transcription (?format=txt|srt|vtt|json|verbose_json), avec les "
                  "noms des intervenants",
       .tag = "transcripts"});
}

}  // namespace crm::api
