// Documents of a client's file: upload (streamed, multipart field `file`), list, read, download
// (HTTP Range), rename, replace (a new version), versions, delete. Handlers translate HTTP <->
// documents:: calls; a foreign client, meeting or document is 404 before any byte is read.
#include "api/document_routes.h"

#include "api/recording_routes.h"
#include "common/text.h"
#include "http/range.h"

namespace crm::api {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

Response Fail(const Error& e) { return Response::FromError(e); }

bool IsMultipart(const Request& req) {
  return ToLowerAscii(req.Header("Content-Type")).rfind("multipart/form-data", 0) == 0;
}

Error MultipartRequired() {
  return Error(ErrorCode::kUnsupportedMediaType,
               "Envoyez le fichier en multipart/form-data, dans le champ « file ». / Send the "
               "file as multipart/form-data, in the field \"file\".",
               {{"file", "required"}}, "unsupported_media_type");
}

Result<documents::DocumentOwner> OwnerOf(documents::DocumentServices& s, const Request& req) {
  if (req.route_pattern.rfind("/api/meetings/", 0) == 0)
    return s.documents.OwnerOfMeeting(req.principal.firm_id, req.Param("id"));
  return s.documents.OwnerOfClient(req.principal.firm_id, req.Param("id"));
}

// A name in a Content-Disposition header: an ASCII fallback and the UTF-8 name (RFC 6266/5987).
std::string Disposition(const std::string& name) {
  std::string ascii, encoded;
  for (unsigned char c : name) {
    ascii += (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      encoded += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789ABCDEF";
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

Response Download(documents::DocumentServices& s, const Request& req, const std::string& key,
                  const std::string& content_type, const std::string& name) {
  auto opened = s.blobs.Open(key);
  if (!opened.ok())
    return Fail(Error(ErrorCode::kUnavailable,
                      "Le fichier du document est indisponible. / The document's file is "
                      "unavailable."));
  std::shared_ptr<blobs::BlobReader> reader = std::move(opened).value();
  const std::optional<int64_t> size = reader->size();
  Response res;
  res.content_type = content_type;
  res.Header("Accept-Ranges", "bytes");
  res.Header("Cache-Control", "private, no-store");
  res.Header("Content-Disposition", Disposition(name));
  std::string range = req.Header("Range");
  if (range.empty()) {
    res.file = http::BlobBody(reader, 0, static_cast<uint64_t>(*size));
    return res;
  }
  auto r = http::ParseRange(range, *size);
  if (!r) {
    Response bad = Response::FromError(
        Error(ErrorCode::kBadRequest, "Plage demandée invalide. / Requested range not satisfiable.",
              {{"size", *size}}, "range_not_satisfiable"));
    bad.status = 416;
    bad.Header("Content-Range", "bytes */" + std::to_string(*size));
    return bad;
  }
  res.status = 206;
  res.file = http::BlobBody(reader, static_cast<uint64_t>(r->first),
                            static_cast<uint64_t>(r->second - r->first + 1));
  res.Header("Content-Range", "bytes " + std::to_string(r->first) + "-" +
                                  std::to_string(r->second) + "/" + std::to_string(*size));
  return res;
}

json UploadDoc(const std::string& what) {
  return {{"description",
           what + " multipart/form-data : champ file (le fichier, tout type, jusqu'à "
                  "UPLOAD_MAX_BYTES) et champ facultatif name. Le type est déterminé d'après le "
                  "contenu ; 413 au-delà de la limite, 415 hostile_file pour une archive "
                  "dangereuse (bombe de décompression, chemins sortant de l'archive)."},
          {"responses", {{"201", {{"description", "Le document créé"}}}}}};
}

void RegisterUploads(http::Router& r, documents::DocumentServices& s) {
  auto sink = [&s](const Request& req,
                   std::optional<uint64_t> length) -> Result<std::unique_ptr<http::BodySink>> {
    CRM_TRY(OwnerOf(s, req));  // a foreign client or meeting is 404 before the body is read
    if (!IsMultipart(req)) return MultipartRequired();
    return pipeline::NewUploadSink(req, length,
                                   {s.config.data_dir + "/tmp", s.config.upload_max_bytes, true});
  };
  auto handler = [&s](Request& req) {
    auto file = pipeline::TakeUpload(req);  // removed when this handler returns, unless kept
    if (!file) return Fail(Internal("upload missing"));
    auto owner = OwnerOf(s, req);
    if (!owner.ok()) return Fail(owner.error());
    auto doc = documents::AcceptDocument(s, req.principal, *owner, *file);
    if (!doc.ok()) return Fail(doc.error());
    return Created(*doc).Header("Location", "/api/documents/" + (*doc)["id"].get<std::string>());
  };
  r.Add("POST", "/api/clients/{id}/documents", handler,
        {.body_sink = sink,
         .summary = "Déposer un document dans le dossier d'un client",
         .tag = "documents",
         .doc = UploadDoc("Corps")});
  r.Add("POST", "/api/meetings/{id}/documents", handler,
        {.body_sink = sink,
         .summary = "Déposer un document d'un rendez-vous (rangé dans le dossier du client)",
         .tag = "documents",
         .doc = UploadDoc("Corps")});

  auto version_sink =
      [&s](const Request& req,
           std::optional<uint64_t> length) -> Result<std::unique_ptr<http::BodySink>> {
    CRM_TRY(s.documents.Row(req.principal.firm_id, req.Param("id")));
    if (!IsMultipart(req)) return MultipartRequired();
    return pipeline::NewUploadSink(req, length,
                                   {s.config.data_dir + "/tmp", s.config.upload_max_bytes, true});
  };
  r.Add("POST", "/api/documents/{id}/versions",
        [&s](Request& req) {
          auto file = pipeline::TakeUpload(req);
          if (!file) return Fail(Internal("upload missing"));
          std::optional<int64_t> expected = IfMatchVersion(req);
          if (!expected && file->fields.count("version")) {
            auto v = ParseInt(file->fields.at("version"), 1, 1 << 30);
            if (!v)
              return Fail(
                  InvalidArgument("version doit être un entier. / version must be an "
                                  "integer.",
                                  {{"version", "invalid"}}));
            expected = *v;
          }
          auto doc =
              documents::AcceptDocumentVersion(s, req.principal, req.Param("id"), *file, expected);
          if (!doc.ok()) return Fail(doc.error());
          return Created(*doc);
        },
        {.body_sink = version_sink,
         .summary = "Remplacer le fichier d'un document (nouvelle version, l'ancienne est gardée)",
         .tag = "documents",
         .doc = UploadDoc("Corps (If-Match ou champ version facultatifs)")});
}

Response ListOf(documents::DocumentServices& s, Request& req,
                const std::optional<std::string>& client_id,
                const std::optional<std::string>& meeting_id) {
  auto params = ListPageParams(req);
  if (!params.ok()) return Fail(params.error());
  auto page =
      s.documents.List(req.principal.firm_id, params->limit, params->cursor, client_id, meeting_id);
  return page.ok() ? Page(*page) : Fail(page.error());
}

void RegisterResource(http::Router& r, documents::DocumentServices& s) {
  r.Add("GET", "/api/documents",
        [&s](Request& req) {
          return ListOf(s, req, req.Query("client_id"), req.Query("meeting_id"));
        },
        {.summary = "Lister les documents (?client_id=, ?meeting_id=, pagination par curseur)",
         .tag = "documents",
         .doc = {{"x-list", {"limit", "cursor", "client_id", "meeting_id"}}}});
  r.Add("GET", "/api/clients/{id}/documents",
        [&s](Request& req) {
          auto owner = s.documents.OwnerOfClient(req.principal.firm_id, req.Param("id"));
          if (!owner.ok()) return Fail(owner.error());
          return ListOf(s, req, owner->client_id, std::nullopt);
        },
        {.summary = "Les documents du dossier d'un client",
         .tag = "documents",
         .doc = {{"x-list", {"limit", "cursor"}}}});
  r.Add("GET", "/api/meetings/{id}/documents",
        [&s](Request& req) {
          auto owner = s.documents.OwnerOfMeeting(req.principal.firm_id, req.Param("id"));
          if (!owner.ok()) return Fail(owner.error());
          return ListOf(s, req, std::nullopt, owner->meeting_id);
        },
        {.summary = "Les documents d'un rendez-vous",
         .tag = "documents",
         .doc = {{"x-list", {"limit", "cursor"}}}});
  r.Add("GET", "/api/documents/{id}",
        [&s](Request& req) {
          auto doc = s.documents.Get(req.principal.firm_id, req.Param("id"));
          return doc.ok() ? Ok(*doc) : Fail(doc.error());
        },
        {.summary = "Lire un document (type, taille, SHA-256, version, état du texte)",
         .tag = "documents"});
  r.Add("PATCH", "/api/documents/{id}",
        [&s](Request& req) {
          // 404 before the body is looked at.
          auto row = s.documents.Row(req.principal.firm_id, req.Param("id"));
          if (!row.ok()) return Fail(row.error());
          auto body = EditBody(req, {"name"});
          if (!body.ok()) return Fail(body.error());
          if (!body->contains("name") || !(*body)["name"].is_string())
            return Fail(InvalidArgument("Indiquez le nouveau nom. / Give the new name.",
                                        {{"name", "required"}}));
          auto name = documents::CleanDocumentName((*body)["name"].get<std::string>());
          if (!name.ok()) return Fail(name.error());
          auto expected = EditVersion(req, *body);
          if (!expected.ok()) return Fail(expected.error());
          auto doc = s.documents.Rename(req.principal, req.Param("id"), *name, *expected);
          return doc.ok() ? Ok(*doc) : Fail(doc.error());
        },
        {.summary = "Renommer un document (If-Match ou version pour éviter d'écraser)",
         .tag = "documents",
         .doc = JsonBodyDoc({{"type", "object"},
                             {"required", {"name"}},
                             {"properties",
                              {{"name", {{"type", "string"}, {"maxLength", 255}}},
                               {"version", {{"type", "integer"}}}}}})});
  r.Add("DELETE", "/api/documents/{id}",
        [&s](Request& req) {
          std::string firm = req.principal.firm_id, id = req.Param("id");
          auto row = s.documents.Row(firm, id);
          if (!row.ok()) return Fail(row.error());
          if (!row->IsNull("job_id"))
            (void)s.queue.Cancel(jobs::Scope::Firm(firm), row->Text("job_id"));
          auto st = s.documents.Delete(req.principal, id);
          return st.ok() ? Response::NoContent() : Fail(st.error());
        },
        {.min_role = "admin",
         .summary = "Supprimer un document, toutes ses versions et son texte (audité)",
         .tag = "documents"});
  r.Add("GET", "/api/documents/{id}/download",
        [&s](Request& req) {
          auto row = s.documents.Row(req.principal.firm_id, req.Param("id"));
          if (!row.ok()) return Fail(row.error());
          return Download(s, req, row->Text("blob_key"), row->Text("content_type"),
                          row->Text("name"));
        },
        {.summary = "Télécharger la version actuelle (prise en charge de Range)",
         .tag = "documents"});
  r.Add("GET", "/api/documents/{id}/versions",
        [&s](Request& req) {
          auto v = s.documents.Versions(req.principal.firm_id, req.Param("id"));
          if (!v.ok()) return Fail(v.error());
          return Response::Json(200, {{"data", *v}, {"next_cursor", nullptr}});
        },
        {.summary = "L'historique des versions d'un document, la plus récente d'abord",
         .tag = "documents"});
  r.Add("GET", "/api/documents/{id}/versions/{number}/download",
        [&s](Request& req) {
          auto n = ParseInt(req.Param("number"), 1, 1 << 30);
          auto row = n ? s.documents.VersionRow(req.principal.firm_id, req.Param("id"), *n)
                       : Result<storage::Row>(NotFound(
                             "Cette version du document est introuvable. / Version not found."));
          if (!row.ok()) return Fail(row.error());
          return Download(s, req, row->Text("blob_key"), row->Text("content_type"),
                          row->Text("name"));
        },
        {.summary = "Télécharger une version précise d'un document", .tag = "documents"});
}

}  // namespace

void RegisterDocumentRoutes(http::Router& r, App& app, documents::DocumentServices& s) {
  RegisterUploads(r, s);
  RegisterResource(r, s);
}

}  // namespace crm::api
