// Diarization error rate, as NIST md-eval and pyannote.metrics define it.
//
// DER = (missed speech + false alarm + speaker confusion) / total reference speech, all in
// seconds, where at every instant with R reference and H system speakers: missed = max(0, R-H),
// false alarm = max(0, H-R), confusion = min(R, H) - (pairs matched under the speaker mapping),
// and total = R. Overlapping speech therefore counts once per speaker. The mapping between
// reference and system speakers is the one-to-one assignment that maximises their total common
// time (Hungarian algorithm). A collar removes +-collar seconds around every reference turn
// boundary from scoring; the mapping is computed on the scored time only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "diarization/rttm.h"

namespace crm::diarization {

struct DerOptions {
  double collar = 0.0;        // seconds each side of every reference boundary left unscored
  bool skip_overlap = false;  // leave out time where the reference has 2+ speakers
  // Scored region; end <= start means from 0 to the last turn end of either side.
  double uem_start = 0.0;
  double uem_end = 0.0;
};

struct DerResult {
  double total = 0;        // reference speech (speaker-seconds)
  double missed = 0;
  double false_alarm = 0;
  double confusion = 0;
  int reference_speakers = 0;
  int system_speakers = 0;
  std::map<std::string, std::string> mapping;  // system speaker -> reference speaker
  double der() const { return total > 0 ? (missed + false_alarm + confusion) / total : 0.0; }
};

DerResult ScoreDiarization(const std::vector<NamedTurn>& reference,
                           const std::vector<NamedTurn>& system, const DerOptions& options = {});

// Minimum-cost perfect assignment of an n x m cost matrix (rows to columns, n <= m or not):
// assignment[i] is the column of row i, or -1 when there are more rows than columns.
std::vector<int> SolveAssignment(const std::vector<std::vector<double>>& cost);

}  // namespace crm::diarization
