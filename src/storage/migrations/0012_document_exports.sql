-- Firms' own DOCX templates (one per kind; without one, the built-in default is used) and
-- exports: a report or a transcript rendered as DOCX (and converted to PDF) by a job, the result
-- stored as a document of the client's file (documents, migration 0010).

CREATE TABLE document_templates (
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('report', 'transcript')),
  blob_key TEXT NOT NULL,
  original_name TEXT NOT NULL DEFAULT '',
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (firm_id, kind)
);

CREATE TABLE document_exports (
  id TEXT PRIMARY KEY,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  source TEXT NOT NULL CHECK (source IN ('report', 'transcript')),
  source_id TEXT NOT NULL,
  format TEXT NOT NULL CHECK (format IN ('docx', 'pdf')),
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'failed')),
  document_id TEXT REFERENCES documents(id) ON DELETE SET NULL,
  error_code TEXT,
  error_message TEXT,
  job_id TEXT,
  created_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX document_exports_firm ON document_exports(firm_id, id);
