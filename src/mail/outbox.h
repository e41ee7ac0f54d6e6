// The outbox and its job: every mail is a row of mail_outbox (migration 0017) written first —
// in the transaction of the action that causes it where there is one — then sent by a mail.send
// job, so nothing is lost while the SMTP server is down.
//
// Contract:
// - States: queued → sending → sent; a failed attempt goes back to queued with last_error and
//   next_attempt_at (MAIL_RETRY_SECONDS × 2^(attempt−1), at most an hour) until MAIL_TRIES
//   attempts, then failed; a 5xx refusal fails at once. Retry() queues a failed mail again with
//   fresh attempts. MAIL_MAILER=outbox: the job keeps every mail ('kept'), readable in the UI.
// - A report mail waits (queued) for the PDF export it carries; the PDF is copied into the
//   mail's attachments (blob key mail/<firm>/<mail>/<attachment>) before the first attempt.
// - Every read takes the caller's firm (nullopt: the platform admin, every firm); a mail of
//   another firm is kNotFound, exactly like a missing one.
// - The mail.tick job (queued every MAIL_REMINDER_INTERVAL by the ticker of each process that
//   runs workers) mails task reminders — once per task and due date — and re-queues any queued
//   mail whose job was lost.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "blobs/blob_store.h"
#include "common/principal.h"
#include "config/config.h"
#include "documents/export_job.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"
#include "mail/smtp.h"
#include "mail/templates.h"
#include "storage/store.h"

namespace crm::mail {

inline constexpr const char* kSendJobKind = "mail.send";
inline constexpr const char* kTickJobKind = "mail.tick";

struct MailOptions {
  std::string mailer = "outbox";  // outbox | smtp
  std::string from_address = "no-reply@crm-ai.local", from_name = "crm-ai";
  std::string app_url = "http://localhost:8000";
  SmtpOptions smtp;
  int tries = 5;
  int retry_seconds = 60;
  int reminder_interval = 900;  // seconds; 0 = no reminders (the sweep still runs)
  int64_t max_attachment_bytes = 20 << 20;
  int pdf_wait_seconds = 900;  // how long a report mail waits for its PDF
};
MailOptions MailOptionsFromConfig(const config::Config& c);

struct NewMail {
  std::optional<std::string> firm_id;  // nullopt: a platform mail
  std::string kind;                    // invitation | password_reset | report | task_reminder
  std::vector<std::string> to, cc;
  Rendered content;
  std::string language = "fr";
  std::optional<std::string> client_id, report_id, user_id, task_id, export_id;
  std::string reply_to;  // replies go there (the user who sent a report), else nowhere
  std::string created_by;
};

// Which firm's mails a call sees: one firm, or every one (nullopt, the platform admin).
using MailScope = std::optional<std::string>;

class MailService {
 public:
  MailService(storage::Store& store, blobs::BlobStore& blobs, jobs::JobQueue& queue,
              documents::ExportService& exports, MailOptions options);
  ~MailService();

  const MailOptions& options() const { return options_; }
  blobs::BlobStore& blobs() { return blobs_; }

  // The row (status queued) inside the caller's transaction; addresses and header values are
  // checked (kInvalidArgument). Dispatch() once the transaction has committed.
  Result<std::string> WriteIn(storage::Connection& c, const NewMail& m);
  void Dispatch(const std::optional<std::string>& firm_id, const std::string& mail_id);

  // The firm's language for mails ("fr" unless its settings say "language": "en").
  std::string FirmLanguage(const std::optional<std::string>& firm_id);
  std::string FirmName(const std::optional<std::string>& firm_id);
  // A user's language for their own mails (users.language), else their firm's.
  std::string UserLanguage(const std::optional<std::string>& firm_id, const std::string& user_id);

  // POST /api/reports/{id}/mail: a reviewed report to its client, its PDF attached (an export
  // made since the review, or a new one).
  Result<nlohmann::json> SendReport(const Principal& who, const std::string& report_id,
                                    const nlohmann::json& body);

  // With `bodies`: html and text, except where they carry a link that is not the viewer's to
  // use — a password reset (anyone but the platform admin), an invitation (anyone but an owner
  // or the platform admin: an admin must not accept an owner's invitation) — shown as a notice
  // with "redacted": true.
  Result<nlohmann::json> Get(const MailScope& scope, const std::string& id, bool bodies,
                             bool platform_view = false, bool owner_view = false);
  Result<std::pair<std::vector<nlohmann::json>, std::optional<std::string>>> List(
      const MailScope& scope, int limit, const std::string& cursor,
      const std::optional<std::string>& status, const std::optional<std::string>& report_id,
      bool platform_view = false);
  Result<nlohmann::json> Retry(const Principal& who, const MailScope& scope, const std::string& id);
  Result<storage::Row> AttachmentRow(const MailScope& scope, const std::string& mail_id,
                                     const std::string& attachment_id);

  // Blob keys of the attachments of mails about `client_id` (deleted with the client's rows).
  Result<std::vector<std::string>> ClientAttachmentKeys(const std::string& firm_id,
                                                        const std::string& client_id);

  jobs::Handler SendHandler();
  jobs::Handler TickHandler();
  // Queues mail.tick now and then every interval, until StopTicker().
  void StartTicker();
  void StopTicker();

  // One run of the tick's work (reminders, then the sweep); what it queued.
  Result<int> RunReminders();
  Result<int> SweepLost();

 private:
  Result<jobs::ResultWriter> Send(jobs::JobContext& ctx);
  // The PDF of a report mail: attached (true), still being made (false), or an error.
  Result<bool> AttachExport(const storage::Row& mail);
  Status MarkFailed(const std::string& id, const std::string& error);
  // Back to queued for another attempt after `delay_ms` (`why`: the last error), or, with
  // `wait` > 0, the wait's next look at the PDF export.
  Status Requeue(const storage::Row& mail, int attempts, int64_t delay_ms, const std::string& why,
                 int wait = 0);
  // `attachments`: the mail's, already read (lists read a page's in one query).
  nlohmann::json ToJson(const storage::Row& row, bool bodies, bool platform_view,
                        bool owner_view = false, const nlohmann::json* attachments = nullptr);
  std::map<std::string, nlohmann::json> AttachmentsOf(const std::vector<std::string>& mail_ids);

  storage::Store& store_;
  blobs::BlobStore& blobs_;
  jobs::JobQueue& queue_;
  documents::ExportService& exports_;
  MailOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread ticker_;
};

// mail/<firm or "platform">/<mail>/<attachment>
std::string AttachmentBlobKey(const std::optional<std::string>& firm_id, const std::string& mail_id,
                              const std::string& attachment_id);

}  // namespace crm::mail
