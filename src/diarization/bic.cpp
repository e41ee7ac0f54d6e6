#include "diarization/bic.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace crm::diarization {
namespace {

struct Stats {
  double n = 0;
  std::vector<double> sum;    // d
  std::vector<double> outer;  // d x d
};

// log |covariance| of the statistics by Cholesky; a ridge keeps it finite for small clusters.
double LogDetCovariance(const Stats& s, size_t d) {
  std::vector<double> c(d * d);
  for (size_t i = 0; i < d; ++i) {
    for (size_t j = 0; j < d; ++j) {
      double mi = s.sum[i] / s.n, mj = s.sum[j] / s.n;
      c[i * d + j] = s.outer[i * d + j] / s.n - mi * mj;
    }
    c[i * d + i] += 1e-3;
  }
  double logdet = 0;
  for (size_t j = 0; j < d; ++j) {
    double v = c[j * d + j];
    for (size_t k = 0; k < j; ++k) v -= c[j * d + k] * c[j * d + k];
    v = std::max(v, 1e-10);
    double l = std::sqrt(v);
    c[j * d + j] = l;
    logdet += 2 * std::log(l);
    for (size_t i = j + 1; i < d; ++i) {
      double w = c[i * d + j];
      for (size_t k = 0; k < j; ++k) w -= c[i * d + k] * c[j * d + k];
      c[i * d + j] = w / l;
    }
  }
  return logdet;
}

Stats Add(const Stats& a, const Stats& b) {
  Stats s = a;
  s.n += b.n;
  for (size_t i = 0; i < s.sum.size(); ++i) s.sum[i] += b.sum[i];
  for (size_t i = 0; i < s.outer.size(); ++i) s.outer[i] += b.outer[i];
  return s;
}

}  // namespace

int MergeClustersByBic(const Matrix& x, std::vector<int>* labels, const BicOptions& options) {
  std::vector<int>& lab = *labels;
  int k = 0;
  for (int l : lab) k = std::max(k, l + 1);
  const size_t d = x.cols;
  std::vector<Stats> stats(k);
  for (Stats& s : stats) {
    s.sum.assign(d, 0);
    s.outer.assign(d * d, 0);
  }
  for (size_t f = 0; f < lab.size() && f < x.rows; ++f) {
    if (lab[f] < 0) continue;
    Stats& s = stats[lab[f]];
    const float* r = x.row(f);
    s.n += 1;
    for (size_t i = 0; i < d; ++i) {
      s.sum[i] += r[i];
      for (size_t j = 0; j < d; ++j) s.outer[i * d + j] += static_cast<double>(r[i]) * r[j];
    }
  }
  std::vector<int> alive;
  for (int c = 0; c < k; ++c) {
    if (stats[c].n > 0) alive.push_back(c);
  }
  std::vector<int> target(k);
  for (int c = 0; c < k; ++c) target[c] = c;
  const double params = 0.5 * (d + d * (d + 1) / 2.0);
  std::vector<double> logdet(k, 0);
  for (int c : alive) logdet[c] = LogDetCovariance(stats[c], d);
  while (static_cast<int>(alive.size()) > std::max(1, options.min_clusters)) {
    double best = std::numeric_limits<double>::infinity();
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < alive.size(); ++i) {
      for (size_t j = i + 1; j < alive.size(); ++j) {
        const Stats& a = stats[alive[i]];
        const Stats& b = stats[alive[j]];
        Stats m = Add(a, b);
        double dbic = 0.5 * m.n * LogDetCovariance(m, d) - 0.5 * a.n * logdet[alive[i]] -
                      0.5 * b.n * logdet[alive[j]] - options.lambda * params * std::log(m.n);
        if (dbic < best) {
          best = dbic;
          bi = i;
          bj = j;
        }
      }
    }
    if (best >= 0 && static_cast<int>(alive.size()) <= options.max_clusters) break;
    int a = alive[bi], b = alive[bj];
    stats[a] = Add(stats[a], stats[b]);
    logdet[a] = LogDetCovariance(stats[a], d);
    for (int& t : target) {
      if (t == b) t = a;
    }
    alive.erase(alive.begin() + bj);
  }
  std::vector<int> map(k, -1);
  int next = 0;
  for (int& l : lab) {
    if (l < 0) continue;
    int t = target[l];
    if (map[t] < 0) map[t] = next++;
    l = map[t];
  }
  return next;
}

}  // namespace crm::diarization
