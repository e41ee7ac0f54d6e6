// Scoring a detector against reference speaker turns: frame-level speech detection error.
//
// The timeline is cut into frames (10 ms by default); a frame is reference speech when any
// reference turn covers its centre (any speaker), detected speech when any detected segment
// does. Missed = reference speech not detected; false alarm = detected but not reference
// speech; the error is (missed + false alarm) / reference speech frames.
#pragma once

#include <string>
#include <vector>

#include "audio/vad.h"
#include "common/result.h"

namespace crm::audio::vad {

struct SpeechErrorCounts {
  long reference = 0;    // frames of reference speech
  long missed = 0;       // reference speech not detected
  long false_alarm = 0;  // detected where the reference has no speech
  long frames = 0;       // frames scored

  double missed_rate() const { return reference ? double(missed) / reference : 0; }
  double false_alarm_rate() const { return reference ? double(false_alarm) / reference : 0; }
  double error_rate() const { return reference ? double(missed + false_alarm) / reference : 0; }
  SpeechErrorCounts& operator+=(const SpeechErrorCounts& o);
};

SpeechErrorCounts ScoreSpeech(const std::vector<SpeechSegment>& reference,
                              const std::vector<SpeechSegment>& detected, double duration_seconds,
                              double frame_seconds = 0.01);

// The speaker turns of an RTTM file ("SPEAKER uri channel start duration ..." lines) as
// segments, in file order. Errors: kIo, kCorrupt (a SPEAKER line that does not parse).
Result<std::vector<SpeechSegment>> ReadRttmTurns(const std::string& path);

}  // namespace crm::audio::vad
