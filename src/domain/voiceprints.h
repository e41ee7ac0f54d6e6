// Speakers known to the firm: voiceprints, per-recording speaker voiceprints, automatic names.
//
// - A firm enrols a known speaker (the lawyer, the accountant, a regular client) from sources in
//   its recordings: a speaker label the diarizer found (its stored voiceprint), or time ranges of
//   a recording's audio (computed by the caller, see pipeline/speaker_matching.h). Sources are
//   averaged weighted by seconds of speech; more sources can be added later the same way.
// - When a recording is diarized, each found speaker's voiceprint is stored
//   (StoreRecordingSpeakers) and matched against the firm's voiceprints (NameKnownSpeakers): a
//   speaker at or above the threshold gets the voiceprint's name automatically, with the
//   confidence and the voiceprint it came from. Automatic names never replace a name a user gave
//   (confirmed), and a voiceprint whose person is already confirmed in the recording names no
//   other speaker of it. Renaming a voiceprint renames its automatic names; deleting it clears
//   them (confirmed names stay, unlinked). ForgetVoiceprintsIn() does this in the deleting
//   transaction on every path that removes voiceprints — their own deletion and the deletion of
//   the contact or client they belong to — since no database trigger may be relied on for
//   cascades.
// - Reading a recording's speakers gives, per label, the current name and its origin, and
//   suggestions: enrolled voiceprints by confidence and the meeting's participants nobody in the
//   recording is named after yet. After a rename, FindSimilarSpeakers lists the speakers of the
//   firm's other recordings whose voice matches, and ApplySpeakerName names chosen ones.
//
// Voiceprints are personal data. Every function is scoped by the caller's firm: another firm's
// recording, voiceprint, user or contact — in a path or inside a list — is kNotFound, exactly as a
// missing one, and is checked before anything else. Vectors never leave this module except as
// confidences (no function returns one). Enrolment, additions, renames, deletions and applied
// names are audited in the transaction that makes them.
//
// Why it is shaped this way:
// - Deleting a voiceprint clears its automatic names rather than keeping them as plain names: an
//   automatic name is a guess drawn from biometric data the firm has just withdrawn; keeping it
//   would keep the guess's effect. A name a user confirmed is the user's statement and stays.
// - A voiceprint linked to a firm user or a client contact is removed with them (ON DELETE
//   CASCADE): erasing a person erases their voice too. A deleted recording only unlinks its
//   sources — the averaged voiceprint cannot forget one recording's share.
// - Enrolment names nothing by itself, and a voiceprint is not re-matched against past
//   recordings: names appear in new recordings, or where a user applies them (similar speakers),
//   so no existing transcript changes behind its readers' backs.
// - Applying a name is all or nothing: one stale target version and nothing is applied, so a
//   rename racing an apply leaves one name and one version bump per change.
// - Confidences are the calibrated probabilities of diarization/voiceprint.h; the threshold
//   (0.7) is its default. Suggestions start lower (0.5) because a user confirms them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/principal.h"
#include "common/result.h"
#include "diarization/voiceprint_match.h"
#include "storage/store.h"

namespace crm::domain {

struct VoiceprintOptions {
  double threshold = 0.7;             // automatic names at or above (calibrated probability)
  double suggestion_threshold = 0.5;  // suggestions and similar speakers at or above
  size_t max_suggestions = 3;         // voiceprint suggestions per speaker
  double min_enrol_seconds = 4.0;     // speech of all the sources of an enrolment together
  double min_source_seconds = 1.0;    // speech of each source
  double min_match_seconds = 2.0;     // a recording speaker with less is never named automatically
  size_t max_sources = 20;            // sources per request
  size_t max_apply_targets = 100;     // speakers per apply request
};

// ---- Enrolled voiceprints ----

struct VoiceprintSource {
  std::string id;
  std::string recording_id;  // empty when the recording was deleted since
  std::string label;         // diarized speaker, or empty for time ranges
  std::vector<diarization::TimeRange> ranges;
  double seconds_of_speech = 0;
  std::string created_at;
};

struct Voiceprint {
  std::string id;
  std::string name;
  std::string user_id;     // the firm user this voice is, empty when none
  std::string contact_id;  // the client contact this voice is, empty when none
  double seconds_of_speech = 0;
  int64_t source_count = 0;
  int64_t automatic_names = 0;  // transcript speakers currently named from it automatically
  std::string created_by;
  std::string created_at;
  std::string updated_at;
  int64_t version = 1;
  std::vector<VoiceprintSource> sources;  // filled by GetVoiceprint only
};

// A source as a request names it: {recording_id, label} or {recording_id, ranges}.
struct SourceRequest {
  std::string recording_id;
  std::string label;
  std::vector<diarization::TimeRange> ranges;
};

// Computes the voiceprint of time ranges of a firm's recording (decoding its audio); called only
// after the recording was found in the firm. kInvalidArgument when the ranges hold too little.
using RangeVoiceprintFn = std::function<Result<diarization::WeightedVoiceprint>(
    const std::string& recording_id, const std::vector<diarization::TimeRange>& ranges)>;

struct VoiceprintFields {
  std::optional<std::string> name;
  // nullopt: unchanged (on create: none); "" unlinks.
  std::optional<std::string> user_id;
  std::optional<std::string> contact_id;
};

// kNotFound unless every recording id (empty ones skipped) is one of the firm's. Routes call it
// with the ids they could read from a malformed body, so that a foreign id is 404 before any 422.
Status CheckRecordingsInFirm(storage::Store& store, const std::string& firm_id,
                             const std::vector<std::string>& recording_ids);

// Checks, in this order: every recording, user and contact named belongs to the firm
// (kNotFound); the fields and sources are valid (kInvalidArgument with "sources[i]" or field
// names in details: required, too_long, invalid_utf8, duplicate, too_many, no_voiceprint,
// too_short); at least min_enrol_seconds of speech in all (kInvalidArgument, French first).
Result<Voiceprint> EnrolVoiceprint(storage::Store& store, const Principal& who,
                                   const VoiceprintFields& fields,
                                   const std::vector<SourceRequest>& sources,
                                   const RangeVoiceprintFn& ranges,
                                   const VoiceprintOptions& options = {});

// Re-averages the voiceprint with more sources (weighted by seconds of speech).
// expected_version: kConflict when stale.
Result<Voiceprint> AddVoiceprintSources(storage::Store& store, const Principal& who,
                                        const std::string& voiceprint_id,
                                        const std::vector<SourceRequest>& sources,
                                        const RangeVoiceprintFn& ranges,
                                        std::optional<int64_t> expected_version,
                                        const VoiceprintOptions& options = {});

// Name and links; the voiceprint's automatic names follow a new name.
Result<Voiceprint> UpdateVoiceprint(storage::Store& store, const Principal& who,
                                    const std::string& voiceprint_id,
                                    const VoiceprintFields& fields,
                                    std::optional<int64_t> expected_version);

// Removes it and its sources; automatic names it gave are cleared, confirmed names stay.
Status DeleteVoiceprint(storage::Store& store, const Principal& who,
                        const std::string& voiceprint_id);

// Before voiceprints are deleted (directly or by a cascade from their contact or client), inside
// the deleting transaction: the automatic names they gave are removed (their transcripts' version
// bumped) and confirmed names are unlinked from them. `where` selects voiceprints `v` of the firm,
// e.g. "v.contact_id = ?", with its parameters.
Status ForgetVoiceprintsIn(storage::Connection& c, const std::string& firm_id,
                           const std::string& where, const storage::Params& params);

Result<Voiceprint> GetVoiceprint(storage::Store& store, const std::string& firm_id,
                                 const std::string& voiceprint_id);

// By id (creation order); cursor = the last id of the previous page; limit 1..200.
Result<std::pair<std::vector<Voiceprint>, std::optional<std::string>>> ListVoiceprints(
    storage::Store& store, const std::string& firm_id, int limit, const std::string& cursor);

// ---- Speakers of recordings ----

struct SpeakerVoice {
  std::string label;  // "SPEAKER_1"
  std::vector<float> voiceprint;
  double seconds_of_speech = 0;
};

// Replaces the recording's speaker voiceprints, inside the caller's transaction. Speakers with
// an empty voiceprint are skipped. kNotFound when the recording is not the firm's.
Status StoreRecordingSpeakers(storage::Connection& c, const std::string& firm_id,
                              const std::string& recording_id,
                              const std::vector<SpeakerVoice>& speakers);

struct AutomaticName {
  std::string label;
  std::string name;
  std::string voiceprint_id;
  double confidence = 0;
};

// Matches the recording's stored speaker voiceprints against the firm's voiceprints and replaces
// its automatic names by the matches (inside the caller's transaction). Confirmed names are never
// touched; the transcript's version moves when a name changed. Returns the names set.
Result<std::vector<AutomaticName>> NameKnownSpeakers(storage::Connection& c,
                                                     const std::string& firm_id,
                                                     const std::string& recording_id,
                                                     const VoiceprintOptions& options = {});

struct VoiceprintSuggestion {
  std::string voiceprint_id;
  std::string name;
  std::string user_id;
  std::string contact_id;
  double confidence = 0;
};

struct ParticipantSuggestion {
  std::string kind;  // "user", "contact" or "guest"
  std::string id;    // user or contact id; empty for a guest
  std::string name;
  std::string email;
};

struct RecordingSpeaker {
  std::string label;
  std::string name;                  // empty when unnamed
  std::string origin;                // "confirmed", "automatic", or empty when unnamed
  std::optional<double> confidence;  // automatic names only
  std::string voiceprint_id;         // automatic names only
  bool has_voiceprint = false;       // the diarizer stored this speaker's voiceprint
  double seconds_of_speech = 0;
  std::vector<VoiceprintSuggestion> voiceprints;    // best first; empty once confirmed
  std::vector<ParticipantSuggestion> participants;  // empty once confirmed
};

struct RecordingSpeakers {
  std::string recording_id;
  std::optional<int64_t> version;          // the transcript's, when there is one
  std::vector<RecordingSpeaker> speakers;  // in order of first appearance in the transcript
};

Result<RecordingSpeakers> ListRecordingSpeakers(storage::Store& store, const std::string& firm_id,
                                                const std::string& recording_id,
                                                const VoiceprintOptions& options = {});

struct SimilarSpeaker {
  std::string recording_id;
  std::string recording_title;
  std::string recorded_at;  // the meeting's start, else the recording's creation
  std::string client_id;
  std::string client_name;
  std::string label;
  std::string name;    // current name there, empty when unnamed
  std::string origin;  // "confirmed", "automatic" or empty
  double confidence = 0;
};

// Speakers of the firm's other recordings whose voice matches (recording_id, label), best
// first, at or above min_confidence (default options.suggestion_threshold). kNotFound when the
// recording is not the firm's or the label has no stored voiceprint.
Result<std::vector<SimilarSpeaker>> FindSimilarSpeakers(storage::Store& store,
                                                        const std::string& firm_id,
                                                        const std::string& recording_id,
                                                        const std::string& label, size_t limit,
                                                        std::optional<double> min_confidence,
                                                        const VoiceprintOptions& options = {});

struct ApplyTarget {
  std::string recording_id;
  std::string label;
  std::optional<int64_t> version;  // the target transcript's; kConflict when stale
};

// Names every target speaker `name` (or, when empty, the source speaker's current name) as a
// confirmed name, all in one transaction: every target recording is the firm's (kNotFound), the
// list holds 1..max_apply_targets distinct speakers that exist (kInvalidArgument with
// "targets[i]"), versions are current (kConflict, nothing applied). Audited.
Result<std::vector<ApplyTarget>> ApplySpeakerName(storage::Store& store, const Principal& who,
                                                  const std::string& recording_id,
                                                  const std::string& label, const std::string& name,
                                                  const std::vector<ApplyTarget>& targets,
                                                  const VoiceprintOptions& options = {});

}  // namespace crm::domain
