-- Transcripts: one per recording, stored as segments with their words, user corrections with
-- their history, speaker names per recording, and the full-text index over segment texts.
-- Everything follows its recording by foreign key: deleting a recording (or its firm) removes its
-- transcript, corrections, speaker names and index entries in the same statement.

CREATE TABLE transcripts (
  recording_id TEXT PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  language TEXT NOT NULL DEFAULT '',
  duration REAL NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX transcripts_firm ON transcripts(firm_id, recording_id);

-- seq is the segment's key in the full-text index (an explicit integer key survives VACUUM).
-- text is the current text; engine_text what the engine wrote, never changed by corrections.
-- words: JSON [[start, end, probability, "text", "speaker"], ...]; engine: JSON of the engine's
-- per-segment values (tokens, avg_logprob, compression_ratio, no_speech_prob, temperature).
-- search_text: the current text folded by FoldForSearch (accents and case removed, œ → oe), what
-- the full-text index reads (and what a MariaDB FULLTEXT index would cover).
CREATE TABLE transcript_segments (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  recording_id TEXT NOT NULL REFERENCES transcripts(recording_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  start_s REAL NOT NULL,
  end_s REAL NOT NULL,
  speaker TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL,
  engine_text TEXT NOT NULL,
  search_text TEXT NOT NULL DEFAULT '',
  words TEXT NOT NULL DEFAULT '[]',
  engine TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (recording_id, position)
);
CREATE INDEX transcript_segments_firm ON transcript_segments(firm_id, recording_id);

-- Kept when the engine output is replaced (no foreign key to the segment), so a correction is
-- never lost from the history; removed with the recording.
CREATE TABLE transcript_revisions (
  id TEXT PRIMARY KEY,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  segment_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  old_text TEXT NOT NULL,
  new_text TEXT NOT NULL,
  user_id TEXT,
  api_key_id TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX transcript_revisions_segment ON transcript_revisions(firm_id, segment_id, id);
CREATE INDEX transcript_revisions_recording ON transcript_revisions(firm_id, recording_id);

CREATE TABLE transcript_speakers (
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (recording_id, label)
);
CREATE INDEX transcript_speakers_firm ON transcript_speakers(firm_id, recording_id);

-- Accent- and case-insensitive French full-text search over segments' search_text (external
-- content: the index stores no second copy of the text). The tokenizer strips diacritics too, so
-- accented queries match even unfolded. Triggers keep it in step with every write, cascades
-- included.
CREATE VIRTUAL TABLE transcript_fts USING fts5(
  search_text, content = 'transcript_segments', content_rowid = 'seq',
  tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER transcript_segments_fts_insert AFTER INSERT ON transcript_segments BEGIN
  INSERT INTO transcript_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
CREATE TRIGGER transcript_segments_fts_delete AFTER DELETE ON transcript_segments BEGIN
  INSERT INTO transcript_fts (transcript_fts, rowid, search_text)
  VALUES ('delete', old.seq, old.search_text);
END;
CREATE TRIGGER transcript_segments_fts_update AFTER UPDATE OF search_text ON transcript_segments
BEGIN
  INSERT INTO transcript_fts (transcript_fts, rowid, search_text)
  VALUES ('delete', old.seq, old.search_text);
  INSERT INTO transcript_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
