#include "audio/vad/energy_detector.h"

#include <algorithm>
#include <cmath>

namespace crm::audio::vad {

EnergyStream::EnergyStream(const EnergyOptions& options) : o_(options) { Reset(); }

void EnergyStream::Reset() {
  prev_sample_ = 0;
  window_.assign(o_.window_samples, 0.f);
  filled_ = 0;
  since_hop_ = 0;
  levels_.clear();
  base_ = next_out_ = frames_ = 0;
}

void EnergyStream::Feed(const float* pcm, size_t n, std::vector<float>* out) {
  const size_t w = window_.size();
  for (size_t i = 0; i < n; ++i) {
    const float y = pcm[i] - o_.preemphasis * prev_sample_;
    prev_sample_ = pcm[i];
    window_[filled_ % w] = y;  // ring buffer; order does not matter for the energy
    ++filled_;
    if (++since_hop_ < o_.hop_samples) continue;
    since_hop_ = 0;
    double sum = 0;
    for (float v : window_) sum += double{v} * v;
    const double count = static_cast<double>(std::min(filled_, w));
    levels_.push_back(static_cast<float>(10.0 * std::log10(sum / count + 1e-10)));
    ++frames_;
  }
  EmitReady(false, out);
}

void EnergyStream::Finish(std::vector<float>* out) {
  // A last partial hop counts as a frame (as the network pads its last frame).
  if (since_hop_ > 0) {
    const std::vector<float> zeros(o_.hop_samples - since_hop_, 0.f);
    Feed(zeros.data(), zeros.size(), nullptr);
  }
  EmitReady(true, out);
}

float EnergyStream::Probability(size_t i) {
  const size_t lookahead = static_cast<size_t>(o_.floor_half_frames);
  const size_t lo = i > lookahead ? i - lookahead : 0;
  const size_t hi = std::min(frames_, i + lookahead + 1);
  scratch_.assign(levels_.begin() + (lo - base_), levels_.begin() + (hi - base_));
  const size_t q = static_cast<size_t>(o_.floor_percentile * (scratch_.size() - 1));
  std::nth_element(scratch_.begin(), scratch_.begin() + q, scratch_.end());
  const float floor = scratch_[q];
  const size_t s = static_cast<size_t>(o_.smooth_half_frames);
  const size_t a = i > s ? i - s : 0;
  const size_t b = std::min(frames_, i + s + 1);
  float level = 0;
  for (size_t k = a; k < b; ++k) level += levels_[k - base_];
  level /= static_cast<float>(b - a);
  if (level < o_.silence_dbfs) return 0.f;
  return 1.f / (1.f + std::exp(-(level - floor - o_.margin_db) / o_.slope_db));
}

void EnergyStream::EmitReady(bool final, std::vector<float>* out) {
  if (!out) return;
  const size_t lookahead =
      static_cast<size_t>(std::max(o_.floor_half_frames, o_.smooth_half_frames));
  while (next_out_ < frames_ && (final || next_out_ + lookahead < frames_)) {
    out->push_back(Probability(next_out_));
    ++next_out_;
    // Levels older than the floor window of the next frame are no longer needed.
    while (base_ + lookahead < next_out_ && !levels_.empty()) {
      levels_.pop_front();
      ++base_;
    }
  }
}

}  // namespace crm::audio::vad
