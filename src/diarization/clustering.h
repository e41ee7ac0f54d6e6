// Agglomerative clustering of window embeddings with an automatic number of clusters.
//
// Embeddings are centred on the recording's mean embedding, compared by cosine distance and merged bottom-up with average
// linkage. The nearest-neighbour-chain algorithm builds the whole dendrogram in O(n^2) time and
// O(n^2) memory; above `max_windows` an evenly spaced subset is clustered and the other windows
// join the closest cluster centroid, which keeps a two-hour recording within a few tens of MB.
// The dendrogram is cut where the merge distance passes `threshold`, then moved up or down to
// respect the [min_clusters, max_clusters] bounds, counting only clusters big enough to be a
// speaker: with few windows, average linkage isolates outliers long before it splits voices.
#pragma once

#include <cstddef>
#include <vector>

#include "diarization/matrix.h"

namespace crm::diarization {

struct ClusteringOptions {
  double threshold = 1.0;      // cosine distance at which two clusters stop merging
  int min_clusters = 1;
  int max_clusters = 10;
  size_t max_windows = 3000;   // larger inputs are subsampled for the dendrogram
  // A cluster is a speaker when it holds at least this fraction of the windows (at least 2
  // windows, at most max_min_cluster_windows); smaller clusters join the nearest speaker.
  double min_cluster_fraction = 0.05;
  size_t max_min_cluster_windows = 40;
};

// One merge of the dendrogram: clusters `a` and `b` joined at `distance`.
struct Merge {
  size_t a = 0;
  size_t b = 0;
  double distance = 0;
};

// Average-linkage dendrogram of the rows of a symmetric distance matrix (n x n), merges sorted
// by increasing distance; `a`/`b` are leaf indices of one member of each side.
std::vector<Merge> AverageLinkage(Matrix distances);

// Labels 0..k-1 for the leaves after applying the first `merges_to_apply` merges.
std::vector<int> CutDendrogram(size_t leaves, const std::vector<Merge>& merges,
                               size_t merges_to_apply);

// Cluster labels 0..k-1 (numbered by first appearance) for each row of `embeddings`.
std::vector<int> ClusterEmbeddings(const Matrix& embeddings, const ClusteringOptions& options);

}  // namespace crm::diarization
