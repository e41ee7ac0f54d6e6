#include "documents/report_store.h"

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "domain/audit.h"
#include "domain/transcripts.h"
#include "storage/pages.h"

namespace crm::documents {

using nlohmann::json;

namespace {

constexpr const char* kReportsTable = "meeting_reports";

Error ReportNotFound() {
  return NotFound("Ce compte rendu est introuvable. / Meeting report not found.");
}

Error Stale(int64_t current) {
  return Error(ErrorCode::kConflict,
               "Le compte rendu a été modifié entre-temps ; rechargez-le. / The report was "
               "changed meanwhile; reload it.",
               {{"version", current}}, "conflict");
}

Error NotDraft(const std::string& status) {
  return Error(ErrorCode::kConflict,
               "Seul un brouillon de compte rendu peut être modifié (état : " + status +
                   "). / Only a draft report can be changed (state: " + status + ").",
               {{"status", status}}, "report_not_draft");
}

// Names of a meeting's participants from its JSON column ([{"name"} | {"user_id"} | ...]).
std::vector<std::string> ParticipantNames(storage::Store& store, const std::string& firm,
                                          const std::string& raw) {
  std::vector<std::string> out;
  json list = json::parse(raw, nullptr, false);
  if (!list.is_array()) return out;
  for (const auto& p : list) {
    if (!p.is_object()) continue;
    if (p.contains("name") && p["name"].is_string()) {
      out.push_back(p["name"].get<std::string>());
    } else if (p.contains("user_id") && p["user_id"].is_string()) {
      auto u = store.QueryOne("SELECT name, email FROM users WHERE firm_id = ? AND id = ?",
                              {firm, p["user_id"].get<std::string>()});
      if (u.ok() && *u)
        out.push_back((*u)->Text("name").empty() ? (*u)->Text("email") : (*u)->Text("name"));
    } else if (p.contains("contact_id") && p["contact_id"].is_string()) {
      auto c = store.QueryOne("SELECT * FROM contacts WHERE firm_id = ? AND id = ?",
                              {firm, p["contact_id"].get<std::string>()});
      if (c.ok() && *c) {
        json row = (*c)->ToJson();
        std::string name;
        for (const char* k : {"name", "first_name", "last_name"})
          if (row.contains(k) && row[k].is_string())
            name += (name.empty() ? "" : " ") + row[k].get<std::string>();
        if (!name.empty()) out.push_back(name);
      }
    }
  }
  return out;
}

}  // namespace

json ReportRowToJson(const storage::Row& row) {
  json content = json::parse(row.Text("content"), nullptr, false);
  if (content.is_discarded()) content = json::object();
  json j = {
      {"id", row.Text("id")},
      {"client_id", row.Text("client_id")},
      {"meeting_id", row.IsNull("meeting_id") ? json(nullptr) : json(row.Text("meeting_id"))},
      {"recording_id", row.IsNull("recording_id") ? json(nullptr) : json(row.Text("recording_id"))},
      {"mode", row.Text("mode")},
      {"status", row.Text("status")},
      {"error", nullptr},
      {"job_id", row.IsNull("job_id") ? json(nullptr) : json(row.Text("job_id"))},
      {"reviewed_at", row.IsNull("reviewed_at") ? json(nullptr) : json(row.Text("reviewed_at"))},
      {"created_at", row.Text("created_at")},
      {"updated_at", row.Text("updated_at")},
      {"version", row.Int("version")}};
  if (!row.IsNull("error_code"))
    j["error"] = {{"code", row.Text("error_code")}, {"message", row.Text("error_message")}};
  for (const char* k : {"title", "header", "summary", "decisions", "actions", "excerpts"})
    j[k] = content.contains(k) ? content[k] : json(nullptr);
  return j;
}

Result<json> ReportStore::Create(const Principal& who, const std::string& recording_id,
                                 const std::string& mode) {
  CRM_ASSIGN_OR_RETURN(auto rec, store_.QueryOne("SELECT client_id, meeting_id FROM recordings "
                                                 "WHERE firm_id = ? AND id = ?",
                                                 {who.firm_id, recording_id}));
  if (!rec) return NotFound("Cet enregistrement est introuvable. / Recording not found.");
  auto t = store_.QueryOne(
      "SELECT 1 AS x FROM transcript_segments WHERE firm_id = ? AND "
      "recording_id = ? LIMIT 1",
      {who.firm_id, recording_id});
  if (!t.ok()) return t.take_error();
  if (!*t)
    return Error(ErrorCode::kConflict,
                 "Cet enregistrement n'a pas encore de transcription. / This recording has no "
                 "transcript yet.",
                 nullptr, "transcript_not_ready");
  std::string id = NewId(), now = NowIsoUtc();
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_TRY(
        c.Exec("INSERT INTO meeting_reports (id, firm_id, client_id, meeting_id, recording_id, "
               "mode, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               {id, who.firm_id, rec->Text("client_id"), storage::Opt(rec->OptText("meeting_id")),
                recording_id, mode,
                who.user_id.empty() ? storage::Value(storage::Null{}) : storage::Value(who.user_id),
                now, now}));
    return domain::AuditIn(c, who, "report.requested", "meeting_report", id,
                           {{"recording_id", recording_id}, {"mode", mode}});
  }));
  return Get(who.firm_id, id);
}

Result<storage::Row> ReportStore::Row(const std::string& firm_id, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(auto row, storage::FirmRow(store_, kReportsTable, firm_id, id));
  if (!row) return ReportNotFound();
  return *row;
}

Result<json> ReportStore::Get(const std::string& firm_id, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(auto row, Row(firm_id, id));
  return ReportRowToJson(row);
}

Result<storage::Page> ReportStore::List(const std::string& firm_id, int limit,
                                        const std::string& cursor,
                                        const std::optional<std::string>& meeting_id,
                                        const std::optional<std::string>& recording_id) {
  return storage::FirmPage(store_,
                           {kReportsTable,
                            firm_id,
                            {{"meeting_id", meeting_id}, {"recording_id", recording_id}},
                            limit,
                            cursor},
                           ReportRowToJson);
}

Result<json> ReportStore::Edit(const Principal& who, const std::string& id, const json& edits,
                               std::optional<int64_t> expected) {
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne("SELECT status, content, version FROM "
                                              "meeting_reports WHERE firm_id = ? AND id = ?",
                                              {who.firm_id, id}));
    if (!row) return ReportNotFound();
    if (expected && *expected != row->Int("version")) return Stale(row->Int("version"));
    if (row->Text("status") != "draft") return NotDraft(row->Text("status"));
    json content = json::parse(row->Text("content"), nullptr, false);
    if (!content.is_object()) content = json::object();
    json merged = content;
    for (const char* k : {"title", "summary", "decisions", "actions", "excerpts"})
      if (edits.contains(k)) merged[k] = edits[k];
    // Validated through the report's own reader, then stored in its canonical form.
    CRM_ASSIGN_OR_RETURN(Report r, ReportFromJson(merged));
    if (edits.contains("title")) {
      if (!edits["title"].is_string() || edits["title"].get<std::string>().size() > 300)
        return InvalidArgument("Titre invalide. / Invalid title.", {{"title", "invalid"}});
      r.title = edits["title"].get<std::string>();
    }
    CRM_TRY(
        c.Exec("UPDATE meeting_reports SET content = ?, updated_at = ?, version = version + 1 "
               "WHERE firm_id = ? AND id = ?",
               {ReportToJson(r).dump(), NowIsoUtc(), who.firm_id, id}));
    return domain::AuditIn(c, who, "report.edited", "meeting_report", id);
  }));
  return Get(who.firm_id, id);
}

Result<json> ReportStore::MarkReviewed(const Principal& who, const std::string& id,
                                       std::optional<int64_t> expected) {
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne("SELECT status, version FROM meeting_reports "
                                              "WHERE firm_id = ? AND id = ?",
                                              {who.firm_id, id}));
    if (!row) return ReportNotFound();
    if (expected && *expected != row->Int("version")) return Stale(row->Int("version"));
    if (row->Text("status") == "reviewed") return OkStatus();
    if (row->Text("status") != "draft") return NotDraft(row->Text("status"));
    std::string now = NowIsoUtc();
    CRM_TRY(
        c.Exec("UPDATE meeting_reports SET status = 'reviewed', reviewed_by = ?, "
               "reviewed_at = ?, updated_at = ?, version = version + 1 WHERE firm_id = ? "
               "AND id = ?",
               {who.user_id.empty() ? storage::Value(storage::Null{}) : storage::Value(who.user_id),
                now, now, who.firm_id, id}));
    return domain::AuditIn(c, who, "report.reviewed", "meeting_report", id);
  }));
  return Get(who.firm_id, id);
}

Status ReportStore::SetJob(const std::string& firm_id, const std::string& id,
                           const std::string& job_id) {
  CRM_TRY(store_.Exec("UPDATE meeting_reports SET job_id = ? WHERE firm_id = ? AND id = ?",
                      {job_id, firm_id, id}));
  return OkStatus();
}

Result<std::optional<std::string>> ReportStore::TaskOfAction(const std::string& firm_id,
                                                             const std::string& id, int index) {
  CRM_ASSIGN_OR_RETURN(auto row,
                       store_.QueryOne("SELECT r.task_id FROM report_tasks r JOIN tasks t ON "
                                       "t.id = r.task_id WHERE r.firm_id = ? AND r.report_id = ? "
                                       "AND r.action_index = ?",
                                       {firm_id, id, int64_t{index}}));
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(row->Text("task_id"));
}

Status ReportStore::LinkTask(const std::string& firm_id, const std::string& id, int index,
                             const std::string& task_id) {
  CRM_TRY(
      store_.Exec("INSERT INTO report_tasks (report_id, action_index, firm_id, task_id, "
                  "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (report_id, action_index) "
                  "DO UPDATE SET task_id = excluded.task_id",
                  {id, int64_t{index}, firm_id, task_id, NowIsoUtc()}));
  return OkStatus();
}

Result<ReportInput> ReportStore::InputFor(const std::string& firm_id,
                                          const std::string& report_id) {
  CRM_ASSIGN_OR_RETURN(auto row, Row(firm_id, report_id));
  if (row.IsNull("recording_id"))
    return NotFound(
        "L'enregistrement du compte rendu a été supprimé. / The report's recording "
        "was deleted.");
  ReportInput in;
  in.recording_id = row.Text("recording_id");
  CRM_ASSIGN_OR_RETURN(auto firm,
                       store_.QueryOne("SELECT name FROM firms WHERE id = ?", {firm_id}));
  if (firm) in.firm_name = firm->Text("name");
  CRM_ASSIGN_OR_RETURN(auto client, store_.QueryOne("SELECT name FROM clients WHERE firm_id = ? "
                                                    "AND id = ?",
                                                    {firm_id, row.Text("client_id")}));
  if (client) in.client_name = client->Text("name");
  CRM_ASSIGN_OR_RETURN(auto rec, store_.QueryOne("SELECT created_at, language FROM recordings "
                                                 "WHERE firm_id = ? AND id = ?",
                                                 {firm_id, in.recording_id}));
  if (rec) in.meeting_date = rec->Text("created_at");
  if (!row.IsNull("meeting_id")) {
    CRM_ASSIGN_OR_RETURN(auto m, store_.QueryOne("SELECT title, starts_at, participants FROM "
                                                 "meetings WHERE firm_id = ? AND id = ?",
                                                 {firm_id, row.Text("meeting_id")}));
    if (m) {
      in.meeting_title = m->Text("title");
      in.meeting_date = m->Text("starts_at");
      in.participants = ParticipantNames(store_, firm_id, m->Text("participants"));
    }
  }
  CRM_ASSIGN_OR_RETURN(auto t, domain::GetStoredTranscript(store_, firm_id, in.recording_id));
  in.language = t.language.empty() ? "fr" : t.language;
  for (const auto& s : t.segments) {
    std::string who = !s.speaker_name.empty() ? s.speaker_name : s.speaker;
    in.segments.push_back({s.id, s.start, s.end, who, s.text});
  }
  // Speakers named in the transcript are participants too, when the meeting lists none.
  if (in.participants.empty())
    for (const auto& label : t.speakers) {
      auto it = t.speaker_names.find(label);
      in.participants.push_back(it != t.speaker_names.end() ? it->second : label);
    }
  return in;
}

Result<std::string> ReportJob::Enqueue(jobs::JobQueue& queue, const std::string& firm_id,
                                       const std::string& report_id) {
  jobs::EnqueueOptions eo;
  eo.dedupe_key = "report:" + report_id;
  CRM_ASSIGN_OR_RETURN(std::string job_id,
                       queue.Enqueue(kReportJobKind, firm_id, {{"report_id", report_id}}, eo));
  CRM_TRY(reports_.SetJob(firm_id, report_id, job_id));
  return job_id;
}

jobs::Handler ReportJob::Handler() {
  return [this](jobs::JobContext& ctx) { return Run(ctx); };
}

Result<jobs::ResultWriter> ReportJob::Run(jobs::JobContext& ctx) {
  const auto& p = ctx.payload();
  if (!ctx.job().firm_id || !p.contains("report_id") || !p["report_id"].is_string())
    return Error(ErrorCode::kInvalidArgument, "report job payload is incomplete");
  std::string firm = *ctx.job().firm_id, id = p["report_id"].get<std::string>();
  auto write_failure = [firm, id](const Error& e) {
    return jobs::ResultWriter([firm, id, e](storage::Connection& c) -> Status {
      CRM_TRY(
          c.Exec("UPDATE meeting_reports SET status = 'failed', error_code = ?, "
                 "error_message = ?, updated_at = ? WHERE firm_id = ? AND id = ? AND status "
                 "= 'generating'",
                 {e.CodeName(), e.message, NowIsoUtc(), firm, id}));
      return OkStatus();
    });
  };
  auto in = reports_.InputFor(firm, id);
  if (!in.ok()) {
    if (in.error().code == ErrorCode::kNotFound) return write_failure(in.error());
    return in.take_error();
  }
  ctx.ReportProgress(0.2, "summarising");
  Result<Report> report = Error(ErrorCode::kInternal, "no report");
  if (options_.mode == "openai") {
    OpenAiReportOptions o = options_.openai;
    o.progress.on_progress = [&ctx](double f) {
      ctx.ReportProgress(0.2 + 0.75 * f, "summarising");
    };
    o.progress.is_cancelled = [&ctx] { return ctx.Cancelled(); };
    report = OpenAiReport(*in, o);
    // A cancelled job is stopped, not failed: the queue decides what happens to it.
    if (!report.ok() && report.error().code == ErrorCode::kCancelled) return report.take_error();
  } else if (options_.mode == "extractive") {
    report = ExtractiveReport(*in, options_.extractive);
  } else {
    report = Error(ErrorCode::kUnavailable,
                   "Ce mode de résumé n'est pas disponible : " + options_.mode +
                       ". / This summary mode is not available: " + options_.mode,
                   nullptr, "summary_mode_unavailable");
  }
  if (!report.ok()) return write_failure(report.error());
  std::string content = ReportToJson(*report).dump();
  return jobs::ResultWriter([firm, id, content](storage::Connection& c) -> Status {
    CRM_TRY(
        c.Exec("UPDATE meeting_reports SET status = 'draft', content = ?, error_code = NULL, "
               "error_message = NULL, updated_at = ?, version = version + 1 WHERE firm_id = ? "
               "AND id = ? AND status = 'generating'",
               {content, NowIsoUtc(), firm, id}));
    return OkStatus();
  });
}

}  // namespace crm::documents
