#include "mail/outbox.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "domain/audit.h"
#include "mail/mime.h"

namespace crm::mail {

using nlohmann::json;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error MailNotFound() { return NotFound("Ce message est introuvable. / Mail not found."); }

storage::Value OptValue(const std::optional<std::string>& v) { return storage::Opt(v); }

storage::Value TextOrNull(const std::string& v) {
  return v.empty() ? storage::Value(storage::Null{}) : storage::Value(v);
}

std::string Domain(const std::string& address) {
  auto at = address.rfind('@');
  return at == std::string::npos ? "crm-ai.local" : address.substr(at + 1);
}

// The firm condition of a read: "m.firm_id = ?" for a firm, nothing for the platform.
void Scoped(const MailScope& scope, const char* column, std::string& sql, storage::Params& p) {
  if (!scope) return;
  sql += std::string(" AND ") + column + " = ?";
  p.push_back(*scope);
}

json Addresses(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_array() ? j : json::array();
}

constexpr const char* kStatuses[] = {"queued", "sending", "sent", "failed", "kept"};

}  // namespace

std::string AttachmentBlobKey(const std::optional<std::string>& firm_id, const std::string& mail_id,
                              const std::string& attachment_id) {
  return "mail/" + firm_id.value_or("platform") + "/" + mail_id + "/" + attachment_id;
}

MailOptions MailOptionsFromConfig(const config::Config& c) {
  MailOptions o;
  o.mailer = c.mail_mailer;
  o.from_address = c.mail_from_address;
  o.from_name = c.mail_from_name;
  o.app_url = c.app_url;
  o.smtp.host = c.mail_host;
  o.smtp.port = c.mail_port;
  o.smtp.username = c.mail_username;
  o.smtp.password = c.mail_password;
  o.smtp.encryption = c.mail_encryption;
  o.smtp.ca_file = c.mail_ca_file;
  o.smtp.connect_timeout_seconds = c.mail_connect_timeout;
  o.smtp.timeout_seconds = c.mail_timeout;
  o.tries = c.mail_tries;
  o.retry_seconds = c.mail_retry_seconds;
  o.reminder_interval = c.mail_reminder_interval;
  return o;
}

MailService::MailService(storage::Store& store, blobs::BlobStore& blobs, jobs::JobQueue& queue,
                         documents::ExportService& exports, MailOptions options)
    : store_(store),
      blobs_(blobs),
      queue_(queue),
      exports_(exports),
      options_(std::move(options)) {}

MailService::~MailService() { StopTicker(); }

Result<std::string> MailService::WriteIn(storage::Connection& c, const NewMail& m) {
  if (m.to.empty() || m.to.size() > 50)
    return InvalidArgument("Indiquez de 1 à 50 destinataires. / Give 1 to 50 recipients.",
                           {{"to", "required"}});
  json to = json::array(), cc = json::array();
  for (const auto& a : m.to) {
    CRM_ASSIGN_OR_RETURN(std::string checked, CheckAddress(a, "to"));
    to.push_back(checked);
  }
  for (const auto& a : m.cc) {
    CRM_ASSIGN_OR_RETURN(std::string checked, CheckAddress(a, "cc"));
    cc.push_back(checked);
  }
  CRM_TRY(CheckHeaderValue(m.content.subject, "subject"));
  std::optional<std::string> reply_to;
  if (!m.reply_to.empty()) {
    CRM_TRY(CheckHeaderValue(m.reply_to, "reply_to"));
    CRM_ASSIGN_OR_RETURN(std::string checked, CheckAddress(m.reply_to, "reply_to"));
    reply_to = checked;
  }
  std::string id = NewId(), now = NowIsoUtc();
  std::string message_id =
      "<" + id + "." + RandomHex(4) + "@" + Domain(options_.from_address) + ">";
  CRM_TRY(
      c.Exec("INSERT INTO mail_outbox (id, firm_id, client_id, kind, to_addresses, "
             "cc_addresses, reply_to, subject, html_body, text_body, language, status, "
             "attempts, max_attempts, next_attempt_at, report_id, user_id, task_id, export_id, "
             "message_id, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
             "?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             {id,
              OptValue(m.firm_id),
              OptValue(m.client_id),
              m.kind,
              to.dump(),
              cc.dump(),
              OptValue(reply_to),
              m.content.subject,
              m.content.html,
              m.content.text,
              m.language,
              int64_t{options_.tries},
              NowMs(),
              OptValue(m.report_id),
              OptValue(m.user_id),
              OptValue(m.task_id),
              OptValue(m.export_id),
              message_id,
              TextOrNull(m.created_by),
              now,
              now}));
  return id;
}

void MailService::Dispatch(const std::optional<std::string>& firm_id, const std::string& mail_id) {
  jobs::EnqueueOptions eo;
  eo.dedupe_key = "mail:" + mail_id + ":0";
  eo.timeout_seconds = options_.smtp.timeout_seconds + 60;
  auto job = queue_.Enqueue(kSendJobKind, firm_id, {{"mail_id", mail_id}}, eo);
  if (!job.ok()) {
    // The mail is kept; the next mail.tick queues it again.
    log::Warn("mail job not queued", {{"mail_id", mail_id}, {"error", job.error().message}});
    return;
  }
  (void)store_.Exec("UPDATE mail_outbox SET job_id = ? WHERE id = ?", {*job, mail_id});
}

std::string MailService::FirmLanguage(const std::optional<std::string>& firm_id) {
  if (!firm_id) return "fr";
  auto row = store_.QueryOne("SELECT settings FROM firms WHERE id = ?", {*firm_id});
  if (!row.ok() || !*row) return "fr";
  json s = json::parse((*row)->Text("settings"), nullptr, false);
  if (s.is_object() && s.contains("language") && s["language"].is_string())
    return PickLanguage(s["language"].get<std::string>());
  return "fr";
}

std::string MailService::UserLanguage(const std::optional<std::string>& firm_id,
                                      const std::string& user_id) {
  auto row = store_.QueryOne("SELECT language FROM users WHERE id = ?", {user_id});
  if (row.ok() && *row && !(*row)->IsNull("language"))
    return PickLanguage((*row)->Text("language"));
  return FirmLanguage(firm_id);
}

std::string MailService::FirmName(const std::optional<std::string>& firm_id) {
  if (!firm_id) return "crm-ai";
  auto row = store_.QueryOne("SELECT name FROM firms WHERE id = ?", {*firm_id});
  return row.ok() && *row ? (*row)->Text("name") : std::string("crm-ai");
}

std::map<std::string, json> MailService::AttachmentsOf(const std::vector<std::string>& mail_ids) {
  std::map<std::string, json> out;
  if (mail_ids.empty()) return out;
  std::string sql =
      "SELECT id, mail_id, file_name, content_type, size_bytes FROM mail_attachments WHERE "
      "mail_id IN (";
  storage::Params p;
  for (size_t i = 0; i < mail_ids.size(); ++i) {
    sql += i ? ", ?" : "?";
    p.push_back(mail_ids[i]);
  }
  auto rows = store_.Query(sql + ") ORDER BY id", p);
  if (!rows.ok()) return out;
  for (const auto& a : *rows)
    out[a.Text("mail_id")].push_back({{"id", a.Text("id")},
                                      {"file_name", a.Text("file_name")},
                                      {"content_type", a.Text("content_type")},
                                      {"size", a.Int("size_bytes")}});
  return out;
}

json MailService::ToJson(const storage::Row& r, bool bodies, bool platform_view, bool owner_view,
                         const json* attachments) {
  json atts = json::array();
  if (attachments) {
    atts = *attachments;
  } else {
    auto found = AttachmentsOf({r.Text("id")});
    if (found.count(r.Text("id"))) atts = found[r.Text("id")];
  }
  json j = {{"id", r.Text("id")},
            {"kind", r.Text("kind")},
            {"status", r.Text("status")},
            {"to", Addresses(r.Text("to_addresses"))},
            {"cc", Addresses(r.Text("cc_addresses"))},
            {"subject", r.Text("subject")},
            {"attempts", r.Int("attempts")},
            {"max_attempts", r.Int("max_attempts")},
            {"last_error", r.IsNull("last_error") ? json(nullptr) : json(r.Text("last_error"))},
            {"created_at", r.Text("created_at")},
            {"sent_at", r.IsNull("sent_at") ? json(nullptr) : json(r.Text("sent_at"))},
            {"report_id", r.IsNull("report_id") ? json(nullptr) : json(r.Text("report_id"))},
            {"language", r.Text("language")},
            {"attachments", atts}};
  if (platform_view) j["firm_id"] = r.IsNull("firm_id") ? json(nullptr) : json(r.Text("firm_id"));
  if (bodies) {
    // A password-reset link is its recipient's alone, and an invitation's is for whoever may
    // invite with that role: a firm's admin who read either could take over an account.
    std::string kind = r.Text("kind");
    bool hidden =
        !platform_view && (kind == "password_reset" || (kind == "invitation" && !owner_view));
    if (hidden) {
      j["html"] =
          "<p>Contenu masqué : ce message contient un lien personnel. / Hidden: this mail "
          "carries a personal link.</p>";
      j["text"] =
          "Contenu masqué : ce message contient un lien personnel. / Hidden: this mail "
          "carries a personal link.";
      j["redacted"] = true;
    } else {
      j["html"] = r.Text("html_body");
      j["text"] = r.Text("text_body");
    }
  }
  return j;
}

Result<json> MailService::Get(const MailScope& scope, const std::string& id, bool bodies,
                              bool platform_view, bool owner_view) {
  std::string sql = "SELECT * FROM mail_outbox WHERE id = ?";
  storage::Params p = {id};
  Scoped(scope, "firm_id", sql, p);
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne(sql, p));
  if (!row) return MailNotFound();
  return ToJson(*row, bodies, platform_view, owner_view);
}

Result<std::pair<std::vector<json>, std::optional<std::string>>> MailService::List(
    const MailScope& scope, int limit, const std::string& cursor,
    const std::optional<std::string>& status, const std::optional<std::string>& report_id,
    bool platform_view) {
  if (status && std::none_of(std::begin(kStatuses), std::end(kStatuses),
                             [&](const char* s) { return *status == s; }))
    return InvalidArgument(
        "Statut inconnu (queued, sending, sent, failed, kept). / Unknown "
        "status.",
        {{"status", "invalid"}});
  // Without the bodies: a page of 200 mails carries only what the list shows.
  std::string sql =
      "SELECT id, firm_id, kind, status, to_addresses, cc_addresses, subject, attempts, "
      "max_attempts, last_error, created_at, sent_at, report_id, language FROM mail_outbox "
      "WHERE 1 = 1";
  storage::Params p;
  Scoped(scope, "firm_id", sql, p);
  if (!cursor.empty()) {
    sql += " AND id < ?";
    p.push_back(cursor);
  }
  if (status) {
    sql += " AND status = ?";
    p.push_back(*status);
  }
  if (report_id) {
    sql += " AND report_id = ?";
    p.push_back(*report_id);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  p.push_back(int64_t{limit + 1});
  CRM_ASSIGN_OR_RETURN(auto rows, store_.Query(sql, p));
  std::vector<json> data;
  std::optional<std::string> next;
  std::vector<std::string> ids;
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i)
    ids.push_back(rows[i].Text("id"));
  auto attachments = AttachmentsOf(ids);
  const json none = json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = attachments.find(ids[i]);
    data.push_back(ToJson(rows[i], false, platform_view, false,
                          it == attachments.end() ? &none : &it->second));
  }
  if (static_cast<int>(rows.size()) > limit) next = data.back()["id"].get<std::string>();
  return std::make_pair(std::move(data), next);
}

Result<json> MailService::Retry(const Principal& who, const MailScope& scope,
                                const std::string& id) {
  std::string sql = "SELECT * FROM mail_outbox WHERE id = ?";
  storage::Params p = {id};
  Scoped(scope, "firm_id", sql, p);
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne(sql, p));
  if (!row) return MailNotFound();
  std::string status = row->Text("status");
  bool retryable = status == "failed" || (status == "kept" && options_.mailer == "smtp");
  if (!retryable)
    return Error(
        ErrorCode::kConflict,
        "Seul un message en échec peut être renvoyé (ou conservé, quand MAIL_MAILER=smtp). "
        "/ Only a failed mail can be retried (or a kept one with MAIL_MAILER=smtp).",
        {{"status", status}}, "mail_not_retryable");
  std::optional<std::string> firm = row->OptText("firm_id");
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(int64_t n,
                         c.Exec("UPDATE mail_outbox SET status = 'queued', attempts = 0, "
                                "next_attempt_at = ?, updated_at = ? WHERE id = ? AND status = ?",
                                {NowMs(), NowIsoUtc(), id, status}));
    if (n != 1)
      return Error(ErrorCode::kConflict, "Ce message vient de changer. / This mail just changed.",
                   nullptr, "mail_not_retryable");
    if (!firm) return OkStatus();
    return domain::AuditIn(c, who, "mail.retried", "mail", id);
  }));
  // Attempts start again from 0: the key of the first attempt may still name the old job.
  jobs::EnqueueOptions eo;
  eo.dedupe_key = "mail:" + id + ":retry:" + RandomHex(4);
  eo.timeout_seconds = options_.smtp.timeout_seconds + 60;
  auto job = queue_.Enqueue(kSendJobKind, firm, {{"mail_id", id}}, eo);
  if (job.ok()) (void)store_.Exec("UPDATE mail_outbox SET job_id = ? WHERE id = ?", {*job, id});
  return Get(scope, id, false, !scope);
}

Result<storage::Row> MailService::AttachmentRow(const MailScope& scope, const std::string& mail_id,
                                                const std::string& attachment_id) {
  std::string sql =
      "SELECT a.* FROM mail_attachments a JOIN mail_outbox m ON m.id = a.mail_id "
      "WHERE a.id = ? AND a.mail_id = ?";
  storage::Params p = {attachment_id, mail_id};
  Scoped(scope, "m.firm_id", sql, p);
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne(sql, p));
  if (!row) return NotFound("Cette pièce jointe est introuvable. / Attachment not found.");
  return *row;
}

Result<std::vector<std::string>> MailService::ClientAttachmentKeys(const std::string& firm_id,
                                                                   const std::string& client_id) {
  CRM_ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT a.blob_key FROM mail_attachments a JOIN "
                                               "mail_outbox m ON m.id = a.mail_id WHERE "
                                               "m.firm_id = ? AND m.client_id = ?",
                                               {firm_id, client_id}));
  std::vector<std::string> keys;
  for (const auto& r : rows) keys.push_back(r.Text("blob_key"));
  return keys;
}

// ---- the report mail ----------------------------------------------------------------------

Result<json> MailService::SendReport(const Principal& who, const std::string& report_id,
                                     const json& body) {
  CRM_ASSIGN_OR_RETURN(auto report, store_.QueryOne("SELECT r.*, c.name AS client_name FROM "
                                                    "meeting_reports r JOIN clients c ON c.id = "
                                                    "r.client_id WHERE r.firm_id = ? AND r.id = ?",
                                                    {who.firm_id, report_id}));
  if (!report) return NotFound("Ce compte rendu est introuvable. / Report not found.");
  if (!body.is_object())
    return InvalidArgument("Objet JSON attendu. / JSON object expected.", {{"body", "object"}});
  json problems = json::object();
  std::vector<std::string> to, cc;
  auto addresses = [&](const char* field, std::vector<std::string>& out, bool required) {
    if (!body.contains(field)) {
      if (required) problems[field] = "required";
      return;
    }
    const json& v = body[field];
    if (!v.is_array() || v.size() > 20 || (required && v.empty())) {
      problems[field] = required ? "must_be_1_to_20_addresses" : "must_be_0_to_20_addresses";
      return;
    }
    for (const auto& a : v) {
      if (!a.is_string()) {
        problems[field] = "must_be_strings";
        return;
      }
      auto checked = CheckAddress(a.get<std::string>(), field);
      if (!checked.ok() || !CheckHeaderValue(a.get<std::string>(), field).ok()) {
        problems[field] = "invalid_email";
        return;
      }
      out.push_back(*checked);
    }
  };
  addresses("to", to, true);
  addresses("cc", cc, false);
  std::string subject, message, language = FirmLanguage(who.firm_id);
  for (auto& [k, v] : body.items()) {
    if (k == "to" || k == "cc") continue;
    if (k != "subject" && k != "message" && k != "language") {
      problems[k] = "unknown_field";
      continue;
    }
    if (!v.is_string()) {
      problems[k] = "must_be_string";
      continue;
    }
    std::string s = v.get<std::string>();
    if (k == "subject") {
      if (s.size() > 200)
        problems[k] = "too_long";
      else if (!CheckHeaderValue(s, k).ok())
        problems[k] = "control_character";
      else
        subject = Trim(s);
    } else if (k == "message") {
      if (s.size() > 10000)
        problems[k] = "too_long";
      else if (!IsValidUtf8(s))
        problems[k] = "invalid_utf8";
      else
        message = s;
    } else {
      if (s != "fr" && s != "en")
        problems[k] = "must_be_fr_or_en";
      else
        language = s;
    }
  }
  if (!problems.empty()) {
    std::string names;
    for (auto& [k, _] : problems.items()) names += (names.empty() ? "" : ", ") + k;
    return InvalidArgument("Champs invalides : " + names + ". / Invalid fields: " + names + ".",
                           problems);
  }
  if (report->Text("status") != "reviewed")
    return Error(ErrorCode::kConflict,
                 "Relisez et validez le compte rendu avant de l'envoyer. / Review the report "
                 "before sending it.",
                 {{"status", report->Text("status")}}, "report_not_reviewed");

  // The PDF: an export of the reviewed report (queued or done), else a new one.
  CRM_ASSIGN_OR_RETURN(auto existing,
                       store_.QueryOne("SELECT e.id FROM document_exports e LEFT JOIN documents d "
                                       "ON d.id = e.document_id WHERE e.firm_id = ? AND e.source "
                                       "= 'report' AND e.source_id = ? AND e.format = 'pdf' AND "
                                       "e.created_at >= ? AND (e.status = 'queued' OR (e.status = "
                                       "'done' AND d.id IS NOT NULL)) ORDER BY e.id DESC LIMIT 1",
                                       {who.firm_id, report_id, report->Text("reviewed_at")}));
  std::string export_id;
  if (existing) {
    export_id = existing->Text("id");
  } else {
    CRM_ASSIGN_OR_RETURN(json requested, exports_.Request(who, "report", report_id, "pdf"));
    export_id = requested["id"].get<std::string>();
  }

  json content = json::parse(report->Text("content"), nullptr, false);
  ReportFacts facts;
  facts.firm_name = FirmName(who.firm_id);
  facts.client_name = report->Text("client_name");
  if (content.is_object()) {
    facts.report_title = content.value("title", "");
    if (content.contains("header") && content["header"].is_object())
      facts.meeting_date = content["header"].value("date", "");
  }
  facts.sender_name = who.name;
  facts.message = message;
  facts.subject = subject;
  NewMail m;
  m.firm_id = who.firm_id;
  m.kind = "report";
  m.to = to;
  m.cc = cc;
  m.content = ReportMail(language, facts);
  m.language = language;
  m.client_id = report->Text("client_id");
  m.report_id = report_id;
  m.export_id = export_id;
  m.created_by = who.user_id;
  m.reply_to = who.email;  // the client's answer reaches the user who sent the report
  std::string id;
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(id, WriteIn(c, m));
    return domain::AuditIn(c, who, "mail.queued", "mail", id,
                           {{"kind", "report"}, {"report_id", report_id}, {"to", to}});
  }));
  Dispatch(m.firm_id, id);
  return Get(who.firm_id, id, false);
}

// ---- sending ------------------------------------------------------------------------------

jobs::Handler MailService::SendHandler() {
  return [this](jobs::JobContext& ctx) { return Send(ctx); };
}

Status MailService::MarkFailed(const std::string& id, const std::string& error) {
  CRM_TRY(
      store_.Exec("UPDATE mail_outbox SET status = 'failed', last_error = ?, updated_at = ? "
                  "WHERE id = ? AND status IN ('queued', 'sending')",
                  {error.substr(0, 2000), NowIsoUtc(), id}));
  return OkStatus();
}

Status MailService::Requeue(const storage::Row& mail, int attempts, int64_t delay_ms,
                            const std::string& why, int wait) {
  std::string id = mail.Text("id");
  int64_t at = NowMs() + delay_ms;
  CRM_TRY(store_.Exec(
      "UPDATE mail_outbox SET status = 'queued', last_error = ?, "
      "next_attempt_at = ?, updated_at = ? WHERE id = ?",
      {why.empty() ? storage::Value(storage::Null{}) : storage::Value(why.substr(0, 2000)), at,
       NowIsoUtc(), id}));
  jobs::EnqueueOptions eo;
  eo.run_after_ms = at;
  // A wait for the PDF alternates between two keys: the running job holds one, its successor
  // takes the other, and a second chain (a sweep) merges into the first instead of doubling it.
  eo.dedupe_key = "mail:" + id + ":" +
                  (wait > 0 ? "wait:" + std::to_string(wait % 2) : std::to_string(attempts));
  eo.timeout_seconds = options_.smtp.timeout_seconds + 60;
  json payload = {{"mail_id", id}};
  if (wait > 0) payload["wait"] = wait;
  CRM_ASSIGN_OR_RETURN(std::string job,
                       queue_.Enqueue(kSendJobKind, mail.OptText("firm_id"), payload, eo));
  CRM_TRY(store_.Exec("UPDATE mail_outbox SET job_id = ? WHERE id = ?", {job, id}));
  return OkStatus();
}

Result<bool> MailService::AttachExport(const storage::Row& mail) {
  std::string id = mail.Text("id");
  std::optional<std::string> firm = mail.OptText("firm_id");
  CRM_ASSIGN_OR_RETURN(auto have, store_.QueryOne("SELECT COUNT(*) AS n FROM mail_attachments "
                                                  "WHERE mail_id = ?",
                                                  {id}));
  if (have && have->Int("n") > 0) return true;
  CRM_ASSIGN_OR_RETURN(auto e, store_.QueryOne("SELECT e.status, e.error_message, d.id AS doc, "
                                               "d.name, d.content_type, d.size_bytes, d.sha256, "
                                               "d.blob_key FROM document_exports e LEFT JOIN "
                                               "documents d ON d.id = e.document_id WHERE e.id = "
                                               "? AND e.firm_id = ?",
                                               {mail.Text("export_id"), firm.value_or("")}));
  if (!e)
    return NotFound("L'export PDF du compte rendu a disparu. / The report's PDF export is gone.");
  if (e->Text("status") == "failed")
    return Error(ErrorCode::kUnavailable,
                 "Le PDF du compte rendu n'a pas pu être produit : " + e->Text("error_message") +
                     " / The report's PDF could not be made.",
                 {{"retryable", false}});
  if (e->Text("status") != "done") return false;
  if (e->IsNull("doc"))
    return NotFound("Le PDF du compte rendu a été supprimé. / The report's PDF was deleted.");
  int64_t size = e->Int("size_bytes");
  if (size > options_.max_attachment_bytes)
    return Error(ErrorCode::kPayloadTooLarge,
                 "Le PDF dépasse la taille permise pour un e-mail. / "
                 "The PDF is too large for a mail.",
                 {{"retryable", false}});
  CRM_ASSIGN_OR_RETURN(std::string bytes, blobs_.ReadRange(e->Text("blob_key"), 0, size));
  std::string att = NewId();
  std::string key = AttachmentBlobKey(firm, id, att);
  std::string temp = blobs::NewTemporaryKey();
  CRM_TRY(blobs_.PutBytes(temp, bytes));
  bool moved = false;
  Status st = store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto n, c.QueryOne("SELECT COUNT(*) AS n FROM mail_attachments WHERE "
                                            "mail_id = ?",
                                            {id}));
    if (n && n->Int("n") > 0) return OkStatus();  // another attempt attached it meanwhile
    CRM_TRY(
        c.Exec("INSERT INTO mail_attachments (id, mail_id, firm_id, file_name, content_type, "
               "size_bytes, sha256, blob_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               {att, id, OptValue(firm), e->Text("name"), e->Text("content_type"),
                static_cast<int64_t>(bytes.size()), Sha256Hex(bytes), key, NowIsoUtc()}));
    CRM_TRY(blobs_.Move(temp, key));
    moved = true;
    return OkStatus();
  });
  if (!moved) (void)blobs_.Delete(temp);
  if (!st.ok()) {
    if (moved) (void)blobs_.Delete(key);
    return st.error();
  }
  return true;
}

Result<jobs::ResultWriter> MailService::Send(jobs::JobContext& ctx) {
  const json& p = ctx.payload();
  if (!p.contains("mail_id") || !p["mail_id"].is_string())
    return Error(ErrorCode::kInvalidArgument, "mail job payload is incomplete");
  std::string id = p["mail_id"].get<std::string>();
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne("SELECT * FROM mail_outbox WHERE id = ?", {id}));
  if (!row || row->OptText("firm_id") != ctx.job().firm_id) return jobs::ResultWriter{};
  std::string status = row->Text("status");
  int64_t now = NowMs();
  // A mail being sent by another attempt is left alone until that attempt's time is up.
  if (status != "queued" && !(status == "sending" && row->Int("next_attempt_at") <= now))
    return jobs::ResultWriter{};

  if (!row->IsNull("export_id")) {
    auto attached = AttachExport(*row);
    if (!attached.ok()) {
      CRM_TRY(MarkFailed(id, attached.error().message));
      return jobs::ResultWriter{};
    }
    if (!*attached) {
      if (ParseIsoTime(row->Text("created_at")).value_or(0) + options_.pdf_wait_seconds <
          NowUnix()) {
        CRM_TRY(MarkFailed(id,
                           "Le PDF du compte rendu n'est pas prêt à temps. / The report's PDF "
                           "was not ready in time."));
        return jobs::ResultWriter{};
      }
      int wait = p.contains("wait") && p["wait"].is_number_integer() ? p["wait"].get<int>() : 0;
      CRM_TRY(Requeue(*row, static_cast<int>(row->Int("attempts")), 1000, "", wait + 1));
      return jobs::ResultWriter{};
    }
  }

  if (options_.mailer != "smtp") {
    CRM_TRY(
        store_.Exec("UPDATE mail_outbox SET status = 'kept', updated_at = ? WHERE id = ? AND "
                    "status = 'queued'",
                    {NowIsoUtc(), id}));
    return jobs::ResultWriter{};
  }

  // This attempt takes the mail: another one may take it back only after this one's time.
  int64_t hold_until = now + (options_.smtp.timeout_seconds + 60) * int64_t{1000};
  CRM_ASSIGN_OR_RETURN(
      int64_t taken,
      store_.Exec("UPDATE mail_outbox SET status = 'sending', attempts = "
                  "attempts + 1, next_attempt_at = ?, job_id = ?, updated_at = ? "
                  "WHERE id = ? AND status = ? AND attempts = ?",
                  {hold_until, ctx.job().id, NowIsoUtc(), id, status, row->Int("attempts")}));
  if (taken != 1) return jobs::ResultWriter{};
  int attempts = static_cast<int>(row->Int("attempts")) + 1;

  Message m;
  m.from_address = options_.from_address;
  m.from_name = options_.from_name;
  for (const auto& a : Addresses(row->Text("to_addresses"))) m.to.push_back(a.get<std::string>());
  for (const auto& a : Addresses(row->Text("cc_addresses"))) m.cc.push_back(a.get<std::string>());
  m.subject = row->Text("subject");
  m.text = row->Text("text_body");
  m.html = row->Text("html_body");
  m.message_id = row->Text("message_id");
  m.reply_to = row->Text("reply_to");
  m.auto_generated = row->Text("kind") != "report";
  CRM_ASSIGN_OR_RETURN(auto atts, store_.Query("SELECT * FROM mail_attachments WHERE mail_id = ? "
                                               "ORDER BY id",
                                               {id}));
  for (const auto& a : atts) {
    auto bytes = blobs_.ReadRange(a.Text("blob_key"), 0, a.Int("size_bytes"));
    if (!bytes.ok()) {
      CRM_TRY(Requeue(*row, attempts, 5000, "attachment unreadable: " + bytes.error().message));
      return jobs::ResultWriter{};
    }
    m.attachments.push_back(
        {a.Text("file_name"), a.Text("content_type"), std::move(bytes).value()});
  }
  auto built = BuildMessage(m);
  if (!built.ok()) {
    CRM_TRY(MarkFailed(id, built.error().message));
    return jobs::ResultWriter{};
  }
  std::vector<std::string> rcpt = m.to;
  rcpt.insert(rcpt.end(), m.cc.begin(), m.cc.end());
  Status sent = SendSmtp(options_.smtp, options_.from_address, rcpt, *built);
  if (sent.ok()) {
    CRM_TRY(
        store_.Exec("UPDATE mail_outbox SET status = 'sent', sent_at = ?, last_error = NULL, "
                    "updated_at = ? WHERE id = ?",
                    {NowIsoUtc(), NowIsoUtc(), id}));
    log::Info("mail sent", {{"mail_id", id}, {"kind", row->Text("kind")}, {"attempt", attempts}});
    return jobs::ResultWriter{};
  }
  const Error& e = sent.error();
  bool retryable = !(e.details.is_object() && e.details.value("retryable", true) == false);
  log::Warn("mail not sent", {{"mail_id", id}, {"attempt", attempts}, {"error", e.message}});
  if (!retryable || attempts >= row->Int("max_attempts")) {
    CRM_TRY(MarkFailed(id, e.message));
    return jobs::ResultWriter{};
  }
  int64_t delay = int64_t{options_.retry_seconds} * 1000 << std::min(attempts - 1, 20);
  CRM_TRY(Requeue(*row, attempts, std::min<int64_t>(delay, 3'600'000), e.message));
  return jobs::ResultWriter{};
}

// ---- reminders and the sweep --------------------------------------------------------------

Result<int> MailService::RunReminders() {
  if (options_.reminder_interval <= 0) return 0;
  std::string cutoff = FormatIsoUtc(NowUnix() + 24 * 3600);
  CRM_ASSIGN_OR_RETURN(
      auto rows,
      store_.Query(
          "SELECT t.id, t.firm_id, t.title, t.due_date, t.client_id, u.id AS user_id, "
          "u.email, u.name AS user_name, u.language AS user_language, f.name AS firm_name, "
          "c.name AS client_name FROM "
          "tasks t JOIN users u ON u.id = t.assignee_user_id AND u.disabled = 0 JOIN "
          "firms f ON f.id = t.firm_id LEFT JOIN clients c ON c.id = t.client_id WHERE "
          "t.status IN ('todo', 'in_progress') AND t.due_date IS NOT NULL AND t.due_date "
          "<> '' AND t.due_date <= ? AND NOT EXISTS (SELECT 1 FROM task_reminders r "
          "WHERE r.task_id = t.id AND r.due_date = t.due_date) ORDER BY t.due_date "
          "LIMIT 200",
          {cutoff}));
  int queued = 0;
  std::string today = NowIsoUtc().substr(0, 10);
  for (const auto& t : rows) {
    std::string firm = t.Text("firm_id"), due = t.Text("due_date");
    std::string lang =
        t.IsNull("user_language") ? FirmLanguage(firm) : PickLanguage(t.Text("user_language"));
    ReminderFacts f;
    f.user_name = t.Text("user_name");
    f.firm_name = t.Text("firm_name");
    f.task_title = t.Text("title");
    f.due_date = due;
    f.client_name = t.Text("client_name");
    f.link = options_.app_url + "/tasks/" + t.Text("id");
    f.overdue = due.substr(0, 10) < today;
    NewMail m;
    m.firm_id = firm;
    m.kind = "task_reminder";
    m.to = {t.Text("email")};
    m.content = TaskReminderMail(lang, f);
    m.language = lang;
    m.client_id = t.OptText("client_id");
    m.user_id = t.Text("user_id");
    m.task_id = t.Text("id");
    std::string id;
    Status st = store_.Transaction([&](storage::Connection& c) -> Status {
      CRM_ASSIGN_OR_RETURN(int64_t n,
                           c.Exec("INSERT INTO task_reminders (task_id, due_date, firm_id, "
                                  "created_at) VALUES (?, ?, ?, ?) ON CONFLICT (task_id, due_date) "
                                  "DO NOTHING",
                                  {t.Text("id"), due, firm, NowIsoUtc()}));
      if (n != 1) return OkStatus();  // another process reminded it
      CRM_ASSIGN_OR_RETURN(id, WriteIn(c, m));
      CRM_TRY(c.Exec("UPDATE task_reminders SET mail_id = ? WHERE task_id = ? AND due_date = ?",
                     {id, t.Text("id"), due}));
      return OkStatus();
    });
    if (!st.ok()) {
      log::Warn("task reminder not written",
                {{"task_id", t.Text("id")}, {"error", st.error().message}});
      continue;
    }
    if (!id.empty()) {
      Dispatch(firm, id);
      ++queued;
    }
  }
  return queued;
}

Result<int> MailService::SweepLost() {
  // Queued mails overdue by half a minute (their job was lost), and mails left 'sending' past
  // their attempt's time (the worker died mid-send: the attempt is made again).
  int64_t now = NowMs();
  CRM_ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT id, firm_id, status, attempts FROM "
                                               "mail_outbox WHERE (status = 'queued' AND "
                                               "next_attempt_at <= ?) OR (status = 'sending' AND "
                                               "next_attempt_at <= ?) ORDER BY next_attempt_at "
                                               "LIMIT 100",
                                               {now - 30'000, now}));
  int n = 0;
  for (const auto& r : rows) {
    jobs::EnqueueOptions eo;
    eo.dedupe_key = "mail:" + r.Text("id") + ":" + std::to_string(r.Int("attempts")) +
                    (r.Text("status") == "sending" ? ":stale" : "");
    eo.timeout_seconds = options_.smtp.timeout_seconds + 60;
    auto job = queue_.Enqueue(kSendJobKind, r.OptText("firm_id"), {{"mail_id", r.Text("id")}}, eo);
    if (job.ok()) ++n;
  }
  return n;
}

jobs::Handler MailService::TickHandler() {
  return [this](jobs::JobContext&) -> Result<jobs::ResultWriter> {
    CRM_ASSIGN_OR_RETURN(int reminders, RunReminders());
    CRM_ASSIGN_OR_RETURN(int swept, SweepLost());
    if (reminders || swept) log::Info("mail tick", {{"reminders", reminders}, {"requeued", swept}});
    return jobs::ResultWriter{};
  };
}

void MailService::StartTicker() {
  int interval = options_.reminder_interval > 0 ? options_.reminder_interval : 300;
  ticker_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(mu_);
    // The first run shortly after the start, then every interval.
    auto next = std::chrono::steady_clock::now() + std::chrono::seconds(std::min(interval, 5));
    while (!stop_) {
      if (cv_.wait_until(lock, next, [this] { return stop_; })) break;
      lock.unlock();
      jobs::EnqueueOptions eo;
      eo.dedupe_key = "mail.tick";
      auto job = queue_.Enqueue(kTickJobKind, std::nullopt, json::object(), eo);
      if (!job.ok()) log::Warn("mail tick not queued", {{"error", job.error().message}});
      lock.lock();
      next = std::chrono::steady_clock::now() + std::chrono::seconds(interval);
    }
  });
}

void MailService::StopTicker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

}  // namespace crm::mail
