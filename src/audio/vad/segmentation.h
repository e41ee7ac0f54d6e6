// From frame probabilities to speech segments, with hysteresis.
//
// Speech starts at a frame whose probability reaches `threshold` and continues until the
// probability stays below `neg_threshold` for at least `min_silence_seconds` (shorter dips are
// bridged: AMI-style turns run through short pauses). Segments shorter than
// `min_speech_seconds` are dropped; the rest are widened by `pad_seconds` on both sides (never
// past the audio's ends; segments that then touch or overlap are merged).
#pragma once

#include <cstddef>
#include <vector>

#include "audio/vad.h"

namespace crm::audio::vad {

// Segments of `probabilities` (frame i covers [i, i+1) * frame_seconds), clipped to
// [0, duration_seconds].
std::vector<SpeechSegment> SegmentSpeech(const std::vector<float>& probabilities,
                                         double frame_seconds, double duration_seconds,
                                         const SegmentationOptions& options);

// Incremental form, for streams: frames are pushed as they are computed; a segment comes out
// once the next one is closed (it can no longer be merged) or at Finish(). Gives the same
// segments as SegmentSpeech on the concatenated probabilities.
class SpeechSegmenter {
 public:
  SpeechSegmenter(double frame_seconds, const SegmentationOptions& options);
  void Push(const float* probabilities, size_t n, std::vector<SpeechSegment>* out);
  // Closes an open segment at the end of the audio (duration_seconds).
  void Finish(double duration_seconds, std::vector<SpeechSegment>* out);

 private:
  void Close(size_t end_frame, std::vector<SpeechSegment>* out);
  void Emit(SpeechSegment s, std::vector<SpeechSegment>* out);

  double frame_;
  SegmentationOptions o_;
  float neg_;
  size_t frame_index_ = 0;
  bool in_speech_ = false;
  size_t start_ = 0;         // first frame of the open segment
  size_t silence_from_ = 0;  // first frame of the current dip, when silent_ is true
  bool silent_ = false;
  bool has_held_ = false;  // a padded segment kept until the next one cannot overlap it
  SpeechSegment held_;
};

}  // namespace crm::audio::vad
