#include "asr/whisper/mel.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>

namespace crm::asr::whisper {
namespace {

using Complex = std::complex<double>;
constexpr int kBins = kNfft / 2 + 1;  // 201

int SmallestFactor(int n) {
  for (int p = 2; p * p <= n; ++p)
    if (n % p == 0) return p;
  return n;
}

// Mixed-radix decimation-in-time FFT of size n (a divisor of 400) in double precision.
// twiddle(j) for this size is exp(-2 pi i j / n) = table[j * 400 / n].
void Fft(const Complex* in, int stride, int n, Complex* out, const double* cs, const double* sn) {
  if (n == 1) {
    out[0] = in[0];
    return;
  }
  const int p = SmallestFactor(n);
  const int m = n / p;
  for (int r = 0; r < p; ++r) Fft(in + r * stride, stride * p, m, out + r * m, cs, sn);
  Complex tmp[kNfft];
  const int step = kNfft / n;
  for (int k = 0; k < m; ++k) {
    for (int q = 0; q < p; ++q) {
      const int idx = k + q * m;
      Complex acc = out[k];
      for (int r = 1; r < p; ++r) {
        const int j = (r * idx) % n * step;
        acc += out[r * m + k] * Complex(cs[j], sn[j]);
      }
      tmp[idx] = acc;
    }
  }
  std::copy(tmp, tmp + n, out);
}

}  // namespace

MelSpectrogram::MelSpectrogram(int n_mels, std::vector<float> filters)
    : n_mels_(n_mels), filters_(std::move(filters)), window_(kNfft), cos_(kNfft), sin_(kNfft) {
  for (int i = 0; i < kNfft; ++i) {
    window_[i] = 0.5 * (1.0 - std::cos(2.0 * M_PI * i / kNfft));
    cos_[i] = std::cos(-2.0 * M_PI * i / kNfft);
    sin_[i] = std::sin(-2.0 * M_PI * i / kNfft);
  }
  // Mel filters are narrow triangles: only their non-zero bins are summed.
  for (int m = 0; m < n_mels_; ++m) {
    const float* w = &filters_[static_cast<size_t>(m) * kBins];
    int lo = 0, hi = kBins;
    while (lo < kBins && w[lo] == 0.0f) ++lo;
    while (hi > lo && w[hi - 1] == 0.0f) --hi;
    support_.emplace_back(lo, hi);
  }
}

void MelSpectrogram::FramePower(const Span& signal, int64_t frame, double* power) const {
  const int64_t total = static_cast<int64_t>(signal.n + signal.pad);
  const int64_t n = static_cast<int64_t>(signal.n);
  const float* data = signal.data - signal.origin;  // data[q] is sample q
  Complex in[kNfft];
  Complex out[kNfft];
  const int64_t base = frame * kHop - kNfft / 2;
  for (int t = 0; t < kNfft; ++t) {
    int64_t q = base + t;
    if (q < 0) q = -q;                        // reflection at the start
    if (q >= total) q = 2 * (total - 1) - q;  // reflection at the end
    const double x = (q >= 0 && q < n) ? data[q] : 0.0;
    in[t] = Complex(x * window_[t], 0.0);
  }
  Fft(in, 1, kNfft, out, cos_.data(), sin_.data());
  for (int k = 0; k < kBins; ++k) power[k] = std::norm(out[k]);
}

void MelSpectrogram::Log10Mel(const Span& signal, int64_t first, int64_t count, float* out,
                              int64_t ld) const {
  double power[kBins];
  for (int64_t f = 0; f < count; ++f) {
    FramePower(signal, first + f, power);
    for (int m = 0; m < n_mels_; ++m) {
      const float* w = &filters_[static_cast<size_t>(m) * kBins];
      double s = 0;
      for (int k = support_[m].first; k < support_[m].second; ++k) s += w[k] * power[k];
      out[m * ld + f] = static_cast<float>(std::log10(std::max(s, 1e-10)));
    }
  }
}

void MelSpectrogram::Log10Mel(const float* pcm, size_t n, size_t pad, int64_t first, int64_t count,
                              float* out, int64_t ld) const {
  Log10Mel(Span{pcm, 0, static_cast<int64_t>(n), n, pad}, first, count, out, ld);
}

float MelSpectrogram::MaxOfFrames(const Span& signal, int64_t first, int64_t count) const {
  float best = -std::numeric_limits<float>::infinity();
  std::vector<float> col(n_mels_);
  for (int64_t f = first; f < first + count; ++f) {
    Log10Mel(signal, f, 1, col.data(), 1);
    for (float v : col) best = std::max(best, v);
  }
  return best;
}

namespace {

// Frames whose window lies entirely in the zero padding are all log10(1e-10) = -10: the last
// frame that can reach audio, after which one such frame stands for all the others.
int64_t LastFrameWithAudio(size_t n, size_t pad) {
  const int64_t frames = MelSpectrogram::FrameCount(n, pad);
  return std::min<int64_t>(frames - 1, static_cast<int64_t>((n + kNfft) / kHop + 1));
}

}  // namespace

float MelSpectrogram::GlobalMax(const float* pcm, size_t n, size_t pad) const {
  const int64_t frames = FrameCount(n, pad);
  const int64_t last_with_audio = LastFrameWithAudio(n, pad);
  float best = MaxOfFrames(Span{pcm, 0, static_cast<int64_t>(n), n, pad}, 0, last_with_audio + 1);
  if (last_with_audio < frames - 1) best = std::max(best, -10.0f);
  return best;
}

Result<MelSpectrogram::Span> MelSpectrogram::ReadSpan(const audio::SampleSource& source, size_t pad,
                                                      int64_t first, int64_t count,
                                                      std::vector<float>* buffer) {
  // A frame reaches kNfft / 2 samples either side of its centre, and reflection at the start
  // reaches as far in; a margin of a whole kNfft covers both.
  const int64_t n = static_cast<int64_t>(source.size());
  const int64_t lo = std::clamp<int64_t>(first * kHop - kNfft, 0, n);
  const int64_t hi = std::clamp<int64_t>((first + count) * kHop + kNfft, lo, n);
  buffer->resize(static_cast<size_t>(hi - lo));
  CRM_ASSIGN_OR_RETURN(size_t got,
                       source.Read(static_cast<size_t>(lo), buffer->data(), buffer->size()));
  if (got != buffer->size())
    return IoError("the audio source returned " + std::to_string(got) + " samples instead of " +
                   std::to_string(buffer->size()));
  return Span{buffer->data(), lo, hi - lo, source.size(), pad};
}

Result<float> MelSpectrogram::GlobalMax(const audio::SampleSource& source, size_t pad,
                                        const ProgressSink& progress) const {
  const size_t n = source.size();
  const int64_t frames = FrameCount(n, pad);
  const int64_t last_with_audio = LastFrameWithAudio(n, pad);
  float best = -std::numeric_limits<float>::infinity();
  std::vector<float> buffer;
  for (int64_t first = 0; first <= last_with_audio; first += kChunkFrames) {
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "transcription cancelled");
    const int64_t count = std::min<int64_t>(kChunkFrames, last_with_audio + 1 - first);
    CRM_ASSIGN_OR_RETURN(Span span, ReadSpan(source, pad, first, count, &buffer));
    best = std::max(best, MaxOfFrames(span, first, count));
  }
  if (last_with_audio < frames - 1) best = std::max(best, -10.0f);
  return best;
}

void MelSpectrogram::Normalize(float* data, size_t count, float global_max) {
  const float floor = global_max - 8.0f;
  for (size_t i = 0; i < count; ++i) data[i] = (std::max(data[i], floor) + 4.0f) / 4.0f;
}

void MelSpectrogram::NormalizedWindow(const Span& signal, int64_t first, float global_max,
                                      std::vector<float>* out) const {
  out->assign(static_cast<size_t>(n_mels_) * kChunkFrames, 0.0f);
  const int64_t frames = FrameCount(signal.n, signal.pad);
  const int64_t count = std::clamp<int64_t>(frames - first, 0, kChunkFrames);
  if (count <= 0) return;
  Log10Mel(signal, first, count, out->data(), kChunkFrames);
  for (int m = 0; m < n_mels_; ++m)
    Normalize(out->data() + static_cast<size_t>(m) * kChunkFrames, count, global_max);
}

void MelSpectrogram::Window(const float* pcm, size_t n, size_t pad, int64_t first, float global_max,
                            std::vector<float>* out) const {
  NormalizedWindow(Span{pcm, 0, static_cast<int64_t>(n), n, pad}, first, global_max, out);
}

Status MelSpectrogram::Window(const audio::SampleSource& source, size_t pad, int64_t first,
                              float global_max, std::vector<float>* out,
                              std::vector<float>* samples) const {
  const int64_t frames = FrameCount(source.size(), pad);
  const int64_t count = std::clamp<int64_t>(frames - first, 0, kChunkFrames);
  CRM_ASSIGN_OR_RETURN(Span span, ReadSpan(source, pad, first, count, samples));
  NormalizedWindow(span, first, global_max, out);
  return OkStatus();
}

}  // namespace crm::asr::whisper
