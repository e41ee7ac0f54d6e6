// Transcripts of recordings: what an engine produced, what users corrected, who speaks.
//
// A recording has at most one transcript, stored as ordered segments (start, end, speaker label,
// text) with their words (start, end, confidence). Every segment keeps the engine's text beside
// the current text, so a correction never loses the original; each correction is a revision row
// (who, when, old text, new text) and bumps the segment's version, which callers pass back to
// detect concurrent edits (kConflict when stale). Speakers are named once per recording
// ("SPEAKER_1" → "Maître Dupont") and the name applies wherever the transcript is read.
//
// Every function is scoped by firm_id from the caller's principal: a recording of another firm is
// indistinguishable from a missing one (kNotFound). Saving keeps the full-text index in step, in
// the same transaction (see transcript_search.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "asr/transcript.h"
#include "common/principal.h"
#include "common/result.h"
#include "domain/word_alignment.h"
#include "storage/store.h"

namespace crm::domain {

// Stores an engine's output for a recording, inside the caller's transaction (the pipeline calls
// it in its job-completion transaction). Idempotent: a second save of the same recording replaces
// the previous engine output atomically and never duplicates segments, so a retried job leaves
// one copy. A segment the new output reproduces unchanged (same place, times and text) keeps its
// id, its user correction and its version; corrections of segments that changed stay readable in
// the revision history. Speaker names given by users are kept.
// Texts are trimmed; an end before its start is set to the start. kInvalidArgument for an empty
// firm/recording id or a segment with negative or non-finite times; kNotFound when the recording
// is not the firm's.
Status SaveEngineTranscript(storage::Connection& c, const std::string& firm_id,
                            const std::string& recording_id, const asr::Transcript& t);

// Removes the transcript, its segments, words, revisions, speaker names and index entries (also
// done by foreign keys when the recording row goes; this is for keeping the recording and
// dropping its text). OK when there is nothing to remove.
Status DeleteForRecording(storage::Connection& c, const std::string& firm_id,
                          const std::string& recording_id);

// The current transcript: corrected texts, speaker names in place of labels (on segments and
// words). A corrected segment carries its re-aligned words (word_alignment.h): the engine's
// times for the words that did not change, shared times for the words a person wrote.
// kNotFound when the recording has no transcript in this firm.
Result<asr::Transcript> LoadTranscript(storage::Store& store, const std::string& firm_id,
                                       const std::string& recording_id);

// The original engine output, untouched by corrections and speaker names.
Result<asr::Transcript> LoadEngineTranscript(storage::Store& store, const std::string& firm_id,
                                             const std::string& recording_id);

struct StoredSegment {
  std::string id;    // opaque, stable across corrections
  int index = 0;     // position in the transcript, from 0
  double start = 0;  // seconds
  double end = 0;
  std::string speaker;       // label as diarization wrote it ("SPEAKER_1"), empty when unknown
  std::string speaker_name;  // the user's name for it, empty when not named
  std::string text;          // current text
  std::string engine_text;   // what the engine wrote
  bool edited = false;       // text != engine_text because a user corrected it
  int64_t version = 1;       // bumped by each correction
  // The current text's words, one per white-space word: the engine's times where the word is
  // the engine's, re-aligned times where a person corrected it (see word_alignment.h).
  std::vector<TimedWord> words;
  std::vector<asr::Word> engine_words;  // as the engine wrote them (speaker labels, not names)
  std::string updated_at;
};

struct StoredTranscript {
  std::string recording_id;
  std::string language;
  double duration = 0;
  int64_t version = 1;  // bumped by every change: engine save, correction, speaker names
  std::string created_at;
  std::string updated_at;
  std::vector<std::string> speakers;                 // labels in order of first appearance
  std::map<std::string, std::string> speaker_names;  // label → name
  std::vector<StoredSegment> segments;
};

// kNotFound when the recording has no transcript in this firm.
Result<StoredTranscript> GetStoredTranscript(storage::Store& store, const std::string& firm_id,
                                             const std::string& recording_id);
Result<StoredSegment> GetSegment(storage::Store& store, const std::string& firm_id,
                                 const std::string& recording_id, const std::string& segment_id);

// Replaces a segment's text (trimmed, 1..10000 characters, valid UTF-8) and records a revision.
// The segment's words are re-aligned to the new text (times kept for the unchanged words).
// Check order: segment exists in the firm's recording (kNotFound) → text valid (kInvalidArgument)
// → version current (kConflict). expected_version nullopt = last write wins. Setting the text it
// already has changes nothing and records no revision.
Result<StoredSegment> EditSegmentText(storage::Store& store, const Principal& who,
                                      const std::string& recording_id,
                                      const std::string& segment_id, const std::string& text,
                                      std::optional<int64_t> expected_version);

// Cuts a segment in two before its word `word_index` (an index into StoredSegment::words,
// 1..size-1): the first part keeps the id, the second is a new segment right after it, same
// speaker; times come from the words (first part ends at its last word's end, second starts at
// its first word's start), the engine's text and words are shared out by time, and both parts
// keep their words. A revision of kind "split" is recorded on each part. Check order: segment
// (kNotFound) → word_index (kInvalidArgument) → version (kConflict). Returns both parts.
Result<std::pair<StoredSegment, StoredSegment>> SplitSegment(
    storage::Store& store, const Principal& who, const std::string& recording_id,
    const std::string& segment_id, int word_index, std::optional<int64_t> expected_version);

// Joins a segment with the one after it: texts, engine texts and words concatenated, from the
// first's start to the later end, the first's speaker and id; the second goes (its history stays
// readable by its id). A revision of kind "merge" is recorded on the first. Check order: segment
// (kNotFound) → a next segment exists (kInvalidArgument) → versions of both (kConflict; the
// second's is optional) → the merged text fits the segment limit (kInvalidArgument).
Result<StoredSegment> MergeWithNext(storage::Store& store, const Principal& who,
                                    const std::string& recording_id, const std::string& segment_id,
                                    std::optional<int64_t> expected_version,
                                    std::optional<int64_t> expected_next_version);

struct SegmentRevision {
  std::string id;
  std::string kind = "edit";  // "edit", "split" or "merge"
  int64_t version = 0;        // the segment's version this revision produced
  std::string old_text;
  std::string new_text;
  std::string user_id;     // empty when made with an API key
  std::string api_key_id;  // empty when made in a session
  std::string created_at;
};

// Oldest first. kNotFound when the segment is not one of the firm's recording's.
Result<std::vector<SegmentRevision>> ListRevisions(storage::Store& store,
                                                   const std::string& firm_id,
                                                   const std::string& recording_id,
                                                   const std::string& segment_id);

// Names speakers of a recording: label → name (trimmed, up to 100 characters); an empty name
// removes the name. Labels must occur in the transcript (kInvalidArgument naming the unknown
// ones). expected_version is the transcript's (kConflict when stale). Returns the names now set.
Result<std::map<std::string, std::string>> NameSpeakers(
    storage::Store& store, const Principal& who, const std::string& recording_id,
    const std::map<std::string, std::string>& names, std::optional<int64_t> expected_version);

// What names a recording's exported files: its title, its date and its client's name
// (nullopt when the firm has no such recording).
struct RecordingNaming {
  std::string title;
  std::string created_at;
  std::string client_name;
};
Result<std::optional<RecordingNaming>> GetRecordingNaming(storage::Store& store,
                                                          const std::string& firm_id,
                                                          const std::string& recording_id);

}  // namespace crm::domain
