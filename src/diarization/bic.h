// Bayesian-information-criterion merging of speaker clusters.
//
// Window embeddings over-split a recording: a speaker who changes tone or distance to the
// microphone becomes two clusters. Each cluster of frames is modelled by one full-covariance
// Gaussian; two clusters are the same speaker when one Gaussian explains their frames better
// than two once the extra parameters are paid for:
//   dBIC = N/2 log|S| - Na/2 log|Sa| - Nb/2 log|Sb| - lambda/2 (d + d(d+1)/2) log N.
// The closest pair (lowest dBIC) is merged while its dBIC is below zero, or while there are more
// than `max_clusters`, never below `min_clusters`. Cost: O(k^2 d^3) for k clusters, independent
// of the audio length once the statistics are gathered (one pass over the frames).
#pragma once

#include <vector>

#include "diarization/matrix.h"

namespace crm::diarization {

struct BicOptions {
  double lambda = 1.0;  // penalty weight; larger merges more
  int min_clusters = 1;
  int max_clusters = 255;
};

// `labels`: cluster per frame (-1 ignored), renumbered in place 0..k-1 after merging; returns k.
int MergeClustersByBic(const Matrix& features, std::vector<int>* labels, const BicOptions& options);

}  // namespace crm::diarization
