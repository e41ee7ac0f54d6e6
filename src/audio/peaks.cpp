#include "audio/peaks.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace crm::audio {

namespace {

constexpr char kMagic[8] = {'C', 'R', 'M', 'P', 'E', 'A', 'K', '1'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8;
constexpr size_t kBlockSamples = 1 << 16;

// Rounded away from zero so that any sound shows at least one step.
int8_t Quantise(float v, bool up) {
  float clamped = std::clamp(v, -1.0f, 1.0f) * 127.0f;
  float r = up ? std::ceil(clamped) : std::floor(clamped);
  return static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
}

template <typename T>
void PutLe(std::string& out, T v) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // the targets are little-endian (x86-64, aarch64)
  out.append(reinterpret_cast<const char*>(b), sizeof(T));
}

template <typename T>
T GetLe(std::string_view in, size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof(T));
  return v;
}

}  // namespace

PeakBuilder::PeakBuilder(int sample_rate, PeakOptions options)
    : sample_rate_(std::max(1, sample_rate)),
      per_second_(std::clamp(options.peaks_per_second, 1, 1000)) {
  bucket_ = std::max<size_t>(1, static_cast<size_t>(sample_rate_ / per_second_));
}

void PeakBuilder::Add(const float* samples, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    float v = std::isfinite(samples[i]) ? samples[i] : 0.0f;
    if (in_bucket_ == 0) {
      lo_ = hi_ = v;
    } else {
      lo_ = std::min(lo_, v);
      hi_ = std::max(hi_, v);
    }
    if (++in_bucket_ == bucket_) Flush();
  }
  total_ += n;
}

void PeakBuilder::Flush() {
  pairs_.push_back(Quantise(lo_, false));
  pairs_.push_back(Quantise(hi_, true));
  in_bucket_ = 0;
}

Peaks PeakBuilder::Finish() {
  if (in_bucket_ > 0) Flush();
  Peaks p;
  p.peaks_per_second = per_second_;
  p.sample_rate = sample_rate_;
  p.duration_seconds = static_cast<double>(total_) / sample_rate_;
  p.pairs = std::move(pairs_);
  pairs_.clear();
  total_ = 0;
  return p;
}

Result<Peaks> ComputePeaks(const SampleSource& samples, PeakOptions options) {
  PeakBuilder builder(samples.sample_rate(), options);
  std::vector<float> block(kBlockSamples);
  for (size_t at = 0; at < samples.size();) {
    CRM_ASSIGN_OR_RETURN(size_t n, samples.Read(at, block.data(), block.size()));
    if (n == 0) break;
    builder.Add(block.data(), n);
    at += n;
  }
  return builder.Finish();
}

namespace {

Result<Peaks> PeaksOfStream(PcmStream& stream, PeakOptions options, const ProgressSink& progress) {
  const double expected = stream.info().duration_seconds * kSampleRate;
  PeakBuilder builder(kSampleRate, options);
  std::vector<float> block(kBlockSamples);
  size_t done = 0;
  for (;;) {
    CRM_ASSIGN_OR_RETURN(size_t n, stream.Read(block.data(), block.size()));
    if (n == 0) break;
    builder.Add(block.data(), n);
    done += n;
    if (expected > 0) progress.Report(std::min(1.0, done / expected));
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "peaks cancelled");
  }
  return builder.Finish();
}

}  // namespace

Result<Peaks> ComputePeaksOfFile(const std::string& path, PeakOptions options,
                                 const ProgressSink& progress) {
  CRM_ASSIGN_OR_RETURN(auto stream, PcmStream::Open(path, kSampleRate));
  return PeaksOfStream(*stream, options, progress);
}

Result<Peaks> ComputePeaksOfSource(std::shared_ptr<ByteSource> source, PeakOptions options,
                                   const ProgressSink& progress) {
  CRM_ASSIGN_OR_RETURN(auto stream, PcmStream::Open(std::move(source), kSampleRate));
  return PeaksOfStream(*stream, options, progress);
}

std::string EncodePeaks(const Peaks& peaks) {
  std::string out;
  out.reserve(kHeaderBytes + peaks.pairs.size());
  out.append(kMagic, sizeof(kMagic));
  PutLe<uint32_t>(out, static_cast<uint32_t>(peaks.peaks_per_second));
  PutLe<uint32_t>(out, static_cast<uint32_t>(peaks.sample_rate));
  PutLe<double>(out, peaks.duration_seconds);
  PutLe<uint64_t>(out, static_cast<uint64_t>(peaks.size()));
  out.append(reinterpret_cast<const char*>(peaks.pairs.data()), peaks.size() * 2);
  return out;
}

Result<Peaks> DecodePeaks(std::string_view bytes) {
  auto corrupt = [] { return Error(ErrorCode::kCorrupt, "waveform peaks unreadable"); };
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    return corrupt();
  Peaks p;
  uint32_t per_second = GetLe<uint32_t>(bytes, 8);
  uint32_t rate = GetLe<uint32_t>(bytes, 12);
  p.duration_seconds = GetLe<double>(bytes, 16);
  uint64_t count = GetLe<uint64_t>(bytes, 24);
  if (per_second == 0 || per_second > 1000 || rate == 0 || !std::isfinite(p.duration_seconds) ||
      p.duration_seconds < 0 || count > (bytes.size() - kHeaderBytes) / 2 ||
      bytes.size() != kHeaderBytes + count * 2)
    return corrupt();
  p.peaks_per_second = static_cast<int>(per_second);
  p.sample_rate = static_cast<int>(rate);
  p.pairs.resize(count * 2);
  std::memcpy(p.pairs.data(), bytes.data() + kHeaderBytes, count * 2);
  return p;
}

Peaks Downsample(const Peaks& peaks, size_t max_pairs) {
  if (max_pairs == 0 || peaks.size() <= max_pairs) return peaks;
  const size_t factor = (peaks.size() + max_pairs - 1) / max_pairs;
  Peaks out;
  out.sample_rate = peaks.sample_rate;
  out.duration_seconds = peaks.duration_seconds;
  out.peaks_per_second = std::max(1, static_cast<int>(peaks.peaks_per_second / factor));
  out.pairs.reserve((peaks.size() / factor + 1) * 2);
  for (size_t i = 0; i < peaks.size(); i += factor) {
    int8_t lo = peaks.pairs[2 * i], hi = peaks.pairs[2 * i + 1];
    for (size_t j = i + 1; j < std::min(peaks.size(), i + factor); ++j) {
      lo = std::min(lo, peaks.pairs[2 * j]);
      hi = std::max(hi, peaks.pairs[2 * j + 1]);
    }
    out.pairs.push_back(lo);
    out.pairs.push_back(hi);
  }
  return out;
}

}  // namespace crm::audio
