-- Corrections keep word times: current_words holds the words of the current text, aligned to it
-- ([start, end, confidence, "text", "speaker", edited], confidence -1 when unknown), written when
-- a user corrects, splits or merges a segment; NULL while the text is the engine's (the words are
-- then derived from the engine's words column). A revision says what it was: an edit of the
-- text, or a split or merge of segments.
ALTER TABLE transcript_segments ADD COLUMN current_words TEXT;
ALTER TABLE transcript_revisions ADD COLUMN kind TEXT NOT NULL DEFAULT 'edit';
