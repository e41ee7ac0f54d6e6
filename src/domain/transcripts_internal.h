// What transcripts.cpp and transcript_edits.cpp share: the stored forms of words, segment rows,
// the common errors and the revision row. Not part of the domain's interface.
#pragma once

#include <string>
#include <vector>

#include "asr/transcript.h"
#include "common/principal.h"
#include "common/result.h"
#include "domain/transcripts.h"
#include "storage/store.h"

namespace crm::domain::internal {

Error SegmentNotFound();
Error Conflict(int64_t current_version);

// Engine words: [start, end, probability, "text", "speaker"].
std::string EncodeWords(const std::vector<asr::Word>& words);
std::vector<asr::Word> DecodeWords(const std::string& text);
// Current words: [start, end, confidence, "text", "speaker", edited].
std::string EncodeTimedWords(const std::vector<TimedWord>& words);
std::vector<TimedWord> DecodeTimedWords(const std::string& text);
std::vector<TimedWord> ToTimed(const std::vector<asr::Word>& words);

// A transcript_segments row (SELECT *) as the domain shows it (speaker name not filled).
StoredSegment SegmentFromRow(const storage::Row& r);

Status BumpTranscript(storage::Connection& c, const std::string& firm_id,
                      const std::string& recording_id, const std::string& now);
Status InsertRevision(storage::Connection& c, const Principal& who,
                      const std::string& recording_id, const std::string& segment_id,
                      int64_t version, const std::string& kind, const std::string& old_text,
                      const std::string& new_text, const std::string& now);

}  // namespace crm::domain::internal
