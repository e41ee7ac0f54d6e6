#include "diarization/voiceprint.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "diarization/embedding.h"
#include "diarization/features.h"

namespace crm::diarization {
namespace {

// Logistic calibration of the voiceprint distance (README.md, "Voiceprints"): 50 % at a cosine
// distance of 0.45, 90 % at 0.23.
constexpr double kCalibrationScale = -10.0;
constexpr double kCalibrationOffset = 4.5;

}  // namespace

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

Result<std::vector<float>> AverageVoiceprints(const std::vector<WeightedVoiceprint>& parts) {
  if (parts.empty()) return InvalidArgument("no voiceprint to average");
  const size_t dims = parts[0].voiceprint.size();
  double total = 0;
  for (const auto& p : parts) {
    if (dims == 0 || p.voiceprint.size() != dims)
      return InvalidArgument("voiceprints of different sizes cannot be averaged");
    if (!(p.seconds > 0) || !std::isfinite(p.seconds))
      return InvalidArgument("a voiceprint's weight must be a positive number of seconds");
    total += p.seconds;
  }
  std::vector<double> sum(dims, 0);
  for (const auto& p : parts)
    for (size_t j = 0; j < dims; ++j) sum[j] += p.seconds * p.voiceprint[j];
  std::vector<float> out(dims);
  for (size_t j = 0; j < dims; ++j) out[j] = static_cast<float>(sum[j] / total);
  return out;
}

std::string SerializeVoiceprint(const std::vector<float>& v) {
  std::ostringstream out;
  out << "crm-voiceprint v" << kVoiceprintVersion << ' ' << v.size();
  out.precision(9);
  for (float x : v) out << ' ' << x;
  return out.str();
}

Result<std::vector<float>> ParseVoiceprint(const std::string& text) {
  std::istringstream in(text);
  std::string magic, version;
  long long dims = -1;
  in >> magic >> version >> dims;
  if (magic != "crm-voiceprint") return Error(ErrorCode::kCorrupt, "not a voiceprint");
  if (version != "v" + std::to_string(kVoiceprintVersion)) {
    return Error(ErrorCode::kCorrupt, "unsupported voiceprint version " + version);
  }
  if (!in || dims <= 0 || dims > 4096) return Error(ErrorCode::kCorrupt, "bad voiceprint size");
  std::vector<float> v(static_cast<size_t>(dims));
  for (float& x : v) {
    if (!(in >> x) || !std::isfinite(x)) return Error(ErrorCode::kCorrupt, "truncated voiceprint");
  }
  std::string extra;
  if (in >> extra) return Error(ErrorCode::kCorrupt, "trailing data after voiceprint");
  return v;
}

double VoiceprintConfidence(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.empty() || a.size() % 2 != 0 || b.size() != a.size()) return 0;
  // Cosine distance of the relative cepstral means. The spreads (second half) are kept in the
  // voiceprint but left out: they vary more with the room than with the voice.
  double dot = 0, na = 0, nb = 0;
  for (size_t j = 0; j < a.size() / 2; ++j) {
    double x = a[j], y = b[j];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  double distance = 1.0 - dot / std::sqrt(std::max(na * nb, 1e-24));
  return 1.0 / (1.0 + std::exp(-(kCalibrationScale * distance + kCalibrationOffset)));
}

std::vector<VoiceprintMatch> MatchSpeakers(const std::vector<std::vector<float>>& speakers,
                                           const std::vector<KnownSpeaker>& known,
                                           const VoiceprintMatchOptions& options) {
  struct Candidate {
    double confidence;
    size_t speaker, known;
  };
  std::vector<Candidate> all;
  for (size_t s = 0; s < speakers.size(); ++s) {
    for (size_t k = 0; k < known.size(); ++k) {
      double c = VoiceprintConfidence(speakers[s], known[k].voiceprint);
      if (c >= options.threshold) all.push_back({c, s, k});
    }
  }
  std::sort(all.begin(), all.end(),
            [](const Candidate& x, const Candidate& y) { return x.confidence > y.confidence; });
  std::vector<char> speaker_done(speakers.size(), 0), known_done(known.size(), 0);
  std::vector<VoiceprintMatch> out;
  for (const Candidate& c : all) {
    if (speaker_done[c.speaker] || known_done[c.known]) continue;
    speaker_done[c.speaker] = known_done[c.known] = 1;
    out.push_back({static_cast<int>(c.speaker), known[c.known].id, c.confidence});
  }
  std::sort(out.begin(), out.end(), [](const VoiceprintMatch& x, const VoiceprintMatch& y) {
    return x.speaker < y.speaker;
  });
  return out;
}

}  // namespace crm::diarization
