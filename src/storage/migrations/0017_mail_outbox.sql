-- The outbox: every mail the product sends (invitations, password resets, meeting reports to
-- clients, task reminders) is written here first, then sent by a mail.send job (src/mail).
--
-- status: 'queued' (waiting for its next attempt, or for the PDF it carries), 'sending' (an
-- attempt is running), 'sent', 'failed' (no attempt left: last_error says why; a retry queues it
-- again), 'kept' (MAIL_MAILER=outbox: kept here, readable in the UI, never sent).
-- firm_id is NULL for the platform's own mails (the platform admin's password reset).
-- Attachments' files are in the blob store under mail/<firm>/<mail>/<attachment>.

CREATE TABLE mail_outbox (
  id TEXT PRIMARY KEY,
  firm_id TEXT REFERENCES firms(id) ON DELETE CASCADE,
  client_id TEXT REFERENCES clients(id) ON DELETE CASCADE,
  kind TEXT NOT NULL
    CHECK (kind IN ('invitation', 'password_reset', 'report', 'task_reminder')),
  to_addresses TEXT NOT NULL,
  cc_addresses TEXT NOT NULL DEFAULT '[]',
  reply_to TEXT,
  subject TEXT NOT NULL,
  html_body TEXT NOT NULL,
  text_body TEXT NOT NULL,
  language TEXT NOT NULL DEFAULT 'fr',
  status TEXT NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'kept')),
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  last_error TEXT,
  next_attempt_at INTEGER NOT NULL,
  job_id TEXT,
  report_id TEXT REFERENCES meeting_reports(id) ON DELETE SET NULL,
  user_id TEXT REFERENCES users(id) ON DELETE SET NULL,
  task_id TEXT REFERENCES tasks(id) ON DELETE SET NULL,
  export_id TEXT,
  message_id TEXT NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  sent_at TEXT
);
CREATE INDEX mail_outbox_firm ON mail_outbox(firm_id, id);
CREATE INDEX mail_outbox_report ON mail_outbox(firm_id, report_id, id);
CREATE INDEX mail_outbox_client ON mail_outbox(firm_id, client_id);
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_at);

CREATE TABLE mail_attachments (
  id TEXT PRIMARY KEY,
  mail_id TEXT NOT NULL REFERENCES mail_outbox(id) ON DELETE CASCADE,
  firm_id TEXT,
  file_name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  blob_key TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX mail_attachments_mail ON mail_attachments(mail_id, id);

-- Task reminders already mailed: one per task and due date, so a reminder never repeats (a
-- task moved to a later date is reminded again before that date).
CREATE TABLE task_reminders (
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  due_date TEXT NOT NULL,
  firm_id TEXT NOT NULL,
  mail_id TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (task_id, due_date)
);

-- The language of a user's own mails (password resets, task reminders): 'fr' or 'en'; NULL
-- follows the firm's settings ("language"), French by default.
ALTER TABLE users ADD COLUMN language TEXT;
