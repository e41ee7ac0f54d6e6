#include "diarization/voiceprint.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "diarization/embedding.h"
#include "diarization/features.h"

namespace crm::diarization {

std::vector<float> VoiceprintFromFrames(const Matrix& mfcc, const std::vector<size_t>& frames) {
  if (frames.empty() || mfcc.cols < 2) return {};
  const size_t d = mfcc.cols - 1;
  // Reference: the louder half of the recording's frames (c0 above its median), which is
  // mostly speech; the voice is described relative to it, which cancels most of the channel.
  std::vector<float> energy(mfcc.rows);
  for (size_t f = 0; f < mfcc.rows; ++f) energy[f] = mfcc.at(f, 0);
  std::vector<float> sorted = energy;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const float median = sorted[sorted.size() / 2];
  std::vector<double> rsum(d, 0), rsq(d, 0);
  double rn = 0;
  for (size_t f = 0; f < mfcc.rows; ++f) {
    if (energy[f] < median) continue;
    const float* x = mfcc.row(f) + 1;
    for (size_t j = 0; j < d; ++j) {
      rsum[j] += x[j];
      rsq[j] += static_cast<double>(x[j]) * x[j];
    }
    rn += 1;
  }
  std::vector<double> sum(d, 0), sq(d, 0);
  for (size_t f : frames) {
    const float* x = mfcc.row(f) + 1;
    for (size_t j = 0; j < d; ++j) {
      sum[j] += x[j];
      sq[j] += static_cast<double>(x[j]) * x[j];
    }
  }
  std::vector<float> v(2 * d);
  const double n = static_cast<double>(frames.size());
  for (size_t j = 0; j < d; ++j) {
    double rm = rsum[j] / rn;
    double rsd = std::sqrt(std::max(rsq[j] / rn - rm * rm, 1e-6));
    double m = sum[j] / n;
    v[j] = static_cast<float>((m - rm) / rsd);
    v[d + j] = static_cast<float>(std::sqrt(std::max(0.0, sq[j] / n - m * m)) / rsd);
  }
  return v;
}

Result<std::vector<float>> ComputeVoiceprint(const float* pcm, size_t n,
                                             const std::vector<TimeRange>& ranges,
                                             double min_seconds) {
  CRM_ASSIGN_OR_RETURN(Matrix mfcc, ComputeMfcc(pcm, n));
  std::vector<size_t> frames;
  std::vector<char> taken(mfcc.rows, 0);
  for (const TimeRange& r : ranges) {
    if (!(r.end > r.start)) return InvalidArgument("voiceprint range ends before it starts");
    for (size_t f = FrameAt(r.start, mfcc.rows); f < FrameAt(r.end, mfcc.rows); ++f) {
      if (!taken[f]) {
        taken[f] = 1;
        frames.push_back(f);
      }
    }
  }
  std::sort(frames.begin(), frames.end());
  if (frames.size() * kFrameSeconds < min_seconds) {
    return InvalidArgument("a voiceprint needs at least " + std::to_string(min_seconds) +
                           " s of the speaker's speech inside the audio");
  }
  return VoiceprintFromFrames(mfcc, frames);
}

Status VoiceprintBuilder::Flush(bool all) {
  constexpr size_t kWindow = 400, kHop = 160;  // features.h: 25 ms windows every 10 ms
  // Frames only depend on their own 400 samples, so features computed piece by piece are the
  // features of the whole audio: each piece ends on the last complete frame, and the samples
  // after that frame's start are kept for the next one.
  if (pending_.size() < kWindow || (!all && pending_.size() < 10 * 16000)) return OkStatus();
  size_t frames = (pending_.size() - kWindow) / kHop + 1;
  CRM_ASSIGN_OR_RETURN(Matrix part, ComputeMfcc(pending_.data(), (frames - 1) * kHop + kWindow));
  if (mfcc_.cols == 0) mfcc_.cols = part.cols;
  mfcc_.data.insert(mfcc_.data.end(), part.data.begin(), part.data.end());
  mfcc_.rows += part.rows;
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(frames * kHop));
  return OkStatus();
}

Status VoiceprintBuilder::Add(const float* pcm, size_t n) {
  pending_.insert(pending_.end(), pcm, pcm + n);
  samples_ += n;
  return Flush(false);
}

Result<std::vector<float>> VoiceprintBuilder::Finish(const std::vector<TimeRange>& ranges,
                                                     double min_seconds, double* speech_seconds) {
  CRM_TRY(Flush(true));
  std::vector<size_t> frames;
  std::vector<char> taken(mfcc_.rows, 0);
  for (const TimeRange& r : ranges) {
    if (!(r.end > r.start)) return InvalidArgument("voiceprint range ends before it starts");
    for (size_t f = FrameAt(r.start, mfcc_.rows); f < FrameAt(r.end, mfcc_.rows); ++f) {
      if (!taken[f]) {
        taken[f] = 1;
        frames.push_back(f);
      }
    }
  }
  std::sort(frames.begin(), frames.end());
  double seconds = static_cast<double>(frames.size()) * kFrameSeconds;
  if (speech_seconds) *speech_seconds = seconds;
  if (frames.empty() || seconds < min_seconds) {
    return InvalidArgument("a voiceprint needs at least " + std::to_string(min_seconds) +
                           " s of the speaker's speech inside the audio");
  }
  return VoiceprintFromFrames(mfcc_, frames);
}

}  // namespace crm::diarization
