// The model-free detector: frame energy above the audio's own noise floor.
//
// Every 10 ms, the level (dB) of the last 20 ms after a pre-emphasis filter (which tilts away
// the low-frequency hum and rumble that carry no speech) is compared with the noise floor, a low
// percentile of the levels within +-5 s. The difference, smoothed over +-20 ms, maps through a
// logistic to a probability; audio quieter than an absolute level is silence whatever its
// floor. Streaming with bounded memory (about 10 s of levels); probabilities come out 5 s behind
// the input, the rest at Finish().
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

namespace crm::audio::vad {

struct EnergyOptions {
  int hop_samples = 160;           // 10 ms at 16 kHz
  int window_samples = 320;        // 20 ms
  float preemphasis = 0.97f;       // y[n] = x[n] - a x[n-1]
  int floor_half_frames = 500;     // +-5 s around each frame for the noise floor
  float floor_percentile = 0.10f;  // the floor: this quantile of the levels
  int smooth_half_frames = 2;      // +-20 ms moving average of levels
  float margin_db = 11.0f;         // level above the floor at which p = 0.5
  float slope_db = 2.5f;           // logistic width
  float silence_dbfs = -60.0f;     // below this absolute level: p = 0
};

class EnergyStream {
 public:
  explicit EnergyStream(const EnergyOptions& options = {});
  void Reset();
  void Feed(const float* pcm, size_t n, std::vector<float>* out);
  void Finish(std::vector<float>* out);
  double frame_seconds() const { return o_.hop_samples / 16000.0; }

 private:
  void EmitReady(bool final, std::vector<float>* out);
  float Probability(size_t i);

  EnergyOptions o_;
  float prev_sample_ = 0;
  std::vector<float> window_;  // last window_samples pre-emphasised samples
  size_t filled_ = 0;          // samples in window_ (up to window_samples)
  int since_hop_ = 0;          // samples since the last frame
  std::deque<float> levels_;   // dB levels from frame base_ on
  size_t base_ = 0;            // frame index of levels_.front()
  size_t next_out_ = 0;        // next frame to emit
  size_t frames_ = 0;          // frames measured so far
  std::vector<float> scratch_;
};

}  // namespace crm::audio::vad
