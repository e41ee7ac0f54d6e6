#include "diarization/embedding.h"

#include <cmath>

namespace crm::diarization {

Result<Matrix> StatisticsEmbedder::Embed(const EmbeddingInput& input,
                                         const std::vector<FrameRange>& windows,
                                         const ProgressSink& progress) {
  if (input.features == nullptr) return InvalidArgument("statistics embedder needs features");
  const Matrix& x = *input.features;
  const size_t d = x.cols;
  Matrix out(windows.size(), (options_.spread ? 2 : 1) * d);
  std::vector<double> sum(d), sq(d);
  for (size_t w = 0; w < windows.size(); ++w) {
    if (w % 512 == 0 && progress.Cancelled()) {
      return Error(ErrorCode::kCancelled, "diarization cancelled");
    }
    FrameRange r = windows[w];
    if (r.end > x.rows) r.end = x.rows;
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(sq.begin(), sq.end(), 0.0);
    for (size_t f = r.begin; f < r.end; ++f) {
      const float* row = x.row(f);
      for (size_t j = 0; j < d; ++j) {
        sum[j] += row[j];
        sq[j] += static_cast<double>(row[j]) * row[j];
      }
    }
    const double n = static_cast<double>(r.size());
    float* e = out.row(w);
    for (size_t j = 0; j < d && n > 0; ++j) {
      double mean = sum[j] / n;
      e[j] = static_cast<float>(mean);
      if (options_.spread) {
        e[d + j] = static_cast<float>(std::sqrt(std::max(0.0, sq[j] / n - mean * mean)));
      }
    }
  }
  // Every statistic weighs the same in distances, whatever its scale.
  for (size_t j = 0; j < out.cols && out.rows > 1; ++j) {
    double s = 0, s2 = 0;
    for (size_t i = 0; i < out.rows; ++i) s += out.at(i, j);
    const double mean = s / out.rows;
    for (size_t i = 0; i < out.rows; ++i) s2 += (out.at(i, j) - mean) * (out.at(i, j) - mean);
    const double sd = std::sqrt(s2 / out.rows) + 1e-6;
    for (size_t i = 0; i < out.rows; ++i)
      out.at(i, j) = static_cast<float>((out.at(i, j) - mean) / sd);
  }
  return out;
}

}  // namespace crm::diarization

namespace crm::diarization {
namespace {

// Rows projected on the top `dims` principal components of their covariance (power iteration
// with deflation; dims is small next to the row length).
Matrix ProjectPrincipal(const Matrix& x, int dims) {
  const size_t n = x.rows, d = x.cols;
  if (dims <= 0 || static_cast<size_t>(dims) >= d || n < 2) return x;
  std::vector<double> mean(d, 0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) mean[j] += x.at(i, j);
  }
  for (double& m : mean) m /= n;
  // Gram matrix route when there are fewer rows than columns.
  Matrix c(n, d);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j) c.at(i, j) = static_cast<float>(x.at(i, j) - mean[j]);
  }
  const size_t k = std::min<size_t>(dims, n - 1);
  Matrix out(n, k);
  std::vector<double> v(d), w(d), proj(n);
  for (size_t comp = 0; comp < k; ++comp) {
    for (size_t j = 0; j < d; ++j)
      v[j] = 1.0 / std::sqrt(double(d)) * (1.0 + 0.01 * ((j * 7919 + comp * 104729) % 97));
    for (int it = 0; it < 30; ++it) {
      std::fill(w.begin(), w.end(), 0.0);
      for (size_t i = 0; i < n; ++i) {
        const float* r = c.row(i);
        double p = 0;
        for (size_t j = 0; j < d; ++j) p += r[j] * v[j];
        for (size_t j = 0; j < d; ++j) w[j] += p * r[j];
      }
      double norm = 0;
      for (double q : w) norm += q * q;
      norm = std::sqrt(norm);
      if (norm < 1e-20) break;
      for (size_t j = 0; j < d; ++j) v[j] = w[j] / norm;
    }
    for (size_t i = 0; i < n; ++i) {
      float* r = c.row(i);
      double p = 0;
      for (size_t j = 0; j < d; ++j) p += r[j] * v[j];
      out.at(i, comp) = static_cast<float>(p);
      for (size_t j = 0; j < d; ++j) r[j] = static_cast<float>(r[j] - p * v[j]);
    }
  }
  return out;
}

}  // namespace

Result<Matrix> SupervectorEmbedder::Embed(const EmbeddingInput& input,
                                          const std::vector<FrameRange>& windows,
                                          const ProgressSink& progress) {
  if (input.features == nullptr) return InvalidArgument("supervector embedder needs features");
  const Matrix& x = *input.features;
  std::vector<size_t> rows;
  for (const FrameRange& r : windows) {
    for (size_t f = r.begin; f < std::min(r.end, x.rows); ++f) {
      if (rows.empty() || f > rows.back()) rows.push_back(f);
    }
  }
  if (rows.empty()) return Matrix(windows.size(), 1);
  if (rows.size() > options_.max_training_frames) {
    std::vector<size_t> sub(options_.max_training_frames);
    for (size_t i = 0; i < sub.size(); ++i) sub[i] = rows[i * rows.size() / sub.size()];
    rows.swap(sub);
  }
  DiagonalGmm ubm;
  ubm.Train(x, rows, options_.components, options_.em_iterations);
  if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "diarization cancelled");
  const int m = ubm.components();
  const size_t d = x.cols;
  Matrix sv(windows.size(), m * d);
  std::vector<double> post(m), zeroth(m), first(m * d);
  for (size_t w = 0; w < windows.size(); ++w) {
    if (w % 256 == 0 && progress.Cancelled()) {
      return Error(ErrorCode::kCancelled, "diarization cancelled");
    }
    std::fill(zeroth.begin(), zeroth.end(), 0.0);
    std::fill(first.begin(), first.end(), 0.0);
    for (size_t f = windows[w].begin; f < std::min(windows[w].end, x.rows); ++f) {
      const float* row = x.row(f);
      ubm.Posteriors(row, post.data());
      for (int c = 0; c < m; ++c) {
        if (post[c] < 1e-5) continue;
        zeroth[c] += post[c];
        for (size_t j = 0; j < d; ++j) first[c * d + j] += post[c] * row[j];
      }
    }
    float* out = sv.row(w);
    for (int c = 0; c < m; ++c) {
      const float* mu = ubm.mean(c);
      const float* iv = ubm.inv_var(c);
      double scale = std::sqrt(ubm.weight(c));
      for (size_t j = 0; j < d; ++j) {
        // MAP-adapted mean minus the background mean.
        double shift = (first[c * d + j] - zeroth[c] * mu[j]) / (zeroth[c] + options_.relevance);
        out[c * d + j] = static_cast<float>(scale * shift * std::sqrt(iv[j]));
      }
    }
  }
  return ProjectPrincipal(sv, options_.dims);
}

Result<std::unique_ptr<SpeakerEmbedder>> MakeSpeakerEmbedder(const std::string& name) {
  if (name == "cepstral-mean") {
    return std::unique_ptr<SpeakerEmbedder>(
        std::make_unique<StatisticsEmbedder>(StatisticsEmbedder::Options{false}));
  }
  if (name == "statistics") {
    return std::unique_ptr<SpeakerEmbedder>(std::make_unique<StatisticsEmbedder>());
  }
  if (name == "gmm-supervector") {
    return std::unique_ptr<SpeakerEmbedder>(std::make_unique<SupervectorEmbedder>());
  }
  return InvalidArgument("unknown speaker embedder '" + name +
                         "' (cepstral-mean, statistics or gmm-supervector)");
}

}  // namespace crm::diarization
