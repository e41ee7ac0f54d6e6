#include "diarization/resegmentation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace crm::diarization {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

Error Cancelled() { return Error(ErrorCode::kCancelled, "diarization cancelled"); }

// Labels renumbered 0..k-1 by first appearance; returns k.
int Renumber(std::vector<int>& labels) {
  std::vector<int> map;
  for (int& l : labels) {
    if (l < 0) continue;
    if (static_cast<size_t>(l) >= map.size()) map.resize(l + 1, -1);
    if (map[l] < 0)
      map[l] =
          static_cast<int>(std::count_if(map.begin(), map.end(), [](int v) { return v >= 0; }));
    l = map[l];
  }
  return static_cast<int>(std::count_if(map.begin(), map.end(), [](int v) { return v >= 0; }));
}

// Viterbi over T x K scores with a constant cost per change; `allowed[k]` false removes state k.
std::vector<int> Viterbi(const std::vector<double>& score, size_t t_count, int k_count,
                         double penalty, const std::vector<char>& allowed) {
  std::vector<int> path(t_count, 0);
  if (t_count == 0) return path;
  std::vector<uint8_t> back(t_count * k_count, 0);
  std::vector<double> cur(k_count), next(k_count);
  for (int k = 0; k < k_count; ++k) cur[k] = allowed[k] ? score[k] : kNegInf;
  for (size_t t = 1; t < t_count; ++t) {
    int best = 0;
    for (int k = 1; k < k_count; ++k) {
      if (cur[k] > cur[best]) best = k;
    }
    const double* s = score.data() + t * k_count;
    for (int k = 0; k < k_count; ++k) {
      if (!allowed[k]) {
        next[k] = kNegInf;
        continue;
      }
      double stay = cur[k], move = cur[best] - penalty;
      if (stay >= move) {
        next[k] = stay + s[k];
        back[t * k_count + k] = static_cast<uint8_t>(k);
      } else {
        next[k] = move + s[k];
        back[t * k_count + k] = static_cast<uint8_t>(best);
      }
    }
    std::swap(cur, next);
  }
  int k = 0;
  for (int j = 1; j < k_count; ++j) {
    if (cur[j] > cur[k]) k = j;
  }
  for (size_t t = t_count; t-- > 0;) {
    path[t] = k;
    k = back[t * k_count + k];
  }
  return path;
}

}  // namespace

void DiagonalGmm::Train(const Matrix& x, const std::vector<size_t>& rows, int components,
                        int iterations) {
  dims_ = x.cols;
  const size_t n = rows.size(), d = dims_;
  int m = std::clamp(static_cast<int>(n / 40), 1, std::max(1, components));
  // Global statistics: the variance floor and the initial variances.
  std::vector<double> gmean(d, 0), gvar(d, 0);
  for (size_t r : rows) {
    const float* f = x.row(r);
    for (size_t j = 0; j < d; ++j) gmean[j] += f[j];
  }
  for (size_t j = 0; j < d; ++j) gmean[j] /= std::max<size_t>(n, 1);
  for (size_t r : rows) {
    const float* f = x.row(r);
    for (size_t j = 0; j < d; ++j) gvar[j] += (f[j] - gmean[j]) * (f[j] - gmean[j]);
  }
  for (size_t j = 0; j < d; ++j) gvar[j] = std::max(gvar[j] / std::max<size_t>(n, 1), 1e-4);

  std::vector<double> weight(m, 1.0 / m), mean(m * d), var(m * d);
  for (int c = 0; c < m; ++c) {
    // Seeds: means of m consecutive blocks of the (time-ordered) frames.
    size_t b = n * c / m, e = std::max(b + 1, n * (c + 1) / m);
    for (size_t j = 0; j < d; ++j) {
      double s = 0;
      for (size_t i = b; i < e; ++i) s += x.at(rows[i], j);
      mean[c * d + j] = s / (e - b);
      var[c * d + j] = gvar[j];
    }
  }
  auto pack = [&]() {
    weight_ = weight;
    log_weight_.assign(m, 0);
    mean_.assign(m * d, 0);
    inv_var_.assign(m * d, 0);
    for (int c = 0; c < m; ++c) {
      double lw = std::log(std::max(weight[c], 1e-10)) - 0.5 * d * std::log(2 * std::numbers::pi);
      for (size_t j = 0; j < d; ++j) {
        lw -= 0.5 * std::log(var[c * d + j]);
        mean_[c * d + j] = static_cast<float>(mean[c * d + j]);
        inv_var_[c * d + j] = static_cast<float>(1.0 / var[c * d + j]);
      }
      log_weight_[c] = lw;
    }
  };
  pack();
  std::vector<double> acc_w(m), acc_m(m * d), acc_v(m * d), post(m);
  for (int it = 0; it < iterations && m > 1; ++it) {
    std::fill(acc_w.begin(), acc_w.end(), 0);
    std::fill(acc_m.begin(), acc_m.end(), 0);
    std::fill(acc_v.begin(), acc_v.end(), 0);
    for (size_t r : rows) {
      const float* f = x.row(r);
      double top = kNegInf;
      for (int c = 0; c < m; ++c) {
        double q = 0;
        const float* mu = &mean_[c * d];
        const float* iv = &inv_var_[c * d];
        for (size_t j = 0; j < d; ++j) {
          float diff = f[j] - mu[j];
          q += diff * diff * iv[j];
        }
        post[c] = log_weight_[c] - 0.5 * q;
        top = std::max(top, post[c]);
      }
      double z = 0;
      for (int c = 0; c < m; ++c) z += (post[c] = std::exp(post[c] - top));
      for (int c = 0; c < m; ++c) {
        double p = post[c] / z;
        if (p < 1e-4) continue;
        acc_w[c] += p;
        for (size_t j = 0; j < d; ++j) {
          acc_m[c * d + j] += p * f[j];
          acc_v[c * d + j] += p * f[j] * f[j];
        }
      }
    }
    for (int c = 0; c < m; ++c) {
      if (acc_w[c] < 1.0) continue;  // keeps the previous estimate of a starved component
      weight[c] = acc_w[c] / n;
      for (size_t j = 0; j < d; ++j) {
        double mu = acc_m[c * d + j] / acc_w[c];
        mean[c * d + j] = mu;
        var[c * d + j] = std::max(acc_v[c * d + j] / acc_w[c] - mu * mu, 0.01 * gvar[j]);
      }
    }
    pack();
  }
}

double DiagonalGmm::LogLikelihood(const float* f) const {
  const size_t d = dims_;
  const int m = components();
  double top = kNegInf;
  double terms[64];
  for (int c = 0; c < m && c < 64; ++c) {
    double q = 0;
    const float* mu = &mean_[c * d];
    const float* iv = &inv_var_[c * d];
    for (size_t j = 0; j < d; ++j) {
      float diff = f[j] - mu[j];
      q += diff * diff * iv[j];
    }
    terms[c] = log_weight_[c] - 0.5 * q;
    top = std::max(top, terms[c]);
  }
  double z = 0;
  for (int c = 0; c < m && c < 64; ++c) z += std::exp(terms[c] - top);
  return top + std::log(z);
}

double DiagonalGmm::Posteriors(const float* f, double* post) const {
  const size_t d = dims_;
  const int m = components();
  double top = kNegInf;
  for (int c = 0; c < m; ++c) {
    double q = 0;
    const float* mu = &mean_[c * d];
    const float* iv = &inv_var_[c * d];
    for (size_t j = 0; j < d; ++j) {
      float diff = f[j] - mu[j];
      q += diff * diff * iv[j];
    }
    post[c] = log_weight_[c] - 0.5 * q;
    top = std::max(top, post[c]);
  }
  double z = 0;
  for (int c = 0; c < m; ++c) z += (post[c] = std::exp(post[c] - top));
  for (int c = 0; c < m; ++c) post[c] /= z;
  return top + std::log(z);
}

Result<FrameLabels> Resegment(const Matrix& features, std::vector<int> labels,
                              const ResegmentationOptions& options, const ProgressSink& progress) {
  FrameLabels out;
  int k = Renumber(labels);
  std::vector<size_t> speech;
  for (size_t t = 0; t < labels.size() && t < features.rows; ++t) {
    if (labels[t] >= 0) speech.push_back(t);
  }
  out.secondary.assign(labels.size(), -1);
  if (k <= 1 || speech.empty() || k > 255) {
    out.speakers = k;
    out.primary = std::move(labels);
    return out;
  }
  const size_t T = speech.size();
  const double share_frames =
      std::min(options.min_speaker_share * T, options.min_share_cap_seconds * 100);
  const size_t min_frames =
      static_cast<size_t>(std::max(options.min_speaker_seconds * 100, share_frames));
  std::vector<double> ll, smooth;
  for (int round = 0; round < std::max(1, options.iterations); ++round) {
    if (progress.Cancelled()) return Cancelled();
    // Train one GMM per speaker.
    std::vector<std::vector<size_t>> own(k);
    for (size_t t : speech) own[labels[t]].push_back(t);
    std::vector<DiagonalGmm> gmm(k);
    std::vector<char> allowed(k, 1);
    for (int s = 0; s < k; ++s) {
      std::vector<size_t>& rows = own[s];
      if (rows.size() < 10) {
        allowed[s] = 0;
        continue;
      }
      if (rows.size() > options.max_training_frames) {
        std::vector<size_t> sub(options.max_training_frames);
        for (size_t i = 0; i < sub.size(); ++i) sub[i] = rows[i * rows.size() / sub.size()];
        rows.swap(sub);
      }
      gmm[s].Train(features, rows, options.components, options.em_iterations);
    }
    // Score every speech frame against every speaker.
    ll.assign(T * k, kNegInf);
    for (size_t i = 0; i < T; ++i) {
      if (i % 20000 == 0) {
        if (progress.Cancelled()) return Cancelled();
        progress.Report((round + static_cast<double>(i) / T) / options.iterations);
      }
      const float* f = features.row(speech[i]);
      for (int s = 0; s < k; ++s) {
        if (allowed[s]) ll[i * k + s] = gmm[s].LogLikelihood(f);
      }
    }
    // Moving average over `smoothing_frames` speech frames.
    smooth.assign(T * k, 0);
    const size_t half = static_cast<size_t>(std::max(0, options.smoothing_frames / 2));
    for (int s = 0; s < k; ++s) {
      if (!allowed[s]) {
        for (size_t i = 0; i < T; ++i) smooth[i * k + s] = kNegInf;
        continue;
      }
      double acc = 0;
      size_t lo = 0, hi = 0;  // window [lo, hi)
      for (size_t i = 0; i < T; ++i) {
        size_t want_lo = i > half ? i - half : 0, want_hi = std::min(T, i + half + 1);
        while (hi < want_hi) acc += ll[hi++ * k + s];
        while (lo < want_lo) acc -= ll[lo++ * k + s];
        smooth[i * k + s] = acc / static_cast<double>(hi - lo);
      }
    }
    std::vector<int> path = Viterbi(smooth, T, k, options.change_penalty, allowed);
    // Drop speakers with too little speech, then decode again without them.
    for (int pass = 0; pass < k; ++pass) {
      std::vector<size_t> count(k, 0);
      for (int p : path) ++count[p];
      int weakest = -1;
      int alive = 0;
      for (int s = 0; s < k; ++s) {
        if (!allowed[s]) continue;
        ++alive;
        if (count[s] < min_frames && (weakest < 0 || count[s] < count[weakest])) weakest = s;
      }
      if (weakest < 0 || alive <= std::max(1, options.keep_at_least)) break;
      allowed[weakest] = 0;
      path = Viterbi(smooth, T, k, options.change_penalty, allowed);
    }
    for (size_t i = 0; i < T; ++i) labels[speech[i]] = path[i];
    if (round + 1 == std::max(1, options.iterations) && options.overlap_margin > 0) {
      for (size_t i = 0; i < T; ++i) {
        int p = path[i], second = -1;
        double best = kNegInf;
        for (int s = 0; s < k; ++s) {
          if (s == p || !allowed[s]) continue;
          if (smooth[i * k + s] > best) {
            best = smooth[i * k + s];
            second = s;
          }
        }
        if (second >= 0 && smooth[i * k + p] - best < options.overlap_margin) {
          out.secondary[speech[i]] = second;
        }
      }
    }
  }
  // Renumber primary and secondary together.
  std::vector<int> map(k, -1);
  int next = 0;
  for (int& l : labels) {
    if (l < 0) continue;
    if (map[l] < 0) map[l] = next++;
    l = map[l];
  }
  for (int& l : out.secondary) {
    if (l < 0) continue;
    if (map[l] < 0) map[l] = next++;
    l = map[l];
  }
  out.speakers = next;
  out.primary = std::move(labels);
  progress.Report(1.0);
  return out;
}

}  // namespace crm::diarization
