// Leave-one-out figures of the diarizer: for each clip, the parameters are chosen on the other
// clips (the grid setting with the lowest mean DER over them) and the clip is scored with them.
// A figure tuned on the clips it is reported on says little about a new recording; this one
// does, as far as a dozen clips can.
#pragma once

#include <string>
#include <vector>

#include "audio/vad.h"
#include "diarization/diarization.h"
#include "diarization/rttm.h"

namespace crm::diarization::bench {

struct LooClip {
  std::string name;
  const std::vector<float>* pcm = nullptr;  // 16 kHz mono
  std::vector<NamedTurn> reference;
  std::vector<audio::SpeechSegment> speech;  // the detector's output, computed once
  int main_speakers = 0;                     // reference speakers with >= 20 % of the speech
};

// One point of the parameter grid.
struct LooSetting {
  std::string label;
  DiarizationOptions options;
};

// The values each parameter takes in the grid (every combination is a setting).
struct LooGridSpec {
  std::vector<double> cuts = {0.5, 0.6, 0.7, 0.8, 0.9};      // ClusteringOptions::threshold
  std::vector<double> bic_lambdas = {1.0, 1.25, 1.5, 1.75, 2.0};  // DiarizationOptions::bic_lambda
  std::vector<double> min_count_shares = {0, 1.0 / 3.0, 0.5};  // ConsensusOptions
  std::vector<double> min_speaker_shares = {0.2, 0.3, 0.4};    // ResegmentationOptions
};

// Every combination of the spec's values applied to `base`. The setting equal to `base` (today's
// defaults) is always included, first.
std::vector<LooSetting> MakeLooGrid(const DiarizationOptions& base, const LooGridSpec& spec);

// Runs every setting on every clip (`threads` side by side; the answers do not depend on it),
// then prints, per clip, today's DER (grid[0]) beside the held-out DER (the setting chosen
// without the clip), the chosen setting and the speaker counts, and the overall figures.
// Returns false when a run fails.
bool RunLeaveOneOut(const std::vector<LooClip>& clips, const std::vector<LooSetting>& grid,
                    int threads);

}  // namespace crm::diarization::bench
