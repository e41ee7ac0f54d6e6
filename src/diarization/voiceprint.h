// Voiceprints: recognising speakers the firm already knows.
//
// A voiceprint is a fixed-length vector computed from labelled stretches of a past recording:
// the mean and spread of the speaker's cepstra c1..c19, measured relative to the louder half of
// the whole recording (mostly speech), which cancels most of the microphone and room. The
// diarizer computes the same vector for every speaker it finds (Diarization::voiceprints).
// Matching scores a recording's speakers against enrolled voiceprints: the cosine distance of
// the relative means, turned into a probability by a logistic function calibrated on
// same-speaker and different-speaker pairs of the test recordings (README.md), then a threshold.
// The storage of voiceprints is the caller's.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"
#include "diarization/matrix.h"

namespace crm::diarization {

struct TimeRange {
  double start = 0;  // seconds
  double end = 0;
};

inline constexpr int kVoiceprintVersion = 1;

// Voiceprint of the given rows of a recording's MFCCs (ComputeMfcc, all frames of the recording);
// empty `frames` gives an empty vector.
std::vector<float> VoiceprintFromFrames(const Matrix& mfcc, const std::vector<size_t>& frames);

// Voiceprint of the speech in `ranges` of 16 kHz mono audio. Fails with kInvalidArgument when
// the ranges hold less than `min_seconds` of audio.
Result<std::vector<float>> ComputeVoiceprint(const float* pcm, size_t n,
                                             const std::vector<TimeRange>& ranges,
                                             double min_seconds = 2.0);

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
  int speaker = 0;         // index into the recording's speakers
  std::string id;          // KnownSpeaker::id
  double confidence = 0;   // calibrated probability that they are the same person
};

// Probability that two voiceprints are the same person (0..1); 0 for mismatched sizes.
double VoiceprintConfidence(const std::vector<float>& a, const std::vector<float>& b);

// For each recording speaker, the best known speaker at or above the threshold; one known
// speaker names at most one recording speaker (the most confident one).
std::vector<VoiceprintMatch> MatchSpeakers(const std::vector<std::vector<float>>& speakers,
                                           const std::vector<KnownSpeaker>& known,
                                           const VoiceprintMatchOptions& options = {});

}  // namespace crm::diarization
