// Mail: the firm's outbox (list, read with bodies and attachments, download an attachment,
// retry a failed mail), the platform's, and a reviewed meeting report sent to its client with
// its PDF. Handlers translate HTTP <-> mail:: calls.
#include "api/mail_routes.h"

#include "common/text.h"

namespace crm::api {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

Response Fail(const Error& e) { return Response::FromError(e); }

std::string Disposition(const std::string& name) {
  std::string ascii, encoded;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : name) {
    ascii += (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

Response ListMails(mail::MailService& m, const Request& req, const mail::MailScope& scope,
                   const std::optional<std::string>& report_id, bool platform) {
  auto params = ListPageParams(req);
  if (!params.ok()) return Fail(params.error());
  auto page =
      m.List(scope, params->limit, params->cursor, req.Query("status"), report_id, platform);
  if (!page.ok()) return Fail(page.error());
  return Page(page->first, page->second);
}

Response Attachment(mail::MailService& m, const Request& req, const mail::MailScope& scope) {
  auto row = m.AttachmentRow(scope, req.Param("id"), req.Param("attachment_id"));
  if (!row.ok()) return Fail(row.error());
  auto opened = m.blobs().Open(row->Text("blob_key"));
  if (!opened.ok())
    return Fail(Error(ErrorCode::kUnavailable,
                      "Le fichier de la pièce jointe est indisponible. / The attachment's file is "
                      "unavailable."));
  std::shared_ptr<blobs::BlobReader> reader = std::move(opened).value();
  Response res;
  res.content_type = row->Text("content_type");
  res.Header("Cache-Control", "private, no-store");
  res.Header("Content-Disposition", Disposition(row->Text("file_name")));
  res.Header("X-Content-Type-Options", "nosniff");
  res.file = http::BlobBody(reader, 0, static_cast<uint64_t>(reader->size()));
  return res;
}

const json kMailListQuery = {"limit", "cursor", "status"};

}  // namespace

void RegisterMailRoutes(http::Router& r, App& app, mail::MailService& m) {
  r.Add(
      "GET", "/api/mails",
      [&m](Request& req) { return ListMails(m, req, req.principal.firm_id, std::nullopt, false); },
      {.min_role = "admin",
       .summary = "La boîte d'envoi du cabinet, la plus récente d'abord (?status=queued, "
                  "sending, sent, failed, kept)",
       .tag = "mails",
       .doc = {{"x-list", kMailListQuery}}});
  r.Add("GET", "/api/mails/{id}",
        [&m](Request& req) {
          auto mail = m.Get(req.principal.firm_id, req.Param("id"), true, false,
                            req.principal.role == "owner");
          return mail.ok() ? Response::Json(200, *mail) : Fail(mail.error());
        },
        {.min_role = "admin",
         .summary = "Lire un message : destinataires, état, corps HTML et texte, pièces jointes",
         .tag = "mails"});
  r.Add("GET", "/api/mails/{id}/attachments/{attachment_id}",
        [&m](Request& req) { return Attachment(m, req, req.principal.firm_id); },
        {.min_role = "admin",
         .summary = "Télécharger une pièce jointe d'un message",
         .tag = "mails"});
  r.Add("POST", "/api/mails/{id}/retry",
        [&m](Request& req) {
          auto mail = m.Retry(req.principal, req.principal.firm_id, req.Param("id"));
          return mail.ok() ? Response::Json(202, *mail) : Fail(mail.error());
        },
        {.min_role = "admin",
         .max_body = 16 * 1024,
         .summary = "Renvoyer un message en échec (nouvelle série de tentatives)",
         .tag = "mails"});

  r.Add("GET", "/api/admin/mails",
        [&m](Request& req) { return ListMails(m, req, std::nullopt, std::nullopt, true); },
        {.min_role = "platform_admin",
         .summary = "Les messages de tous les cabinets et de la plateforme (administrateur de "
                    "plateforme ; ?status=)",
         .tag = "admin",
         .doc = {{"x-list", kMailListQuery}}});
  r.Add("GET", "/api/admin/mails/{id}",
        [&m](Request& req) {
          auto mail = m.Get(std::nullopt, req.Param("id"), true, true);
          return mail.ok() ? Response::Json(200, *mail) : Fail(mail.error());
        },
        {.min_role = "platform_admin",
         .summary = "Lire un message de n'importe quel cabinet (administrateur de plateforme)",
         .tag = "admin"});

  r.Add("POST", "/api/reports/{id}/mail",
        [&m](Request& req) {
          auto body = req.JsonBody();
          if (!body.ok()) return Fail(body.error());
          auto mail = m.SendReport(req.principal, req.Param("id"), *body);
          if (!mail.ok()) return Fail(mail.error());
          return Response::Json(202, *mail)
              .Header("Location", "/api/mails/" + (*mail)["id"].get<std::string>());
        },
        {.max_body = 64 * 1024,
         .summary = "Envoyer le compte rendu validé au client, son PDF en pièce jointe (202 ; "
                    "envoyé par une tâche de fond)",
         .tag = "reports",
         .doc = JsonBodyDoc({{"type", "object"},
                             {"required", {"to"}},
                             {"additionalProperties", false},
                             {"properties",
                              {{"to",
                                {{"type", "array"},
                                 {"minItems", 1},
                                 {"maxItems", 20},
                                 {"items", {{"type", "string"}, {"format", "email"}}}}},
                               {"cc",
                                {{"type", "array"},
                                 {"maxItems", 20},
                                 {"items", {{"type", "string"}, {"format", "email"}}}}},
                               {"subject", {{"type", "string"}, {"maxLength", 200}}},
                               {"message", {{"type", "string"}, {"maxLength", 10000}}},
                               {"language", {{"type", "string"}, {"enum", {"fr", "en"}}}}}}})});
  r.Add("GET", "/api/reports/{id}/mails",
        [&app, &m](Request& req) {
          if (auto limit = PageLimit(req); !limit.ok()) return Fail(limit.error());
          auto rep =
              app.store->QueryOne("SELECT id FROM meeting_reports WHERE firm_id = ? AND id = ?",
                                  {req.principal.firm_id, req.Param("id")});
          if (!rep.ok()) return Fail(rep.error());
          if (!*rep) return Fail(NotFound("Ce compte rendu est introuvable. / Report not found."));
          return ListMails(m, req, req.principal.firm_id, req.Param("id"), false);
        },
        {.summary = "Les messages envoyés pour ce compte rendu",
         .tag = "reports",
         .doc = {{"x-list", kMailListQuery}}});
}

}  // namespace crm::api
