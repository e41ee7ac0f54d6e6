#include "documents/export_job.h"

#include <filesystem>

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "documents/docx_template.h"
#include "documents/report.h"
#include "documents/sniff.h"
#include "domain/audit.h"
#include "domain/transcripts.h"
#include "storage/pages.h"

namespace crm::documents {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kExportsTable = "document_exports";

Error ExportNotFound() { return NotFound("Cet export est introuvable. / Export not found."); }

json ExportToJson(const storage::Row& r) {
  json j = {{"id", r.Text("id")},
            {"source", r.Text("source")},
            {"source_id", r.Text("source_id")},
            {"format", r.Text("format")},
            {"status", r.Text("status")},
            {"document_id", r.IsNull("document_id") ? json(nullptr) : json(r.Text("document_id"))},
            {"download_url", r.IsNull("document_id")
                                 ? json(nullptr)
                                 : json("/api/documents/" + r.Text("document_id") + "/download")},
            {"job_id", r.IsNull("job_id") ? json(nullptr) : json(r.Text("job_id"))},
            {"error", nullptr},
            {"created_at", r.Text("created_at")},
            {"updated_at", r.Text("updated_at")}};
  if (!r.IsNull("error_code"))
    j["error"] = {{"code", r.Text("error_code")}, {"message", r.Text("error_message")}};
  return j;
}

// A file name from a title: path separators and control characters out.
std::string FileName(const std::string& title, const std::string& date, const std::string& ext) {
  std::string base;
  for (unsigned char c : title + (date.size() >= 10 ? " " + date.substr(0, 10) : ""))
    base += (c < 0x20 || c == '/' || c == '\\' || c == ':') ? ' ' : static_cast<char>(c);
  base = Trim(base);
  if (base.size() > 200) base.resize(200);
  while (!base.empty() && (static_cast<unsigned char>(base.back()) & 0xC0) == 0x80)
    base.pop_back();  // never cut inside a character
  if (!base.empty() && static_cast<unsigned char>(base.back()) >= 0xC0) base.pop_back();
  return (base.empty() ? "export" : base) + "." + ext;
}

}  // namespace

Result<json> ExportService::Request(const Principal& who, const std::string& source,
                                    const std::string& source_id, const std::string& format) {
  // The source first: a foreign one is 404 whatever the body says.
  const char* sql = source == "report"
                        ? "SELECT status FROM meeting_reports WHERE firm_id = ? AND id = ?"
                        : "SELECT id AS status FROM recordings WHERE firm_id = ? AND id = ?";
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne(sql, {who.firm_id, source_id}));
  if (!row)
    return NotFound(source == "report"
                        ? "Ce compte rendu est introuvable. / Report not found."
                        : "Cet enregistrement est introuvable. / Recording not found.");
  if (format != "docx" && format != "pdf")
    return InvalidArgument("Format : docx ou pdf. / Format: docx or pdf.", {{"format", "invalid"}});
  if (source == "report" && row->Text("status") != "draft" && row->Text("status") != "reviewed")
    return Error(ErrorCode::kConflict, "Le compte rendu n'est pas prêt. / The report is not ready.",
                 {{"status", row->Text("status")}}, "report_not_ready");
  std::string id = NewId(), now = NowIsoUtc();
  CRM_TRY(store_.Exec(
      "INSERT INTO document_exports (id, firm_id, source, source_id, format, "
      "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {id, who.firm_id, source, source_id, format,
       who.user_id.empty() ? storage::Value(storage::Null{}) : storage::Value(who.user_id), now,
       now}));
  jobs::EnqueueOptions eo;
  eo.dedupe_key = "export:" + id;
  CRM_ASSIGN_OR_RETURN(
      std::string job,
      queue_.Enqueue(kExportJobKind, who.firm_id,
                     {{"export_id", id}, {"user_id", who.user_id}, {"api_key_id", who.api_key_id}},
                     eo));
  CRM_TRY(store_.Exec("UPDATE document_exports SET job_id = ? WHERE id = ?", {job, id}));
  return Get(who.firm_id, id);
}

Result<json> ExportService::Get(const std::string& firm_id, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(auto row, storage::FirmRow(store_, kExportsTable, firm_id, id));
  if (!row) return ExportNotFound();
  return ExportToJson(*row);
}

Result<std::string> ExportService::TemplatePath(const std::string& firm_id, const std::string& kind,
                                                std::string* cleanup) {
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne("SELECT blob_key FROM document_templates WHERE "
                                                 "firm_id = ? AND kind = ?",
                                                 {firm_id, kind}));
  if (row) {
    std::string copy = options_.tmp_dir + "/template-" + RandomHex(8) + ".docx";
    CRM_TRY(blobs::CopyToFile(blobs_, row->Text("blob_key"), copy));
    *cleanup = copy;
    return copy;
  }
  std::string path = options_.tmp_dir + "/template-" + RandomHex(8) + ".docx";
  CRM_TRY(kind == "report" ? WriteDefaultReportTemplate(path)
                           : WriteDefaultTranscriptTemplate(path));
  *cleanup = path;
  return path;
}

Status ExportService::SetTemplate(const Principal& who, const std::string& kind,
                                  const std::string& path, const std::string& original_name,
                                  int64_t size, const std::string& sha256) {
  CRM_ASSIGN_OR_RETURN(Sniffed type, SniffFile(path));
  if (type.content_type != kDocx)
    return Error(ErrorCode::kUnsupportedMediaType,
                 "Le modèle doit être un fichier Word (.docx). / The template must be a Word file "
                 "(.docx).",
                 {{"file", "not_docx"}}, "unsupported_media_type");
  // A template that cannot be filled is refused now, not at the first export.
  std::string probe = options_.tmp_dir + "/template-check-" + RandomHex(8) + ".docx";
  Status rendered = RenderDocx(path, json::object(), probe);
  std::error_code ec;
  fs::remove(probe, ec);
  CRM_TRY(rendered);
  std::string key = "templates/" + who.firm_id + "/" + kind + "-" + NewId();
  // Stored at its final key before its row exists; deleted if the row cannot be written.
  if (Status put = blobs_.Put(key, path); !put.ok()) {
    (void)blobs_.Delete(key);
    return put;
  }
  std::string old_key;
  Status st = store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto old, c.QueryOne("SELECT blob_key FROM document_templates WHERE "
                                              "firm_id = ? AND kind = ?",
                                              {who.firm_id, kind}));
    if (old) old_key = old->Text("blob_key");
    CRM_TRY(c.Exec("DELETE FROM document_templates WHERE firm_id = ? AND kind = ?",
                   {who.firm_id, kind}));
    CRM_TRY(
        c.Exec("INSERT INTO document_templates (firm_id, kind, blob_key, original_name, "
               "size_bytes, sha256, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               {who.firm_id, kind, key, original_name, size, sha256,
                who.user_id.empty() ? storage::Value(storage::Null{}) : storage::Value(who.user_id),
                NowIsoUtc()}));
    CRM_TRY(domain::AuditIn(c, who, "template.uploaded", "template", kind,
                            {{"sha256", sha256}, {"size_bytes", size}}));
    return OkStatus();
  });
  if (!st.ok()) {
    (void)blobs_.Delete(key);
    return st;
  }
  if (!old_key.empty()) (void)blobs_.Delete(old_key);
  return OkStatus();
}

Status ExportService::ResetTemplate(const Principal& who, const std::string& kind) {
  std::string old_key;
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto old, c.QueryOne("SELECT blob_key FROM document_templates WHERE "
                                              "firm_id = ? AND kind = ?",
                                              {who.firm_id, kind}));
    if (!old) return OkStatus();
    old_key = old->Text("blob_key");
    CRM_TRY(c.Exec("DELETE FROM document_templates WHERE firm_id = ? AND kind = ?",
                   {who.firm_id, kind}));
    return domain::AuditIn(c, who, "template.reset", "template", kind);
  }));
  if (!old_key.empty()) (void)blobs_.Delete(old_key);
  return OkStatus();
}

Result<ExportService::Rendered> ExportService::Prepare(const std::string& firm,
                                                       const std::string& source,
                                                       const std::string& source_id) {
  Rendered r;
  if (source == "report") {
    CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne("SELECT * FROM meeting_reports WHERE firm_id "
                                                   "= ? AND id = ?",
                                                   {firm, source_id}));
    if (!row) return NotFound("Ce compte rendu a été supprimé. / The report was deleted.");
    json report = ReportRowToJson(*row);
    r.owner = {row->Text("client_id"), row->OptText("meeting_id")};
    r.context = ReportTemplateContext(report);
    r.name =
        FileName(report.value("title", "Compte rendu"),
                 report["header"].is_object() ? report["header"].value("date", "") : "", "docx");
    return r;
  }
  CRM_ASSIGN_OR_RETURN(auto rec, store_.QueryOne("SELECT r.*, c.name AS client_name, m.title AS "
                                                 "meeting_title, m.starts_at FROM recordings r "
                                                 "JOIN clients c ON c.id = r.client_id LEFT JOIN "
                                                 "meetings m ON m.id = r.meeting_id WHERE "
                                                 "r.firm_id = ? AND r.id = ?",
                                                 {firm, source_id}));
  if (!rec) return NotFound("Cet enregistrement a été supprimé. / The recording was deleted.");
  CRM_ASSIGN_OR_RETURN(auto t, domain::GetStoredTranscript(store_, firm, source_id));
  std::string subject = !rec->Text("meeting_title").empty() ? rec->Text("meeting_title")
                        : !rec->Text("title").empty()       ? rec->Text("title")
                                                            : rec->Text("client_name");
  std::string date = !rec->IsNull("starts_at") ? rec->Text("starts_at") : rec->Text("created_at");
  json segments = json::array();
  for (const auto& s : t.segments)
    segments.push_back({{"time", ClockTime(s.start)},
                        {"start", s.start},
                        {"speaker", s.speaker_name.empty() ? s.speaker : s.speaker_name},
                        {"text", s.text}});
  r.owner = {rec->Text("client_id"), rec->OptText("meeting_id")};
  r.context = {{"title", "Transcription — " + subject},
               {"client", rec->Text("client_name")},
               {"date_text", FrenchDate(date)},
               {"segments", segments}};
  r.name = FileName("Transcription " + subject, date, "docx");
  return r;
}

jobs::Handler ExportService::Handler() {
  return [this](jobs::JobContext& ctx) { return Run(ctx); };
}

Result<jobs::ResultWriter> ExportService::Run(jobs::JobContext& ctx) {
  const json& p = ctx.payload();
  if (!ctx.job().firm_id || !p.contains("export_id") || !p["export_id"].is_string())
    return Error(ErrorCode::kInvalidArgument, "export job payload is incomplete");
  std::string firm = *ctx.job().firm_id, id = p["export_id"].get<std::string>();
  CRM_ASSIGN_OR_RETURN(auto row, storage::FirmRow(store_, kExportsTable, firm, id));
  if (!row || !row->IsNull("document_id")) return jobs::ResultWriter{};  // gone, or done already
  auto fail = [firm, id](const Error& e) {
    return jobs::ResultWriter([firm, id, e](storage::Connection& c) -> Status {
      CRM_TRY(
          c.Exec("UPDATE document_exports SET status = 'failed', error_code = ?, "
                 "error_message = ?, updated_at = ? WHERE firm_id = ? AND id = ?",
                 {e.CodeName(), e.message, NowIsoUtc(), firm, id}));
      return OkStatus();
    });
  };
  std::string source = row->Text("source"), format = row->Text("format");
  auto prepared = Prepare(firm, source, row->Text("source_id"));
  if (!prepared.ok()) {
    if (prepared.error().code == ErrorCode::kNotFound) return fail(prepared.error());
    return prepared.take_error();
  }
  std::string cleanup_template;
  CRM_ASSIGN_OR_RETURN(std::string tpl, TemplatePath(firm, source, &cleanup_template));
  std::string base = options_.tmp_dir + "/export-" + id + "-" + RandomHex(4);
  struct Cleanup {
    std::vector<std::string> paths;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& p : paths) fs::remove(p, ec);
    }
  } cleanup{{cleanup_template, base + ".docx", base + ".pdf"}};
  ctx.ReportProgress(0.2, "rendering");
  Status rendered = RenderDocx(tpl, prepared->context, base + ".docx");
  if (!rendered.ok()) return fail(rendered.error());
  std::string out = base + ".docx", name = prepared->name;
  std::string type = kDocx;
  if (format == "pdf") {
    ctx.ReportProgress(0.4, "converting");
    PdfOptions po = options_.pdf;
    po.cancelled = [&ctx] { return ctx.Cancelled(); };
    Status converted = ConvertToPdf(base + ".docx", base + ".pdf", po);
    if (!converted.ok()) {
      if (converted.error().code == ErrorCode::kCancelled) return converted.take_error();
      // A converter that is down may be back for the next attempt; the last one records why.
      if (ctx.job().attempt < ctx.job().max_attempts) return converted.take_error();
      return fail(converted.error());
    }
    out = base + ".pdf";
    name = name.substr(0, name.size() - 5) + ".pdf";
    type = kPdf;
  }
  ctx.ReportProgress(0.8, "storing");
  std::error_code ec;
  int64_t size = static_cast<int64_t>(fs::file_size(out, ec));
  if (ec) return IoError("export output missing");
  Sha256 hash;
  {
    std::FILE* f = std::fopen(out.c_str(), "rb");
    if (!f) return IoError("export output unreadable");
    std::vector<char> buf(1 << 16);
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) hash.Update(buf.data(), n);
    std::fclose(f);
  }
  const std::string doc_id = NewId();
  const std::string key = DocumentUploadKey(firm, doc_id);
  if (Status put = blobs_.Put(key, out); !put.ok()) {
    (void)blobs_.Delete(key);
    return put.take_error();
  }
  Principal who;
  who.authenticated = true;
  who.firm_id = firm;
  who.user_id = p.value("user_id", "");
  who.api_key_id = p.value("api_key_id", "");
  who.role = "member";
  DocumentFile file{name, type, size, hash.FinishHex()};
  auto doc = documents_.Create(who, prepared->owner, name, file, doc_id, key);
  if (!doc.ok()) {
    (void)blobs_.Delete(key);
    return doc.take_error();
  }
  // Recorded at once, so a retried attempt does not store a second copy.
  CRM_TRY(store_.Exec("UPDATE document_exports SET document_id = ?, updated_at = ? WHERE id = ?",
                      {doc_id, NowIsoUtc(), id}));
  if (auto job = text_job_.Enqueue(queue_, firm, doc_id, 1); !job.ok())
    log::Warn("exported document's text not queued", {{"document_id", doc_id}});
  return jobs::ResultWriter([firm, id](storage::Connection& c) -> Status {
    CRM_TRY(
        c.Exec("UPDATE document_exports SET status = 'done', error_code = NULL, "
               "error_message = NULL, updated_at = ? WHERE firm_id = ? AND id = ?",
               {NowIsoUtc(), firm, id}));
    return OkStatus();
  });
}

}  // namespace crm::documents
