// Recordings: uploads (streamed raw or multipart, and resumable), the recordings themselves,
// their audio for the player (HTTP Range), their progress as Server-Sent Events, and the jobs
// that process them. Handlers translate HTTP <-> pipeline/domain calls.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "api/recording_routes.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "domain/audit.h"
#include "http/range.h"
#include "pipeline/waveform.h"

namespace crm::api {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

constexpr auto kEventPoll = std::chrono::milliseconds(300);
constexpr auto kEventKeepAlive = std::chrono::seconds(15);

Response Fail(const Error& e) { return Response::FromError(e); }

std::map<std::string, std::string> QueryFields(const Request& req) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : req.query) out.emplace(k, v);
  return out;
}

// The target of an upload route: /api/meetings/{id}/... or /api/clients/{id}/...
Result<domain::RecordingTarget> TargetOf(pipeline::Services& s, const Request& req) {
  if (req.route_pattern.rfind("/api/meetings/", 0) == 0)
    return s.recordings.TargetOfMeeting(req.principal.firm_id, req.Param("id"));
  return s.recordings.TargetOfClient(req.principal.firm_id, req.Param("id"));
}

bool IsMultipart(const Request& req) {
  return ToLowerAscii(req.Header("Content-Type")).rfind("multipart/form-data", 0) == 0;
}

void RegisterDirectUploads(http::Router& r, pipeline::Services& s) {
  auto sink = [&s](const Request& req,
                   std::optional<uint64_t> length) -> Result<std::unique_ptr<http::BodySink>> {
    // A foreign meeting or client is 404 before a byte of the body is read.
    CRM_TRY(TargetOf(s, req));
    // A raw body carries its metadata in the query: refuse a missing consent before reading.
    if (!IsMultipart(req)) CRM_TRY(domain::ParseUploadMetadata(QueryFields(req)));
    return pipeline::NewUploadSink(req, length, s.SinkOptions());
  };
  auto handler = [&s](Request& req) {
    auto file = pipeline::TakeUpload(req);  // removed when this handler returns, unless kept
    if (!file) return Fail(Internal("upload missing"));
    auto target = TargetOf(s, req);
    if (!target.ok()) return Fail(target.error());
    auto meta = domain::ParseUploadMetadata(file->fields);
    if (!meta.ok()) return Fail(meta.error());
    auto rec = pipeline::AcceptRecording(s, req.principal, *target, *meta, *file);
    if (!rec.ok()) return Fail(rec.error());
    return Created(*rec).Header("Location", "/api/recordings/" + (*rec)["id"].get<std::string>());
  };
  json doc = {
      {"description",
       "Corps brut (métadonnées dans la requête : consent, title, filename, language) ou "
       "multipart/form-data (champ file et champs texte). consent est obligatoire. "
       "413 au-delà de UPLOAD_MAX_BYTES, 415 si ce n'est pas un média, 422 si indécodable."}};
  r.Add("POST", "/api/meetings/{id}/recordings", handler,
        {.body_sink = sink,
         .summary = "Téléverser l'enregistrement d'un rendez-vous",
         .tag = "recordings",
         .doc = doc});
  r.Add("POST", "/api/clients/{id}/recordings", handler,
        {.body_sink = sink,
         .summary = "Téléverser un enregistrement d'un client (sans rendez-vous)",
         .tag = "recordings",
         .doc = doc});
}

std::string MimeFor(const std::string& container, bool video) {
  if (container.find("mp4") != std::string::npos || container.find("mov") != std::string::npos)
    return video ? "video/mp4" : "audio/mp4";
  if (container == "mp3") return "audio/mpeg";
  if (container == "wav") return "audio/wav";
  if (container == "ogg") return "audio/ogg";
  if (container == "flac") return "audio/flac";
  if (container.find("webm") != std::string::npos ||
      container.find("matroska") != std::string::npos)
    return video ? "video/webm" : "audio/webm";
  if (container == "amr") return "audio/amr";
  return "application/octet-stream";
}

Response Audio(pipeline::Services& s, Request& req) {
  auto row = s.recordings.Row(req.principal.firm_id, req.Param("id"));
  if (!row.ok()) return Fail(row.error());
  // Read through the blob store, whichever it is; the reader stays open while the body is sent.
  auto opened = s.blobs.Open(row->Text("blob_key"));
  if (!opened.ok())
    return Fail(Error(ErrorCode::kUnavailable,
                      "Le fichier de l'enregistrement est indisponible. / "
                      "The recording's file is unavailable."));
  std::shared_ptr<blobs::BlobReader> reader = std::move(opened).value();
  const int64_t size = reader->size();
  auto body = [reader](uint64_t offset, uint64_t length) {
    return http::BlobBody(reader, offset, length);
  };
  Response res;
  res.content_type = MimeFor(row->Text("container"), row->Int("has_video") != 0);
  res.Header("Accept-Ranges", "bytes");
  res.Header("Cache-Control", "private, no-store");
  std::string range = req.Header("Range");
  if (range.empty()) {
    res.file = body(0, static_cast<uint64_t>(size));
    return res;
  }
  auto r = http::ParseRange(range, size);
  if (!r) {
    Response bad = Response::FromError(
        Error(ErrorCode::kBadRequest, "Plage demandée invalide. / Requested range not satisfiable.",
              {{"size", size}}, "range_not_satisfiable"));
    bad.status = 416;
    bad.Header("Content-Range", "bytes */" + std::to_string(size));
    return bad;
  }
  res.status = 206;
  res.file = body(static_cast<uint64_t>(r->first), static_cast<uint64_t>(r->second - r->first + 1));
  res.Header("Content-Range", "bytes " + std::to_string(r->first) + "-" +
                                  std::to_string(r->second) + "/" + std::to_string(size));
  return res;
}

// The waveform: (min, max) int8 pairs, base64url without padding, computed once by the job.
// ?max_length= bounds the pair count for an overview of a long recording (neighbours merged).
// A recording without peaks yet (processed before peaks existed, or still processing) answers
// 202 "preparing" with Retry-After: its peaks come from a job (pipeline/waveform.h), never from
// a decode on this thread.
Response PeaksOf(pipeline::Services& s, Request& req) {
  const std::string& firm = req.principal.firm_id;
  auto row = s.recordings.Row(firm, req.Param("id"));
  if (!row.ok()) return Fail(row.error());
  size_t max_length = 0;
  if (auto q = req.Query("max_length")) {
    auto v = ParseInt(*q, 100, 10'000'000);
    if (!v)
      return Fail(InvalidArgument(
          "max_length : un entier de 100 à 10000000. / max_length: an integer from 100 to "
          "10000000.",
          {{"max_length", "invalid"}}));
    max_length = static_cast<size_t>(*v);
  }
  const std::string blob_key = row->Text("blob_key");
  auto peaks = pipeline::LoadPeaks(s.blobs, blob_key);
  if (!peaks.ok()) return Fail(peaks.error());
  if (!*peaks) {
    auto failed = s.blobs.Exists(pipeline::PeaksFailedKey(blob_key));
    if (failed.ok() && *failed)
      return Fail(Error(ErrorCode::kUnavailable,
                        "La forme d'onde de cet enregistrement ne peut pas être calculée : son "
                        "fichier est illisible. / This recording's waveform cannot be computed: "
                        "its file is unreadable.",
                        nullptr, "waveform_unavailable"));
    // The recording's own job computes them right after decoding: no second decode meanwhile.
    std::string job_id;
    if (!row->IsNull("job_id")) {
      auto job = s.queue.Get(jobs::Scope::Firm(firm), row->Text("job_id"));
      if (job.ok() &&
          (job->state == jobs::JobState::kQueued || job->state == jobs::JobState::kRunning))
        job_id = job->id;
    }
    if (job_id.empty()) {
      auto queued = pipeline::EnqueueWaveform(s.queue, firm, req.Param("id"));
      if (!queued.ok()) return Fail(queued.error());
      job_id = *queued;
    }
    Response res = Response::Json(202, {{"recording_id", req.Param("id")},
                                        {"state", "preparing"},
                                        {"job_id", job_id},
                                        {"retry_after", 2}});
    res.Header("Retry-After", "2");
    res.Header("Cache-Control", "no-store");
    return res;
  }
  audio::Peaks p = max_length ? audio::Downsample(**peaks, max_length) : std::move(**peaks);
  std::string bytes(reinterpret_cast<const char*>(p.pairs.data()), p.pairs.size());
  Response res = Ok({{"recording_id", req.Param("id")},
                     {"peaks_per_second", p.peaks_per_second},
                     {"duration", p.duration_seconds},
                     {"length", p.size()},
                     {"bits", 8},
                     {"data", Base64UrlEncode(bytes)}});
  res.Header("Cache-Control", "private, max-age=3600");
  return res;
}

// Server-Sent Events: the recording's processing state, polled from the job row.
Response Events(pipeline::Services& s, Request& req) {
  std::string firm = req.principal.firm_id, id = req.Param("id");
  auto first = s.recordings.Get(firm, id);  // a foreign recording is 404 before any stream
  if (!first.ok()) return Fail(first.error());
  Response res;
  res.content_type = "text/event-stream";
  res.Header("X-Accel-Buffering", "no");
  res.stream = [&s, firm, id](http::StreamWriter& w) {
    std::string last;
    auto last_write = std::chrono::steady_clock::now();
    if (!w.Write("retry: 2000\n\n")) return;
    while (!w.ShuttingDown()) {
      auto rec = s.recordings.Get(firm, id);
      if (!rec.ok()) {
        w.Write("event: failed\ndata: " +
                json({{"state", "deleted"}, {"error", {{"code", "not_found"}}}}).dump() + "\n\n");
        return;
      }
      json p = (*rec)["processing"];
      p["recording_id"] = id;
      p["job_id"] = (*rec)["job_id"];
      std::string state = p["state"].get<std::string>();
      std::string data = p.dump();
      bool terminal =
          state == "done" || state == "failed" || state == "cancelled" || state == "pending";
      if (data != last || terminal) {
        std::string event = state == "done"        ? "done"
                            : state == "failed"    ? "failed"
                            : state == "cancelled" ? "cancelled"
                                                   : "progress";
        if (state == "pending") event = "progress";
        if (!w.Write("event: " + event + "\ndata: " + data + "\n\n")) return;
        last = data;
        last_write = std::chrono::steady_clock::now();
        if (terminal) return;
      } else if (std::chrono::steady_clock::now() - last_write > kEventKeepAlive) {
        if (!w.Write(": keep-alive\n\n")) return;
        last_write = std::chrono::steady_clock::now();
      }
      std::this_thread::sleep_for(kEventPoll);
    }
  };
  return res;
}

void RegisterRecordingResource(http::Router& r, pipeline::Services& s) {
  r.Add(
      "GET", "/api/recordings",
      [&s](Request& req) {
        auto limit = PageLimit(req);
        if (!limit.ok()) return Fail(limit.error());
        auto cursor = PageCursor(req);
        if (!cursor.ok()) return Fail(cursor.error());
        auto page = s.recordings.List(req.principal.firm_id, *limit, *cursor,
                                      req.Query("client_id"), req.Query("meeting_id"));
        if (!page.ok()) return Fail(page.error());
        return Page(page->first, page->second);
      },
      {.summary = "Lister les enregistrements (?client_id=, ?meeting_id=, pagination par curseur)",
       .tag = "recordings",
       .doc = {{"x-list", {"limit", "cursor", "client_id", "meeting_id"}}}});

  r.Add("GET", "/api/recordings/{id}",
        [&s](Request& req) {
          auto rec = s.recordings.Get(req.principal.firm_id, req.Param("id"));
          return rec.ok() ? Ok(*rec) : Fail(rec.error());
        },
        {.summary = "Lire un enregistrement (média, consentement, état du traitement)",
         .tag = "recordings"});

  r.Add("DELETE", "/api/recordings/{id}",
        [&s](Request& req) {
          std::string firm = req.principal.firm_id, id = req.Param("id");
          auto row = s.recordings.Row(firm, id);
          if (!row.ok()) return Fail(row.error());
          if (!row->IsNull("job_id"))
            (void)s.queue.Cancel(jobs::Scope::Firm(firm), row->Text("job_id"));
          auto st = s.recordings.Delete(req.principal, id);
          if (!st.ok()) return Fail(st.error());
          pipeline::DeleteCheckpoints(s.blobs, firm, id);
          return Response::NoContent();
        },
        {.min_role = "admin",
         .summary = "Supprimer un enregistrement, son fichier et sa transcription (audité)",
         .tag = "recordings"});

  r.Add("GET", "/api/recordings/{id}/audio", [&s](Request& req) { return Audio(s, req); },
        {.summary = "Le fichier original, avec prise en charge de Range (lecteur)",
         .tag = "recordings"});

  r.Add("GET", "/api/recordings/{id}/peaks", [&s](Request& req) { return PeaksOf(s, req); },
        {.summary = "Forme d'onde : paires (min, max) int8 à peaks_per_second, en base64url sans "
                    "remplissage ; calculée une fois au traitement. 202 state=preparing avec "
                    "Retry-After tant qu'une tâche la prépare. ?max_length= pour un aperçu",
         .tag = "recordings",
         .doc = {{"x-query", {"max_length"}}}});

  r.Add("GET", "/api/recordings/{id}/events", [&s](Request& req) { return Events(s, req); },
        {.summary = "Progression du traitement en Server-Sent Events (progress, done, failed)",
         .tag = "recordings"});

  r.Add("POST", "/api/recordings/{id}/transcribe",
        [&s](Request& req) {
          auto row = s.recordings.Row(req.principal.firm_id, req.Param("id"));
          if (!row.ok()) return Fail(row.error());
          auto job = s.pipeline.Enqueue(s.queue, req.principal.firm_id, req.Param("id"),
                                        row->Real("duration_seconds"));
          if (!job.ok()) return Fail(job.error());
          auto rec = s.recordings.Get(req.principal.firm_id, req.Param("id"));
          return rec.ok() ? Response::Json(202, *rec) : Fail(rec.error());
        },
        {.summary = "(Re)lancer la transcription d'un enregistrement", .tag = "recordings"});
}

Response UploadHeaders(Response res, const pipeline::UploadInfo& u) {
  res.Header("Tus-Resumable", "1.0.0");
  res.Header("Upload-Offset", std::to_string(u.offset));
  res.Header("Upload-Length", std::to_string(u.length));
  res.Header("Cache-Control", "no-store");
  return res;
}

std::optional<int64_t> HeaderInt(const Request& req, const char* name) {
  std::string v = Trim(req.Header(name));
  if (v.empty() || v.size() > 18) return std::nullopt;
  for (char c : v)
    if (c < '0' || c > '9') return std::nullopt;
  return std::stoll(v);
}

// A resumable upload's metadata is validated when it is created, not when it completes.
Result<json> CreateUpload(pipeline::Services& s, Request& req) {
  CRM_ASSIGN_OR_RETURN(json body, req.JsonBody());
  std::optional<int64_t> length = HeaderInt(req, "Upload-Length");
  if (!length && body.contains("length") && body["length"].is_number_integer())
    length = body["length"].get<int64_t>();
  if (!length || *length <= 0)
    return InvalidArgument(
        "Indiquez la taille du fichier (en-tête Upload-Length). / Give the "
        "file's size (Upload-Length header).",
        {{"length", "required"}});
  if (*length > s.config.upload_max_bytes)
    return pipeline::UploadTooLarge(s.config.upload_max_bytes);
  std::map<std::string, std::string> fields;
  json meta = json::object();
  for (const char* k : {"consent", "title", "filename", "language", "meeting_id", "client_id"}) {
    if (!body.contains(k)) continue;
    const json& v = body[k];
    fields[k] = v.is_string() ? v.get<std::string>() : v.dump();
    meta[k] = v;
  }
  bool has_meeting = body.contains("meeting_id") && body["meeting_id"].is_string();
  bool has_client = body.contains("client_id") && body["client_id"].is_string();
  if (!has_meeting && !has_client)
    return InvalidArgument("Indiquez meeting_id ou client_id. / Give meeting_id or client_id.",
                           {{"meeting_id", "required"}});
  CRM_TRY(has_meeting ? s.recordings.TargetOfMeeting(req.principal.firm_id, fields["meeting_id"])
                      : s.recordings.TargetOfClient(req.principal.firm_id, fields["client_id"]));
  CRM_TRY(domain::ParseUploadMetadata(fields));
  CRM_ASSIGN_OR_RETURN(auto u, s.uploads.Create(req.principal, *length, meta));
  return u.ToJson();
}

// Turns a complete resumable upload into a recording (or a clear error, the upload removed).
Result<json> CompleteUpload(pipeline::Services& s, const Request& req, pipeline::UploadInfo& u) {
  const std::string& firm = req.principal.firm_id;
  std::string path = s.uploads.FilePath(u.id);
  Sha256 hash;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return IoError("upload file missing");
    std::vector<char> buf(1 << 20);
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) hash.Update(buf.data(), n);
    std::fclose(f);
  }
  pipeline::UploadedFile file(path, u.length, hash.FinishHex());
  std::map<std::string, std::string> fields;
  for (auto& [k, v] : u.metadata.items())
    fields[k] = v.is_string() ? v.get<std::string>() : v.dump();
  file.filename = fields["filename"];
  auto meta = domain::ParseUploadMetadata(fields);
  auto target = fields.count("meeting_id")
                    ? s.recordings.TargetOfMeeting(firm, fields["meeting_id"])
                    : s.recordings.TargetOfClient(firm, fields["client_id"]);
  Result<json> rec = !meta.ok() ? Result<json>(meta.error())
                     : !target.ok()
                         ? Result<json>(target.error())
                         : pipeline::AcceptRecording(s, req.principal, *target, *meta, file);
  if (!rec.ok()) {
    (void)s.uploads.Remove(firm, u.id);  // nothing is kept of a refused file
    return rec;
  }
  CRM_TRY(s.uploads.MarkCompleted(firm, u.id, (*rec)["id"].get<std::string>()));
  return rec;
}

void RegisterResumableUploads(http::Router& r, pipeline::Services& s) {
  r.Add("POST", "/api/uploads",
        [&s](Request& req) {
          auto u = CreateUpload(s, req);
          if (!u.ok()) return Fail(u.error());
          std::string id = (*u)["id"].get<std::string>();
          pipeline::UploadInfo info{id, (*u)["length"].get<int64_t>(), 0};
          return UploadHeaders(Response::Json(201, *u), info)
              .Header("Location", "/api/uploads/" + id);
        },
        {.max_body = 64 * 1024,
         .summary = "Créer un téléversement reprenable (Upload-Length ; JSON : meeting_id ou "
                    "client_id, consent, title, filename)",
         .tag = "uploads"});

  auto get = [&s](Request& req) {
    auto u = s.uploads.Get(req.principal.firm_id, req.Param("id"));
    if (!u.ok()) return Fail(u.error());
    return UploadHeaders(Response::Json(200, u->ToJson()), *u);
  };
  r.Add("GET", "/api/uploads/{id}", get,
        {.summary = "État d'un téléversement reprenable", .tag = "uploads"});
  r.Add("HEAD", "/api/uploads/{id}", get,
        {.summary = "Position actuelle d'un téléversement (Upload-Offset)", .tag = "uploads"});

  auto sink = [&s](const Request& req,
                   std::optional<uint64_t> length) -> Result<std::unique_ptr<http::BodySink>> {
    CRM_TRY(s.uploads.Get(req.principal.firm_id, req.Param("id")));  // 404 first
    auto offset = HeaderInt(req, "Upload-Offset");
    if (!offset)
      return InvalidArgument("En-tête Upload-Offset manquant. / Missing Upload-Offset header.",
                             {{"Upload-Offset", "required"}});
    return s.uploads.NewAppendSink(req.principal.firm_id, req.Param("id"), *offset, length);
  };
  r.Add("PATCH", "/api/uploads/{id}",
        [&s](Request& req) {
          auto u = s.uploads.Get(req.principal.firm_id, req.Param("id"));
          if (!u.ok()) return Fail(u.error());
          if (u->offset < u->length) return UploadHeaders(Response::NoContent(), *u);
          auto rec = CompleteUpload(s, req, *u);
          if (!rec.ok()) return Fail(rec.error());
          u->offset = u->length;
          return UploadHeaders(Created(*rec), *u)
              .Header("Location", "/api/recordings/" + (*rec)["id"].get<std::string>());
        },
        {.body_sink = sink,
         .summary = "Ajouter des octets à Upload-Offset (409 si décalé) ; le dernier envoi crée "
                    "l'enregistrement (201)",
         .tag = "uploads"});

  r.Add("DELETE", "/api/uploads/{id}",
        [&s](Request& req) {
          auto st = s.uploads.Remove(req.principal.firm_id, req.Param("id"));
          return st.ok() ? Response::NoContent() : Fail(st.error());
        },
        {.summary = "Abandonner un téléversement reprenable", .tag = "uploads"});
}

// A firm's principal sees its firm's jobs; the platform admin every firm's, or one firm's with
// ?firm_id= (lists only).
jobs::Scope ScopeOf(const Request& req) {
  if (!req.principal.is_platform_admin()) return jobs::Scope::Firm(req.principal.firm_id);
  auto firm = req.Query("firm_id");
  return firm && !firm->empty() ? jobs::Scope::Firm(*firm) : jobs::Scope::All();
}

// An action on a job, audited where it is read: the job's firm's log (so the firm sees the
// platform admin retried its job) and, for the platform admin, the platform's log too.
void AuditJobAction(pipeline::Services& s, const Request& req, const std::string& action,
                    const jobs::Job& job) {
  domain::Audit(s.store, req.principal, action, "job", job.id);
  if (req.principal.is_platform_admin() && job.firm_id) {
    Principal in_firm = req.principal;
    in_firm.firm_id = *job.firm_id;
    in_firm.acting_in_firm = true;  // marks the entry as the platform admin's
    domain::Audit(s.store, in_firm, action, "job", job.id);
  }
}

Response JobResponse(const Result<jobs::Job>& job) {
  return job.ok() ? Response::Json(200, job->ToJson()) : Fail(job.error());
}

void RegisterJobRoutes(http::Router& r, pipeline::Services& s) {
  r.Add(
      "GET", "/api/jobs",
      [&s](Request& req) {
        jobs::ListFilter f;
        auto limit = PageLimit(req);
        if (!limit.ok()) return Fail(limit.error());
        f.limit = *limit;
        auto cursor = PageCursor(req);
        if (!cursor.ok()) return Fail(cursor.error());
        f.cursor = *cursor;
        f.kind = req.Query("kind").value_or("");
        if (auto st = req.Query("state")) {
          f.state = jobs::ParseJobState(*st);
          if (!f.state)
            return Fail(InvalidArgument("État inconnu. / Unknown state.", {{"state", "invalid"}}));
        }
        auto page = s.queue.List(ScopeOf(req), f);
        if (!page.ok()) return Fail(page.error());
        std::vector<json> data;
        for (auto& j : page->jobs) data.push_back(j.ToJson());
        return Page(data, page->next_cursor.empty()
                              ? std::nullopt
                              : std::optional<std::string>(page->next_cursor));
      },
      {.platform_admin_too = true,
       .summary = "Les tâches de fond du cabinet (état, progression, erreur) ; de tous les "
                  "cabinets pour l'administrateur de plateforme (?firm_id= pour un seul)",
       .tag = "jobs",
       .doc = {{"x-list", {"limit", "cursor", "kind", "state", "firm_id"}}}});

  r.Add("GET", "/api/jobs/{id}",
        [&s](Request& req) { return JobResponse(s.queue.Get(ScopeOf(req), req.Param("id"))); },
        {.platform_admin_too = true, .summary = "Lire une tâche de fond", .tag = "jobs"});
  r.Add("POST", "/api/jobs/{id}/retry",
        [&s](Request& req) {
          auto job = s.queue.Retry(ScopeOf(req), req.Param("id"));
          if (job.ok()) AuditJobAction(s, req, "job.retried", *job);
          return JobResponse(job);
        },
        {.min_role = "admin",
         .platform_admin_too = true,
         .summary = "Relancer une tâche échouée ou annulée (admin du cabinet, ou de la plateforme "
                    "pour tout cabinet)",
         .tag = "jobs"});
  r.Add("POST", "/api/jobs/{id}/cancel",
        [&s](Request& req) {
          auto job = s.queue.Cancel(ScopeOf(req), req.Param("id"));
          if (job.ok()) AuditJobAction(s, req, "job.cancelled", *job);
          return JobResponse(job);
        },
        {.min_role = "admin",
         .platform_admin_too = true,
         .summary = "Annuler une tâche (en attente : aussitôt ; en cours : au prochain battement)",
         .tag = "jobs"});

  r.Add("GET", "/api/admin/jobs",
        [&s](Request& req) {
          auto stats = s.queue.Stats(jobs::Scope::All());
          if (!stats.ok()) return Fail(stats.error());
          jobs::ListFilter f;
          f.state = jobs::JobState::kFailed;
          f.limit = 20;
          auto failed = s.queue.List(jobs::Scope::All(), f);
          json recent = json::array();
          if (failed.ok())
            for (auto& j : failed->jobs) recent.push_back(j.ToJson());
          return Response::Json(200, {{"stats", stats->ToJson()}, {"recent_failures", recent}});
        },
        {.min_role = "platform_admin",
         .summary =
             "File des tâches (administrateur de plateforme) : profondeur, en cours, échecs, débit",
         .tag = "admin"});
}

}  // namespace

void RegisterRecordingRoutes(http::Router& r, App& app, pipeline::Services& s) {
  (void)app;
  RegisterDirectUploads(r, s);
  RegisterRecordingResource(r, s);
  RegisterResumableUploads(r, s);
  RegisterJobRoutes(r, s);
}

}  // namespace crm::api
