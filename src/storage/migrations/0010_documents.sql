-- Documents of a client's file (optionally of a meeting): any type of file, with every version
-- kept when it is replaced, and the text of its pages for search.
--
-- A documents row describes the document and repeats the facts of its current version (the
-- highest number in document_versions), so lists need no join. Every version's file is in the
-- blob store under its own key (documents/<firm>/<document>/<number>); a version row and its file
-- are created in one transaction (blobs/README.md).
--
-- text_state: 'pending' (extraction queued or running), 'searchable' (pages indexed),
-- 'not_searchable' (kept, but its text could not be read: text_error says why).

CREATE TABLE documents (
  id TEXT PRIMARY KEY,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  meeting_id TEXT REFERENCES meetings(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  current_version INTEGER NOT NULL DEFAULT 1,
  content_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  blob_key TEXT NOT NULL,
  text_state TEXT NOT NULL DEFAULT 'pending'
    CHECK (text_state IN ('pending', 'searchable', 'not_searchable')),
  text_error_code TEXT,
  text_error TEXT,
  page_count INTEGER,
  job_id TEXT,
  created_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX documents_firm ON documents(firm_id, id);
CREATE INDEX documents_client ON documents(firm_id, client_id, id);
CREATE INDEX documents_meeting ON documents(firm_id, meeting_id, id);

CREATE TABLE document_versions (
  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  original_name TEXT NOT NULL DEFAULT '',
  content_type TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  blob_key TEXT NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (document_id, number)
);

-- The text of the current version, one row per page (page 1 for formats without pages), with
-- its folded copy for the full-text index. Replaced as a whole by each extraction.
CREATE TABLE document_pages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  firm_id TEXT NOT NULL,
  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  page INTEGER NOT NULL,
  text TEXT NOT NULL,
  search_text TEXT NOT NULL
);
CREATE INDEX document_pages_document ON document_pages(document_id, page);

-- The same tokenizer as transcript_fts (migration 0004): /api/search queries both alike.
CREATE VIRTUAL TABLE document_fts USING fts5(
  search_text, content = 'document_pages', content_rowid = 'seq',
  tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER document_pages_fts_insert AFTER INSERT ON document_pages BEGIN
  INSERT INTO document_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
CREATE TRIGGER document_pages_fts_delete AFTER DELETE ON document_pages BEGIN
  INSERT INTO document_fts (document_fts, rowid, search_text)
  VALUES ('delete', old.seq, old.search_text);
END;
