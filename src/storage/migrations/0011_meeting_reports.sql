-- Meeting reports (comptes rendus) built from a recording's transcript. content holds the report
-- as JSON (header, summary, decisions, actions, excerpts: documents/report.h); users edit it
-- while it is a draft, then mark it reviewed (only a reviewed report is sent to a client).
-- report_tasks remembers which action item became which CRM task, so accepting an action twice
-- never creates two tasks.

CREATE TABLE meeting_reports (
  id TEXT PRIMARY KEY,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  meeting_id TEXT REFERENCES meetings(id) ON DELETE SET NULL,
  recording_id TEXT REFERENCES recordings(id) ON DELETE SET NULL,
  mode TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'generating'
    CHECK (status IN ('generating', 'draft', 'reviewed', 'failed')),
  content TEXT NOT NULL DEFAULT '{}',
  error_code TEXT,
  error_message TEXT,
  job_id TEXT,
  created_by TEXT,
  reviewed_by TEXT,
  reviewed_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX meeting_reports_firm ON meeting_reports(firm_id, id);
CREATE INDEX meeting_reports_meeting ON meeting_reports(firm_id, meeting_id);
CREATE INDEX meeting_reports_recording ON meeting_reports(firm_id, recording_id);

CREATE TABLE report_tasks (
  report_id TEXT NOT NULL REFERENCES meeting_reports(id) ON DELETE CASCADE,
  action_index INTEGER NOT NULL,
  firm_id TEXT NOT NULL,
  task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  PRIMARY KEY (report_id, action_index)
);
