#include "diarization/voiceprint_match.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace crm::diarization {
namespace {

// Logistic calibration of the voiceprint distance (README.md, "Voiceprints"): 50 % at a cosine
// distance of 0.45, 90 % at 0.23.
constexpr double kCalibrationScale = -10.0;
constexpr double kCalibrationOffset = 4.5;

}  // namespace

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
