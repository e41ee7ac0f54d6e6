// Speaker diarization: who spoke when in 16 kHz mono audio, with no pretrained speaker model.
//
// Diarizer::Run reads the samples from an audio::SampleSource (or a buffer) with a voice activity
// detector, or speech segments already found, and returns speaker turns. The speech it reports is
// exactly the detector's speech (bridging and padding included): diarization only splits it between
// speakers, and adds a second speaker where two seem to talk at once. The method (README.md):
// MFCCs, windows of speech embedded by a SpeakerEmbedder, average-linkage clustering with an
// automatic count, then GMM/Viterbi re-segmentation at 10 ms, run with several settings around
// the reference ones and the most agreed-upon split kept (ConsensusOptions). The source is read
// once, in pieces (features and voice activity computed together), so the samples of a long
// recording are never all in memory: what is kept is 10 ms features (about 160 bytes per frame, 115
// MB for two hours). Time is linear in the audio length except the clustering, which is bounded
// (ClusteringOptions::max_windows).
// Knows nothing of firms, HTTP or files.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "audio/sample_source.h"
#include "audio/vad.h"
#include "common/progress.h"
#include "common/result.h"
#include "diarization/clustering.h"
#include "diarization/embedding.h"
#include "diarization/resegmentation.h"

namespace crm::diarization {

// One speaker talking from start to end (seconds). Speakers are numbered from 0.
struct Turn {
  double start = 0;
  double end = 0;
  int speaker = 0;
};

// "SPEAKER_1" for speaker 0, as in transcripts.
std::string SpeakerLabel(int speaker);

struct Diarization {
  double duration = 0;  // seconds of audio
  int num_speakers = 0;
  // Sorted by start. One speaker's turns never overlap; two speakers' may (overlapping speech).
  std::vector<Turn> turns;
  // The same speech with one speaker at every instant (the dominant one where two overlap), for
  // assigning words to speakers.
  std::vector<Turn> exclusive_turns;
  // One voiceprint per speaker (see voiceprint.h), for recognising speakers known to the firm.
  std::vector<std::vector<float>> voiceprints;
};

// The back end (clustering -> BIC merging -> re-segmentation) run several times with settings
// around the reference ones, features, voice activity and the reference embeddings computed
// once. The reference settings decide the speaker count (the same count as without the
// consensus), unless fewer than min_count_share of the settings reach it; among the answers
// with that count, the one that agrees most, frame by frame under
// the best speaker mapping, with all the answers (each weighted by the settings that gave it) is
// kept. With features learned from the recording itself, one setting's split of the voices is
// noisy; the medoid is a steadier one (README.md: AMI 31.9 -> 31.5 %, dev00 19.4 -> 16.9 %). A
// recording whose reference answer has one speaker costs nothing more; otherwise the time of the
// back end grows with the number of distinct starts (at most 36 with the defaults).
struct ConsensusOptions {
  bool enabled = true;
  // Clustering cut and BIC weight, as factors of ClusteringOptions::threshold and
  // DiarizationOptions::bic_lambda (1 is always included).
  std::vector<double> threshold_scales = {0.8, 1.0, 1.2};
  std::vector<double> bic_lambda_scales = {1.25 / 1.5, 1.0, 1.75 / 1.5};
  // Embedding windows also laid out from these offsets (seconds) into each speech stretch.
  std::vector<double> window_offsets_seconds = {0.375};
  // Also cluster the embeddings of these embedders (MakeSpeakerEmbedder names; the diarizer's
  // own is skipped): another view of the same windows.
  std::vector<std::string> other_embedders = {"gmm-supervector"};
  // The reference count is kept only when at least this share of the settings (weighted by the
  // settings that gave each answer) find that many speakers or more; otherwise the next lower
  // count found is taken, never below the minimum. It only ever merges. On the tuning material
  // the true second voices were found by 44-97 % of the settings, the one voice split by 25 %
  // (README.md, "One voice alone"). 0 disables.
  double min_count_share = 1.0 / 3.0;
};

struct DiarizationOptions {
  // Speaker count: exact when num_speakers > 0, else automatic within [min, max].
  int num_speakers = 0;
  int min_speakers = 1;
  int max_speakers = 8;
  double window_seconds = 1.5;       // embedding window
  double window_hop_seconds = 0.75;  // 50 % overlap
  double min_window_seconds = 0.4;   // shorter speech stretches are not clustered, only re-labelled
  // The windows' embedder when the Diarizer is given none (MakeSpeakerEmbedder): the mean of the
  // normalised cepstra, which separates voices better than the supervectors (README.md).
  std::string embedder = "cepstral-mean";
  // Cosine cut of the cepstral-mean embeddings' dendrogram; bounds above override its min/max.
  ClusteringOptions clustering = {.threshold = 0.7};
  double bic_lambda = 1.5;  // BIC merging of clusters (bic.h); 0 disables
  // After re-segmentation, speakers can be checked again with this BIC weight; merged speakers
  // are re-segmented once more. 0 (the default) disables it: measured on the tuning clips, it
  // merged true speakers as often as split voices (README.md).
  double final_bic_lambda = 0;
  // Re-segmentation; by default a speaker must hold 30 % of the speech, or 30 s of it
  // (ResegmentationOptions::min_speaker_share).
  ResegmentationOptions resegmentation;
  ConsensusOptions consensus;
  // Frames of digital silence inside the detected speech (mean natural-log mel-band energy
  // below silent_log_energy, about 17 dB under the quantisation noise of 16-bit audio: a muted
  // or gated channel, edited or spliced audio) are left out of everything that models the
  // voices, and take their neighbours' speaker at the end. Left in, these identical frames make
  // a tight "voice" of their own that one speaker model captures (README.md). Recordings
  // without digital silence are not affected.
  bool skip_silent_frames = true;
  double silent_log_energy = -20.0;
  double min_overlap_seconds = 0.2;  // shorter second-speaker stretches are not reported
  // Threads that re-segment the consensus' starts side by side (the answer does not depend on
  // it); each holds its own frame likelihoods (speech frames x speakers x 16 bytes).
  int threads = 1;
  // Audio is read from the source in pieces of this many seconds.
  double read_block_seconds = 30;
};

// Validates the options: a clear error for negative or contradictory speaker counts, windows or
// shares.
Status ValidateOptions(const DiarizationOptions& options);

class Diarizer {
 public:
  // `embedder` may be null: options.embedder names the one used.
  explicit Diarizer(DiarizationOptions options = {},
                    std::unique_ptr<SpeakerEmbedder> embedder = nullptr);

  // Finds speech with `vad`, then diarizes it. The source must be 16 kHz; it is read once, in
  // pieces that feed both the features and the detector's stream (a detector that cannot
  // stream gets the whole audio in memory instead). Same result as Detect() on the samples.
  Result<Diarization> Run(const audio::SampleSource& source, audio::VoiceActivityDetector& vad,
                          const ProgressSink& progress = {});
  // Diarizes the given speech segments (any order; clipped to the audio; seconds).
  Result<Diarization> Run(const audio::SampleSource& source,
                          const std::vector<audio::SpeechSegment>& speech,
                          const ProgressSink& progress = {});
  // The same on samples in memory (16 kHz mono).
  Result<Diarization> Run(const float* pcm, size_t n, audio::VoiceActivityDetector& vad,
                          const ProgressSink& progress = {});
  Result<Diarization> Run(const float* pcm, size_t n,
                          const std::vector<audio::SpeechSegment>& speech,
                          const ProgressSink& progress = {});

 private:
  // Everything after the features: windows, clustering, re-segmentation, turns.
  Result<Diarization> Diarize(Matrix mfcc, const std::vector<audio::SpeechSegment>& speech,
                              double duration, const audio::SampleSource* source,
                              const ProgressSink& progress);

  DiarizationOptions options_;
  std::unique_ptr<SpeakerEmbedder> embedder_;
};

}  // namespace crm::diarization
