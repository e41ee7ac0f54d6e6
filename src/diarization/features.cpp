#include "diarization/features.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

namespace crm::diarization {
namespace {

constexpr int kSampleRate = 16000;
constexpr int kWindow = 400;  // 25 ms
constexpr int kHop = 160;     // 10 ms
constexpr int kFft = 512;
constexpr int kBins = kFft / 2 + 1;

// In-place iterative radix-2 FFT of a power-of-two length, with precomputed twiddles.
class Fft {
 public:
  explicit Fft(int n) : n_(n), twiddle_(n / 2), rev_(n) {
    for (int i = 0; i < n / 2; ++i) {
      double a = -2.0 * std::numbers::pi * i / n;
      twiddle_[i] = {static_cast<float>(std::cos(a)), static_cast<float>(std::sin(a))};
    }
    int bits = 0;
    while ((1 << bits) < n) ++bits;
    for (int i = 0; i < n; ++i) {
      int r = 0;
      for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
      rev_[i] = r;
    }
  }

  void Transform(std::complex<float>* x) const {
    for (int i = 0; i < n_; ++i) {
      if (i < rev_[i]) std::swap(x[i], x[rev_[i]]);
    }
    for (int len = 2; len <= n_; len <<= 1) {
      int half = len / 2, step = n_ / len;
      for (int i = 0; i < n_; i += len) {
        for (int j = 0; j < half; ++j) {
          std::complex<float> t = x[i + j + half] * twiddle_[j * step];
          x[i + j + half] = x[i + j] - t;
          x[i + j] += t;
        }
      }
    }
  }

 private:
  int n_;
  std::vector<std::complex<float>> twiddle_;
  std::vector<int> rev_;
};

double HzToMel(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

// Triangular mel filters as (first bin, weights) pairs.
struct MelFilter {
  int first = 0;
  std::vector<float> weights;
};

std::vector<MelFilter> MakeMelFilters(int bands) {
  double lo = HzToMel(20.0), hi = HzToMel(7600.0);
  std::vector<MelFilter> filters(bands);
  for (int b = 0; b < bands; ++b) {
    double left = lo + (hi - lo) * b / (bands + 1);
    double centre = lo + (hi - lo) * (b + 1) / (bands + 1);
    double right = lo + (hi - lo) * (b + 2) / (bands + 1);
    MelFilter& f = filters[b];
    f.first = -1;
    for (int k = 0; k < kBins; ++k) {
      double mel = HzToMel(static_cast<double>(k) * kSampleRate / kFft);
      double w = 0;
      if (mel > left && mel < centre) w = (mel - left) / (centre - left);
      else if (mel >= centre && mel < right) w = (right - mel) / (right - centre);
      if (w <= 0) {
        if (f.first >= 0) break;
        continue;
      }
      if (f.first < 0) f.first = k;
      f.weights.push_back(static_cast<float>(w));
    }
    if (f.first < 0) f.first = 0;
  }
  return filters;
}

}  // namespace

size_t FrameAt(double seconds, size_t frames) {
  if (seconds <= 0) return 0;
  size_t i = static_cast<size_t>(std::floor(seconds / kFrameSeconds + 1e-6));
  return std::min(i, frames);
}

Result<Matrix> ComputeMfcc(const float* pcm, size_t n, const FeatureOptions& options,
                                  const ProgressSink& progress) {
  if (options.mel_bands < 4 || options.cepstra < 2 || options.cepstra > options.mel_bands) {
    return InvalidArgument("feature options: need 4+ mel bands and 2..mel_bands cepstra");
  }
  Matrix out;
  out.cols = options.cepstra;
  if (n < static_cast<size_t>(kWindow)) return out;
  out.rows = (n - kWindow) / kHop + 1;
  out.data.assign(out.rows * out.cols, 0.f);

  const Fft fft(kFft);
  const std::vector<MelFilter> filters = MakeMelFilters(options.mel_bands);
  std::vector<float> window(kWindow);
  for (int i = 0; i < kWindow; ++i) {
    window[i] = static_cast<float>(0.54 - 0.46 * std::cos(2 * std::numbers::pi * i / (kWindow - 1)));
  }
  // DCT-II basis, orthonormal scaling.
  const int bands = options.mel_bands, ceps = options.cepstra;
  std::vector<float> dct(static_cast<size_t>(ceps) * bands);
  for (int c = 0; c < ceps; ++c) {
    double scale = std::sqrt((c == 0 ? 1.0 : 2.0) / bands);
    for (int b = 0; b < bands; ++b) {
      dct[c * bands + b] = static_cast<float>(scale * std::cos(std::numbers::pi * c * (b + 0.5) / bands));
    }
  }

  std::vector<std::complex<float>> buf(kFft);
  std::vector<float> power(kBins), logmel(bands);
  const size_t report_every = 6000;  // one minute of frames
  for (size_t f = 0; f < out.rows; ++f) {
    if (f % report_every == 0) {
      if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "diarization cancelled");
      progress.Report(static_cast<double>(f) / out.rows);
    }
    const float* x = pcm + f * kHop;
    float mean = 0;
    for (int i = 0; i < kWindow; ++i) mean += x[i];
    mean /= kWindow;
    float prev = x[0] - mean;
    for (int i = 0; i < kWindow; ++i) {
      float s = x[i] - mean;
      buf[i] = {(s - 0.97f * prev) * window[i], 0.f};
      prev = s;
    }
    std::fill(buf.begin() + kWindow, buf.end(), std::complex<float>{});
    fft.Transform(buf.data());
    for (int k = 0; k < kBins; ++k) power[k] = std::norm(buf[k]);
    for (int b = 0; b < bands; ++b) {
      const MelFilter& mf = filters[b];
      float e = 0;
      for (size_t j = 0; j < mf.weights.size(); ++j) e += mf.weights[j] * power[mf.first + j];
      logmel[b] = std::log(e + 1e-10f);
    }
    float* row = out.row(f);
    for (int c = 0; c < ceps; ++c) {
      const float* basis = dct.data() + c * bands;
      float acc = 0;
      for (int b = 0; b < bands; ++b) acc += basis[b] * logmel[b];
      row[c] = acc;
    }
  }
  progress.Report(1.0);
  return out;
}

}  // namespace crm::diarization
