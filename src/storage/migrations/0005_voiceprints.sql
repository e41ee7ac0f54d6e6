-- Speakers known to the firm: voiceprints enrolled from past recordings, the voiceprint of every
-- speaker the diarizer found in a recording, and how a speaker's name in a transcript was given
-- (confirmed by a user, or set automatically from a voiceprint with a confidence).
-- Voiceprints are personal (biometric) data: firm-scoped, removed with the firm, and removed with
-- the user or client contact they belong to. Vectors are kept as SerializeVoiceprint text
-- ("crm-voiceprint v1 <dims> <values...>"), a portable form that refuses other versions.

-- One row per speaker label the diarizer found in a recording, written when the recording is
-- diarized (a new diarization replaces the recording's rows). Goes with its recording.
CREATE TABLE recording_speakers (
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  voiceprint TEXT NOT NULL,
  seconds_of_speech REAL NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (recording_id, label)
);
CREATE INDEX recording_speakers_firm ON recording_speakers(firm_id, recording_id);

-- An enrolled speaker: a name, optionally the firm user or client contact it is, and the
-- voiceprint averaged over its sources, weighted by seconds of speech.
CREATE TABLE voiceprints (
  id TEXT PRIMARY KEY,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  contact_id TEXT REFERENCES contacts(id) ON DELETE CASCADE,
  voiceprint TEXT NOT NULL,
  seconds_of_speech REAL NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX voiceprints_firm ON voiceprints(firm_id, id);
CREATE INDEX voiceprints_user ON voiceprints(user_id);
CREATE INDEX voiceprints_contact ON voiceprints(contact_id);

-- Where a voiceprint's speech came from: a diarized speaker (label) or time ranges (JSON
-- [[start, end], ...]) of a recording. A deleted recording leaves its source as "deleted
-- recording" (recording_id NULL): the voiceprint keeps what it learnt.
CREATE TABLE voiceprint_sources (
  id TEXT PRIMARY KEY,
  firm_id TEXT NOT NULL REFERENCES firms(id) ON DELETE CASCADE,
  voiceprint_id TEXT NOT NULL REFERENCES voiceprints(id) ON DELETE CASCADE,
  recording_id TEXT REFERENCES recordings(id) ON DELETE SET NULL,
  label TEXT,
  ranges TEXT NOT NULL DEFAULT '[]',
  seconds_of_speech REAL NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX voiceprint_sources_voiceprint ON voiceprint_sources(firm_id, voiceprint_id);
CREATE INDEX voiceprint_sources_recording ON voiceprint_sources(recording_id);

-- How a transcript speaker's name was given: 'confirmed' (a user named it, or applied it) or
-- 'automatic' (matched against voiceprint_id with confidence). Names written before this
-- migration, and every name written by the rename route, are confirmed.
ALTER TABLE transcript_speakers ADD COLUMN origin TEXT NOT NULL DEFAULT 'confirmed'
  CHECK (origin IN ('confirmed', 'automatic'));
ALTER TABLE transcript_speakers ADD COLUMN confidence REAL;
ALTER TABLE transcript_speakers ADD COLUMN voiceprint_id TEXT;
CREATE INDEX transcript_speakers_voiceprint ON transcript_speakers(firm_id, voiceprint_id);

-- Deleting a voiceprint, by the API or by a cascade (its firm, user or contact), clears the
-- automatic names it gave: they were only a guess from data the firm no longer holds. Confirmed
-- names are the users' own and stay, without the link. Transcripts whose names change get a new
-- version, so edits based on the old one are refused as stale.
CREATE TRIGGER voiceprints_delete_clears_automatic_names BEFORE DELETE ON voiceprints BEGIN
  UPDATE transcripts SET version = version + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
  WHERE firm_id = OLD.firm_id AND recording_id IN (
    SELECT recording_id FROM transcript_speakers
    WHERE firm_id = OLD.firm_id AND voiceprint_id = OLD.id AND origin = 'automatic');
  DELETE FROM transcript_speakers
  WHERE firm_id = OLD.firm_id AND voiceprint_id = OLD.id AND origin = 'automatic';
  UPDATE transcript_speakers SET voiceprint_id = NULL
  WHERE firm_id = OLD.firm_id AND voiceprint_id = OLD.id;
END;
