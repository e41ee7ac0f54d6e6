// Voiceprint maths without the audio engine: the portable text codec, the weighted average of
// several voiceprints and the calibrated matching of a recording's speakers against known ones.
// Library crm_voiceprint (depends on crm_common only), so that code storing and matching
// voiceprints — the firm's domain — does not link the diarizer that computes them
// (voiceprint.h).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace crm::diarization {

struct TimeRange {
  double start = 0;  // seconds
  double end = 0;
};

inline constexpr int kVoiceprintVersion = 1;

// One voiceprint with the seconds of speech it was computed from.
struct WeightedVoiceprint {
  std::vector<float> voiceprint;
  double seconds = 0;
};

// The average of voiceprints weighted by their seconds of speech (enrolment from several
// recordings, or more sources added to an enrolled speaker). kInvalidArgument when the list is
// empty, a weight is not positive, or sizes differ (voiceprints of another version).
Result<std::vector<float>> AverageVoiceprints(const std::vector<WeightedVoiceprint>& parts);

// Portable text form ("crm-voiceprint v1 <dims> <values...>"); Parse rejects anything else.
std::string SerializeVoiceprint(const std::vector<float>& voiceprint);
Result<std::vector<float>> ParseVoiceprint(const std::string& text);

struct KnownSpeaker {
  std::string id;  // the caller's identifier (a contact, a lawyer, ...)
  std::vector<float> voiceprint;
};

struct VoiceprintMatchOptions {
  double threshold = 0.7;  // minimum confidence to name a speaker
};

struct VoiceprintMatch {
  int speaker = 0;        // index into the recording's speakers
  std::string id;         // KnownSpeaker::id
  double confidence = 0;  // calibrated probability that they are the same person
};

// Probability that two voiceprints are the same person (0..1); 0 for mismatched sizes.
double VoiceprintConfidence(const std::vector<float>& a, const std::vector<float>& b);

// For each recording speaker, the best known speaker at or above the threshold; one known
// speaker names at most one recording speaker (the most confident one).
std::vector<VoiceprintMatch> MatchSpeakers(const std::vector<std::vector<float>>& speakers,
                                           const std::vector<KnownSpeaker>& known,
                                           const VoiceprintMatchOptions& options = {});

}  // namespace crm::diarization
