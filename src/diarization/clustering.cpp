#include "diarization/clustering.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace crm::diarization {
namespace {

// Rows centred on their mean then scaled to unit length.
Matrix NormaliseRows(const Matrix& x) {
  Matrix y = x;
  if (x.rows == 0) return y;
  for (size_t j = 0; j < x.cols; ++j) {
    double s = 0;
    for (size_t i = 0; i < x.rows; ++i) s += x.at(i, j);
    double mean = s / x.rows;
    for (size_t i = 0; i < x.rows; ++i) y.at(i, j) = static_cast<float>(x.at(i, j) - mean);
  }
  for (size_t i = 0; i < y.rows; ++i) {
    float* r = y.row(i);
    double n = 0;
    for (size_t j = 0; j < y.cols; ++j) n += r[j] * r[j];
    n = std::sqrt(n) + 1e-12;
    for (size_t j = 0; j < y.cols; ++j) r[j] = static_cast<float>(r[j] / n);
  }
  return y;
}

double Dot(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t j = 0; j < n; ++j) s += a[j] * b[j];
  return s;
}

size_t Find(std::vector<size_t>& parent, size_t i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

}  // namespace

std::vector<Merge> AverageLinkage(Matrix d) {
  const size_t n = d.rows;
  std::vector<Merge> merges;
  if (n < 2) return merges;
  merges.reserve(n - 1);
  std::vector<size_t> size(n, 1), leaf(n);
  std::iota(leaf.begin(), leaf.end(), 0);
  std::vector<char> active(n, 1);
  std::vector<size_t> chain;
  size_t remaining = n;
  while (remaining > 1) {
    if (chain.empty()) {
      for (size_t i = 0; i < n; ++i) {
        if (active[i]) {
          chain.push_back(i);
          break;
        }
      }
    }
    size_t a = chain.back();
    size_t prev = chain.size() >= 2 ? chain[chain.size() - 2] : n;
    size_t best = n;
    float best_d = std::numeric_limits<float>::infinity();
    if (prev != n) {
      best = prev;
      best_d = d.at(a, prev);
    }
    const float* row = d.row(a);
    for (size_t c = 0; c < n; ++c) {
      if (!active[c] || c == a) continue;
      if (row[c] < best_d) {
        best_d = row[c];
        best = c;
      }
    }
    if (best != prev) {
      chain.push_back(best);
      continue;
    }
    // a and prev are reciprocal nearest neighbours: merge prev into a.
    chain.pop_back();
    chain.pop_back();
    size_t b = prev;
    merges.push_back({leaf[a], leaf[b], best_d});
    double na = static_cast<double>(size[a]), nb = static_cast<double>(size[b]);
    for (size_t c = 0; c < n; ++c) {
      if (!active[c] || c == a || c == b) continue;
      float v = static_cast<float>((na * d.at(a, c) + nb * d.at(b, c)) / (na + nb));
      d.at(a, c) = v;
      d.at(c, a) = v;
    }
    size[a] += size[b];
    active[b] = 0;
    --remaining;
  }
  std::stable_sort(merges.begin(), merges.end(),
                   [](const Merge& x, const Merge& y) { return x.distance < y.distance; });
  return merges;
}

std::vector<int> CutDendrogram(size_t leaves, const std::vector<Merge>& merges,
                               size_t merges_to_apply) {
  std::vector<size_t> parent(leaves);
  std::iota(parent.begin(), parent.end(), 0);
  for (size_t m = 0; m < merges_to_apply && m < merges.size(); ++m) {
    size_t ra = Find(parent, merges[m].a), rb = Find(parent, merges[m].b);
    if (ra != rb) parent[rb] = ra;
  }
  std::vector<int> label(leaves, -1), root_label(leaves, -1);
  int next = 0;
  for (size_t i = 0; i < leaves; ++i) {
    size_t r = Find(parent, i);
    if (root_label[r] < 0) root_label[r] = next++;
    label[i] = root_label[r];
  }
  return label;
}

std::vector<int> ClusterEmbeddings(const Matrix& embeddings, const ClusteringOptions& options) {
  const size_t n = embeddings.rows;
  if (n == 0) return {};
  if (n == 1) return {0};
  Matrix x = NormaliseRows(embeddings);

  // The dendrogram is built on at most max_windows evenly spaced rows.
  std::vector<size_t> pick;
  size_t m = std::min(n, std::max<size_t>(options.max_windows, 2));
  for (size_t i = 0; i < m; ++i) pick.push_back(i * n / m);
  Matrix dist(m, m);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = i + 1; j < m; ++j) {
      float v = static_cast<float>(1.0 - Dot(x.row(pick[i]), x.row(pick[j]), x.cols));
      dist.at(i, j) = v;
      dist.at(j, i) = v;
    }
  }
  std::vector<Merge> merges = AverageLinkage(std::move(dist));

  // A cluster counts as a speaker only when it holds enough windows; smaller ones are outliers
  // (a cough, a laugh, a burst of noise) that join the nearest speaker afterwards.
  const size_t min_size = std::max<size_t>(
      2, std::min<size_t>(static_cast<size_t>(std::ceil(options.min_cluster_fraction * m)),
                          options.max_min_cluster_windows));
  auto significant = [&](size_t applied, std::vector<int>* labels) {
    *labels = CutDendrogram(m, merges, applied);
    std::vector<size_t> count(m, 0);
    for (int l : *labels) ++count[l];
    return static_cast<size_t>(std::count_if(count.begin(), count.end(),
                                             [&](size_t c) { return c >= min_size; }));
  };
  size_t apply = 0;
  while (apply < merges.size() && merges[apply].distance < options.threshold) ++apply;
  const size_t lo = static_cast<size_t>(std::max(1, options.min_clusters));
  const size_t hi = static_cast<size_t>(std::max(options.max_clusters, options.min_clusters));
  std::vector<int> sub;
  size_t k_sig = significant(apply, &sub);
  // Too many speakers: merge further; too few: undo merges (down to singletons).
  while (k_sig > hi && apply < merges.size()) k_sig = significant(++apply, &sub);
  while (k_sig < lo && apply > 0) k_sig = significant(--apply, &sub);
  if (k_sig == 0) {
    sub.assign(m, 0);
  } else {
    // Outlier clusters join the closest significant centroid.
    int k_all = *std::max_element(sub.begin(), sub.end()) + 1;
    std::vector<size_t> count(k_all, 0);
    for (int l : sub) ++count[l];
    Matrix c(k_all, x.cols);
    for (size_t i = 0; i < m; ++i) {
      float* cr = c.row(sub[i]);
      const float* r = x.row(pick[i]);
      for (size_t j = 0; j < x.cols; ++j) cr[j] += r[j];
    }
    for (size_t i = 0; i < m; ++i) {
      if (count[sub[i]] >= min_size) continue;
      double best = -std::numeric_limits<double>::infinity();
      int to = sub[i];
      for (int l = 0; l < k_all; ++l) {
        if (count[l] < min_size) continue;
        double norm = std::sqrt(Dot(c.row(l), c.row(l), x.cols)) + 1e-12;
        double sim = Dot(x.row(pick[i]), c.row(l), x.cols) / norm;
        if (sim > best) {
          best = sim;
          to = l;
        }
      }
      sub[i] = to;
    }
    // Renumber by first appearance.
    std::vector<int> map(k_all, -1);
    int next = 0;
    for (int& l : sub) {
      if (map[l] < 0) map[l] = next++;
      l = map[l];
    }
  }
  if (m == n) return sub;

  // Remaining rows join the nearest centroid.
  int k = *std::max_element(sub.begin(), sub.end()) + 1;
  Matrix centroid(k, x.cols);
  for (size_t i = 0; i < m; ++i) {
    float* c = centroid.row(sub[i]);
    const float* r = x.row(pick[i]);
    for (size_t j = 0; j < x.cols; ++j) c[j] += r[j];
  }
  for (int c = 0; c < k; ++c) {
    double norm = std::sqrt(Dot(centroid.row(c), centroid.row(c), x.cols)) + 1e-12;
    for (size_t j = 0; j < x.cols; ++j) centroid.at(c, j) = static_cast<float>(centroid.at(c, j) / norm);
  }
  std::vector<int> labels(n, -1);
  for (size_t i = 0; i < m; ++i) labels[pick[i]] = sub[i];
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] >= 0) continue;
    double best = -std::numeric_limits<double>::infinity();
    for (int c = 0; c < k; ++c) {
      double s = Dot(x.row(i), centroid.row(c), x.cols);
      if (s > best) {
        best = s;
        labels[i] = c;
      }
    }
  }
  return labels;
}

}  // namespace crm::diarization
