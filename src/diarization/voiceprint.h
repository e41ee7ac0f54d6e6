// Voiceprints: recognising speakers the firm already knows.
//
// A voiceprint is a fixed-length vector computed from labelled stretches of a past recording:
// the mean and spread of the speaker's cepstra c1..c19, measured relative to the louder half of
// the whole recording (mostly speech), which cancels most of the microphone and room. The
// diarizer computes the same vector for every speaker it finds (Diarization::voiceprints).
// Matching scores a recording's speakers against enrolled voiceprints: the cosine distance of
// the relative means, turned into a probability by a logistic function calibrated on
// same-speaker and different-speaker pairs of the test recordings (README.md), then a threshold.
// The storage of voiceprints is the caller's. The codec, averaging and matching maths are in
// voiceprint_match.h (library crm_voiceprint), which needs none of the audio engine.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"
#include "diarization/matrix.h"
#include "diarization/voiceprint_match.h"

namespace crm::diarization {


// Voiceprint of the given rows of a recording's MFCCs (ComputeMfcc, all frames of the recording);
// empty `frames` gives an empty vector.
std::vector<float> VoiceprintFromFrames(const Matrix& mfcc, const std::vector<size_t>& frames);

// Voiceprint of the speech in `ranges` of 16 kHz mono audio. Fails with kInvalidArgument when
// the ranges hold less than `min_seconds` of audio.
Result<std::vector<float>> ComputeVoiceprint(const float* pcm, size_t n,
                                             const std::vector<TimeRange>& ranges,
                                             double min_seconds = 2.0);

// The same voiceprint as ComputeVoiceprint, from audio fed in pieces: only the recording's MFCCs
// are kept (8 KB per second of audio, 58 MB for two hours), never the audio itself, so a long
// recording can be read from its decoder with bounded memory. The reference (the louder half of
// the recording) is the whole audio fed, as for the diarizer's voiceprints.
class VoiceprintBuilder {
 public:
  // Appends the next `n` samples of 16 kHz mono audio.
  Status Add(const float* pcm, size_t n);
  // Seconds of audio fed so far.
  double seconds() const { return static_cast<double>(samples_) / 16000.0; }
  // The voiceprint of `ranges` of everything fed; `speech_seconds` (optional) receives the
  // seconds of audio the ranges covered. kInvalidArgument below `min_seconds`, or for a range
  // that ends before it starts.
  Result<std::vector<float>> Finish(const std::vector<TimeRange>& ranges, double min_seconds,
                                    double* speech_seconds = nullptr);

 private:
  Status Flush(bool all);
  std::vector<float> pending_;  // samples not yet turned into complete frames
  Matrix mfcc_;
  size_t samples_ = 0;
};

}  // namespace crm::diarization
