#include "audio/vad/segmentation.h"

#include <algorithm>

namespace crm::audio::vad {

SpeechSegmenter::SpeechSegmenter(double frame_seconds, const SegmentationOptions& options)
    : frame_(frame_seconds),
      o_(options),
      neg_(options.neg_threshold >= 0 ? options.neg_threshold
                                      : std::max(options.threshold - 0.15f, 0.01f)) {}

void SpeechSegmenter::Push(const float* probabilities, size_t n, std::vector<SpeechSegment>* out) {
  for (size_t k = 0; k < n; ++k, ++frame_index_) {
    const float p = probabilities[k];
    if (!in_speech_) {
      if (p >= o_.threshold) {
        in_speech_ = true;
        silent_ = false;
        start_ = frame_index_;
      }
      continue;
    }
    if (p >= o_.threshold) {
      silent_ = false;  // the dip was too short: bridged
    } else if (p < neg_) {
      if (!silent_) {
        silent_ = true;
        silence_from_ = frame_index_;
      }
      if (static_cast<double>(frame_index_ + 1 - silence_from_) * frame_ >=
          o_.min_silence_seconds) {
        Close(silence_from_, out);
      }
    }
  }
}

void SpeechSegmenter::Close(size_t end_frame, std::vector<SpeechSegment>* out) {
  in_speech_ = false;
  silent_ = false;
  const double start = static_cast<double>(start_) * frame_;
  const double end = static_cast<double>(end_frame) * frame_;
  if (end - start < o_.min_speech_seconds) return;
  Emit({std::max(0.0, start - o_.pad_seconds), end + o_.pad_seconds}, out);
}

void SpeechSegmenter::Emit(SpeechSegment s, std::vector<SpeechSegment>* out) {
  if (has_held_ && held_.end >= s.start) {
    held_.end = std::max(held_.end, s.end);
    return;
  }
  if (has_held_) out->push_back(held_);
  held_ = s;
  has_held_ = true;
}

void SpeechSegmenter::Finish(double duration_seconds, std::vector<SpeechSegment>* out) {
  if (in_speech_) {
    // An open dip at the end still ends the speech where it began.
    const size_t end_frame = silent_ ? silence_from_ : frame_index_;
    in_speech_ = false;
    const double start = static_cast<double>(start_) * frame_;
    const double end = std::min(static_cast<double>(end_frame) * frame_, duration_seconds);
    if (end - start >= o_.min_speech_seconds)
      Emit({std::max(0.0, start - o_.pad_seconds), end + o_.pad_seconds}, out);
  }
  if (has_held_) {
    held_.start = std::min(held_.start, duration_seconds);
    held_.end = std::min(held_.end, duration_seconds);
    if (held_.end > held_.start) out->push_back(held_);
    has_held_ = false;
  }
}

std::vector<SpeechSegment> SegmentSpeech(const std::vector<float>& probabilities,
                                         double frame_seconds, double duration_seconds,
                                         const SegmentationOptions& options) {
  std::vector<SpeechSegment> out;
  SpeechSegmenter s(frame_seconds, options);
  s.Push(probabilities.data(), probabilities.size(), &out);
  s.Finish(duration_seconds, &out);
  return out;
}

}  // namespace crm::audio::vad
