-- Recordings (one audio or video file of a client, optionally of a meeting) and resumable
-- uploads in progress. A recording row always has its file in the blob store under blob_key
-- (recordings/<firm>/<id>): the two are created in one transaction (see blobs/README.md).
-- Processing state is not copied here: job_id points at the durable job (jobs table), whose
-- state, progress, stage, ETA and error are the recording's.

CREATE TABLE recordings (
  id TEXT PRIMARY KEY,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  meeting_id TEXT REFERENCES meetings(id) ON DELETE SET NULL,
  title TEXT NOT NULL DEFAULT '',
  original_name TEXT NOT NULL DEFAULT '',
  blob_key TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  container TEXT NOT NULL DEFAULT '',
  codec TEXT NOT NULL DEFAULT '',
  duration_seconds REAL NOT NULL DEFAULT 0,
  sample_rate INTEGER NOT NULL DEFAULT 0,
  channels INTEGER NOT NULL DEFAULT 0,
  has_video INTEGER NOT NULL DEFAULT 0,
  -- GDPR: whether the participants' consent to the recording was obtained (required on upload).
  consent INTEGER NOT NULL CHECK (consent IN (0, 1)),
  language TEXT,
  job_id TEXT,
  created_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX recordings_firm ON recordings(firm_id, id);
CREATE INDEX recordings_client ON recordings(firm_id, client_id);
CREATE INDEX recordings_meeting ON recordings(firm_id, meeting_id);
-- Duplicates: the same bytes uploaded again for the same client.
CREATE INDEX recordings_hash ON recordings(firm_id, client_id, sha256);

-- Resumable uploads (offset-based, tus semantics). The bytes received so far are the file
-- DATA_DIR/tmp/upload-<id>; its size is the offset. metadata holds what the recording will be
-- created with (client_id, meeting_id, consent, title, filename, language).
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  created_by TEXT,
  length INTEGER NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  recording_id TEXT,
  expires_ms INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX uploads_firm ON uploads(firm_id, id);
CREATE INDEX uploads_expiry ON uploads(expires_ms);
