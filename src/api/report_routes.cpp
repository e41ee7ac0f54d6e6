// Meeting reports (comptes rendus): request one from a recording's transcript (a job), read,
// edit the draft, mark it reviewed, and turn reviewed action items into CRM tasks.
#include <cstdio>
#include <fstream>

#include "api/document_routes.h"
#include "common/text.h"
#include "documents/sniff.h"
#include "domain/audit.h"
#include "domain/crm.h"

namespace crm::api {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

Response Fail(const Error& e) { return Response::FromError(e); }

// POST /api/reports/{id}/tasks: {"actions": [0, 2]} or [{"index", "title", "due_date",
// "assignee_user_id"}]: the user's reviewed version of each chosen action item.
Result<json> AcceptActions(App& app, documents::DocumentServices& s, const Request& req) {
  const std::string& firm = req.principal.firm_id;
  std::string id = req.Param("id");
  CRM_ASSIGN_OR_RETURN(auto row, s.reports.Row(firm, id));  // 404 first
  CRM_ASSIGN_OR_RETURN(json body, req.JsonBody());
  if (!body.is_object() || !body.contains("actions") || !body["actions"].is_array() ||
      body["actions"].empty() || body["actions"].size() > 200)
    return InvalidArgument(
        "Indiquez les actions retenues (actions : [indices]). / Give the "
        "accepted actions (actions: [indices]).",
        {{"actions", "required"}});
  json report = documents::ReportRowToJson(row);
  if (report["status"] != "draft" && report["status"] != "reviewed")
    return Error(ErrorCode::kConflict, "Le compte rendu n'est pas prêt. / The report is not ready.",
                 {{"status", report["status"]}}, "report_not_ready");
  const json& actions = report["actions"];
  json out = json::array();
  for (const auto& a : body["actions"]) {
    json choice = a.is_number_integer() ? json{{"index", a}} : a;
    if (!choice.is_object() || !choice.contains("index") || !choice["index"].is_number_integer())
      return InvalidArgument(
          "Chaque action est un indice ou un objet avec index. / Each action "
          "is an index or an object with index.",
          {{"actions", "invalid"}});
    int index = choice["index"].get<int>();
    if (index < 0 || !actions.is_array() || index >= static_cast<int>(actions.size()))
      return InvalidArgument("Action inconnue. / Unknown action.", {{"actions", "unknown_index"}});
    CRM_ASSIGN_OR_RETURN(auto existing, s.reports.TaskOfAction(firm, id, index));
    if (existing) {
      CRM_ASSIGN_OR_RETURN(json task, app.records->Get(firm, domain::TaskSpec(), *existing));
      out.push_back(task);
      continue;
    }
    const json& item = actions[index];
    std::string what = item.value("what", "");
    json task = {
        {"title", choice.contains("title") ? choice["title"] : json(what.substr(0, 200))},
        {"notes", "Action du compte rendu « " + report.value("title", "") + " »" +
                      (item.value("who", "").empty() ? "" : " — " + item.value("who", "")) + "\n" +
                      what},
        {"status", "todo"}};
    if (choice.contains("due_date"))
      task["due_date"] = choice["due_date"];
    else if (item.contains("due_date") && item["due_date"].is_string())
      task["due_date"] = item["due_date"];
    if (choice.contains("assignee_user_id")) task["assignee_user_id"] = choice["assignee_user_id"];
    task["client_id"] = row.Text("client_id");
    if (!row.IsNull("meeting_id")) task["meeting_id"] = row.Text("meeting_id");
    CRM_ASSIGN_OR_RETURN(json created, app.records->Create(firm, domain::TaskSpec(), task));
    CRM_TRY(s.reports.LinkTask(firm, id, index, created["id"].get<std::string>()));
    domain::Audit(*app.store, req.principal, "report.action_accepted", "meeting_report", id,
                  {{"index", index}, {"task_id", created["id"]}});
    out.push_back(created);
  }
  return json{{"data", out}};
}

}  // namespace

void RegisterReportRoutes(http::Router& r, App& app, documents::DocumentServices& s) {
  r.Add("POST", "/api/recordings/{id}/reports",
        [&s](Request& req) {
          auto rep = s.reports.Create(req.principal, req.Param("id"), s.config.summary_mode);
          if (!rep.ok()) return Fail(rep.error());
          std::string id = (*rep)["id"].get<std::string>();
          auto job = s.report_job.Enqueue(s.queue, req.principal.firm_id, id);
          if (!job.ok()) return Fail(job.error());
          auto out = s.reports.Get(req.principal.firm_id, id);
          if (!out.ok()) return Fail(out.error());
          return Response::Json(202, *out).Header("Location", "/api/reports/" + id);
        },
        {.summary = "Demander le compte rendu d'un enregistrement transcrit (202 ; généré par une "
                    "tâche de fond, SUMMARY_MODE)",
         .tag = "reports"});
  r.Add("GET", "/api/reports",
        [&s](Request& req) {
          auto params = ListPageParams(req);
          if (!params.ok()) return Fail(params.error());
          auto page = s.reports.List(req.principal.firm_id, params->limit, params->cursor,
                                     req.Query("meeting_id"), req.Query("recording_id"));
          return page.ok() ? Page(*page) : Fail(page.error());
        },
        {.summary = "Lister les comptes rendus (?meeting_id=, ?recording_id=)",
         .tag = "reports",
         .doc = {{"x-list", {"limit", "cursor", "meeting_id", "recording_id"}}}});
  r.Add("GET", "/api/reports/{id}",
        [&s](Request& req) {
          auto rep = s.reports.Get(req.principal.firm_id, req.Param("id"));
          return rep.ok() ? Ok(*rep) : Fail(rep.error());
        },
        {.summary = "Lire un compte rendu (en-tête, résumé, décisions, actions, extraits)",
         .tag = "reports"});
  r.Add("PATCH", "/api/reports/{id}",
        [&s](Request& req) {
          auto row = s.reports.Row(req.principal.firm_id, req.Param("id"));
          if (!row.ok()) return Fail(row.error());
          auto body = EditBody(req, {"title", "summary", "decisions", "actions", "excerpts"});
          if (!body.ok()) return Fail(body.error());
          auto expected = EditVersion(req, *body);
          if (!expected.ok()) return Fail(expected.error());
          auto rep = s.reports.Edit(req.principal, req.Param("id"), *body, *expected);
          return rep.ok() ? Ok(*rep) : Fail(rep.error());
        },
        {.summary = "Corriger le brouillon (titre, résumé, décisions, actions, extraits)",
         .tag = "reports"});
  r.Add("POST", "/api/reports/{id}/review",
        [&s](Request& req) {
          auto row = s.reports.Row(req.principal.firm_id, req.Param("id"));
          if (!row.ok()) return Fail(row.error());
          json body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
          auto expected = EditVersion(req, body);
          if (!expected.ok()) return Fail(expected.error());
          auto rep = s.reports.MarkReviewed(req.principal, req.Param("id"), *expected);
          return rep.ok() ? Ok(*rep) : Fail(rep.error());
        },
        {.summary = "Valider le compte rendu relu (il ne change plus ensuite)", .tag = "reports"});
  r.Add("POST", "/api/reports/{id}/tasks",
        [&app, &s](Request& req) {
          auto out = AcceptActions(app, s, req);
          return out.ok() ? Response::Json(201, *out) : Fail(out.error());
        },
        {.summary = "Créer les tâches des actions retenues, liées au client et au rendez-vous "
                    "(une seule tâche par action)",
         .tag = "reports",
         .doc = JsonBodyDoc({{"type", "object"},
                             {"required", {"actions"}},
                             {"properties", {{"actions", {{"type", "array"}}}}}})});
}

}  // namespace crm::api

namespace crm::api {

namespace {

Response Failed(const Error& e) { return Response::FromError(e); }

// The export's format is required: an empty body is a 422 naming it, never a silent default.
Result<std::string> FormatOf(const Request& req) {
  auto missing = [] {
    return InvalidArgument("Indiquez le format : docx ou pdf. / Give the format: docx or pdf.",
                           {{"format", "required"}});
  };
  if (req.body.empty()) return missing();
  CRM_ASSIGN_OR_RETURN(json body, req.JsonBody());
  if (!body.contains("format")) return missing();
  if (!body["format"].is_string())
    return InvalidArgument("Le format est docx ou pdf. / Format: docx or pdf.",
                           {{"format", "invalid"}});
  return body["format"].get<std::string>();
}

bool KnownTemplateKind(const std::string& kind) { return kind == "report" || kind == "transcript"; }

}  // namespace

void RegisterExportRoutes(http::Router& r, App& app, documents::DocumentServices& s) {
  auto request = [&s](const char* source) {
    return [&s, source](Request& req) {
      std::string id = req.Param("id");
      // A foreign source is 404 whatever the body says: Request checks the source first, and
      // creates nothing without a valid format.
      auto format = FormatOf(req);
      auto out = s.exports.Request(req.principal, source, id, format.ok() ? *format : "");
      if (!out.ok() && out.error().code == ErrorCode::kNotFound) return Failed(out.error());
      if (!format.ok()) return Failed(format.error());
      if (!out.ok()) return Failed(out.error());
      return Response::Json(202, *out).Header("Location",
                                              "/api/exports/" + (*out)["id"].get<std::string>());
    };
  };
  json doc =
      JsonBodyDoc({{"type", "object"},
                   {"required", {"format"}},
                   {"properties", {{"format", {{"type", "string"}, {"enum", {"docx", "pdf"}}}}}}});
  r.Add("POST", "/api/reports/{id}/exports", request("report"),
        {.summary = "Exporter un compte rendu en DOCX ou PDF (tâche de fond ; le fichier rejoint "
                    "les documents du client)",
         .tag = "exports",
         .doc = doc});
  r.Add("POST", "/api/recordings/{id}/transcript/exports", request("transcript"),
        {.summary = "Exporter une transcription en DOCX ou PDF (tâche de fond)",
         .tag = "exports",
         .doc = doc});
  r.Add("GET", "/api/exports/{id}",
        [&s](Request& req) {
          auto e = s.exports.Get(req.principal.firm_id, req.Param("id"));
          return e.ok() ? Response::Json(200, *e) : Failed(e.error());
        },
        {.summary = "État d'un export (queued, done avec document_id, failed avec la raison)",
         .tag = "exports"});

  auto sink = [&s](const Request& req,
                   std::optional<uint64_t> length) -> Result<std::unique_ptr<http::BodySink>> {
    if (!KnownTemplateKind(req.Param("kind")))
      return NotFound("Type de modèle inconnu (report, transcript). / Unknown template kind.");
    return pipeline::NewUploadSink(req, length,
                                   {s.config.data_dir + "/tmp", s.config.upload_max_bytes, true});
  };
  r.Add("PUT", "/api/templates/{kind}",
        [&s](Request& req) {
          auto file = pipeline::TakeUpload(req);
          if (!file) return Failed(Internal("upload missing"));
          auto st = s.exports.SetTemplate(req.principal, req.Param("kind"), file->path(),
                                          file->filename, file->size(), file->sha256());
          if (!st.ok()) return Failed(st.error());
          return Response::Json(200, {{"kind", req.Param("kind")},
                                      {"custom", true},
                                      {"sha256", file->sha256()},
                                      {"size_bytes", file->size()}});
        },
        {.min_role = "admin",
         .body_sink = sink,
         .summary = "Déposer le modèle DOCX du cabinet (report ou transcript ; multipart, champ "
                    "file ; {{client.name}}, {{#actions}}…{{/actions}})",
         .tag = "templates"});
  r.Add("GET", "/api/templates/{kind}",
        [&s](Request& req) {
          if (!KnownTemplateKind(req.Param("kind")))
            return Failed(NotFound("Type de modèle inconnu. / Unknown template kind."));
          std::string cleanup;
          auto path = s.exports.TemplatePath(req.principal.firm_id, req.Param("kind"), &cleanup);
          if (!path.ok()) return Failed(path.error());
          std::string bytes;
          {
            std::ifstream in(*path, std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), {});
          }
          if (!cleanup.empty()) std::remove(cleanup.c_str());
          Response res = Response::Text(200, std::move(bytes), documents::kDocx);
          res.Header("Content-Disposition",
                     "attachment; filename=\"modele-" + req.Param("kind") + ".docx\"");
          return res;
        },
        {.summary = "Télécharger le modèle en usage (celui du cabinet, sinon celui par défaut)",
         .tag = "templates"});
  r.Add("DELETE", "/api/templates/{kind}",
        [&s](Request& req) {
          if (!KnownTemplateKind(req.Param("kind")))
            return Failed(NotFound("Type de modèle inconnu. / Unknown template kind."));
          auto st = s.exports.ResetTemplate(req.principal, req.Param("kind"));
          return st.ok() ? Response::NoContent() : Failed(st.error());
        },
        {.min_role = "admin", .summary = "Revenir au modèle par défaut", .tag = "templates"});
}

}  // namespace crm::api
