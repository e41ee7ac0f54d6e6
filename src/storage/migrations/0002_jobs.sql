-- The durable job queue (jobs/DatabaseJobQueue). Scheduling times are integer unix milliseconds
-- so they compare in SQL on every database; display times are ISO-8601 UTC text.
-- A job is claimed by giving it a fresh random lease_token; every later write by the worker
-- (heartbeat, progress, complete, fail, hand back) names that token, so a worker whose lease
-- was taken over can no longer change the job.
-- active_dedupe_key holds dedupe_key while the job is queued or running and NULL otherwise: its
-- UNIQUE index allows one active job per key (NULLs never collide).

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  firm_id TEXT REFERENCES firms(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  payload TEXT NOT NULL DEFAULT '{}',
  priority INTEGER NOT NULL DEFAULT 0,
  dedupe_key TEXT,
  active_dedupe_key TEXT UNIQUE,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  timeout_seconds INTEGER NOT NULL,
  run_after_ms INTEGER NOT NULL,
  lease_token TEXT,
  lease_expires_ms INTEGER,
  worker_id TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  progress REAL NOT NULL DEFAULT 0,
  stage TEXT,
  eta_seconds INTEGER,
  error_code TEXT,
  error_message TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  finished_ms INTEGER
);
-- Claim: the next due queued job, highest priority first, then oldest.
CREATE INDEX jobs_due ON jobs(state, priority DESC, run_after_ms, id);
-- Claim: running jobs whose lease expired (their worker died or stalled).
CREATE INDEX jobs_lease ON jobs(state, lease_expires_ms);
-- Stats: jobs finished recently.
CREATE INDEX jobs_finished ON jobs(state, finished_ms);
-- GET /api/jobs: a firm's jobs, newest first.
CREATE INDEX jobs_firm ON jobs(firm_id, id);
