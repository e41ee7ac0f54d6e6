#include "diarization/diarization.h"

#include <algorithm>
#include <cmath>

#include "audio/vad/segmentation.h"
#include "diarization/bic.h"
#include "diarization/features.h"
#include "diarization/voiceprint.h"

namespace crm::diarization {
namespace {

constexpr double kRate = 16000.0;

// Progress of a sub-step mapped into [lo, hi] of the whole run.
ProgressSink SubProgress(const ProgressSink& outer, double lo, double hi) {
  ProgressSink s;
  s.is_cancelled = outer.is_cancelled;
  if (outer.on_progress) {
    s.on_progress = [&outer, lo, hi](double f) { outer.Report(lo + (hi - lo) * f); };
  }
  return s;
}

// Sorted, clipped to [0, duration], overlapping or touching segments joined.
std::vector<audio::SpeechSegment> CleanSpeech(std::vector<audio::SpeechSegment> speech,
                                              double duration) {
  std::sort(speech.begin(), speech.end(),
            [](const auto& a, const auto& b) { return a.start < b.start; });
  std::vector<audio::SpeechSegment> out;
  for (auto s : speech) {
    s.start = std::max(0.0, s.start);
    s.end = std::min(duration, s.end);
    if (!(s.end > s.start)) continue;
    if (!out.empty() && s.start <= out.back().end) {
      out.back().end = std::max(out.back().end, s.end);
    } else {
      out.push_back(s);
    }
  }
  return out;
}

size_t BlockFrames(const DiarizationOptions& o) {
  return static_cast<size_t>(std::max(1.0, o.read_block_seconds / kFrameSeconds));
}

Status CheckSource(const audio::SampleSource& source) {
  if (source.sample_rate() != static_cast<int>(kRate)) {
    return InvalidArgument("diarization needs 16 kHz audio, got " +
                           std::to_string(source.sample_rate()) + " Hz");
  }
  return OkStatus();
}

// MFCCs of the whole source, read in blocks of `block_frames` frames. Frames depend only on their
// own 400 samples, so each block is read with the 240 samples that complete its last frame and
// the features are those of the whole audio at once. When `vad` is given it is fed every sample
// once, in order, and its probabilities appended to *probabilities.
Result<Matrix> ReadFeatures(const audio::SampleSource& source, audio::VadStream* vad,
                            std::vector<float>* probabilities, const ProgressSink& progress,
                            size_t block_frames) {
  constexpr size_t kHop = 160, kWindow = 400;
  const size_t n = source.size();
  const size_t rows = n >= kWindow ? (n - kWindow) / kHop + 1 : 0;
  Matrix mfcc;
  mfcc.cols = FeatureOptions{}.cepstra;
  mfcc.rows = rows;
  mfcc.data.resize(rows * mfcc.cols);
  block_frames = std::max<size_t>(block_frames, 1);
  std::vector<float> block;
  size_t fed = 0;  // samples given to the VAD so far
  for (size_t first = 0; first < std::max<size_t>(rows, 1); first += block_frames) {
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "diarization cancelled");
    progress.Report(rows ? static_cast<double>(first) / rows : 0.0);
    const size_t count = std::min(block_frames, rows - std::min(rows, first));
    const size_t start = first * kHop;
    // The samples of these frames, and for the VAD every sample up to the next block's start
    // (the whole rest of the audio at the last block).
    const bool last = first + block_frames >= rows;
    const size_t feature_end = count ? start + (count - 1) * kHop + kWindow : start;
    const size_t vad_end = last ? n : start + count * kHop;
    const size_t end = std::max(feature_end, vad_end);
    block.resize(end - start);
    CRM_ASSIGN_OR_RETURN(size_t got, source.Read(start, block.data(), block.size()));
    if (got != block.size()) return Error(ErrorCode::kIo, "audio source ended early");
    if (count) {
      CRM_ASSIGN_OR_RETURN(Matrix part, ComputeMfcc(block.data(), feature_end - start));
      std::copy(part.data.begin(), part.data.begin() + count * mfcc.cols,
                mfcc.data.begin() + first * mfcc.cols);
    }
    if (vad && vad_end > fed) {
      vad->Feed(block.data() + (fed - start), vad_end - fed, probabilities);
      fed = vad_end;
    }
  }
  progress.Report(1.0);
  return mfcc;
}

// Cepstra c1.. with mean and variance normalised over the speech frames.
Matrix NormalisedCepstra(const Matrix& mfcc, const std::vector<FrameRange>& speech) {
  const size_t d = mfcc.cols - 1;
  Matrix out(mfcc.rows, d);
  std::vector<double> sum(d, 0), sq(d, 0);
  double n = 0;
  for (const FrameRange& r : speech) {
    for (size_t f = r.begin; f < r.end; ++f) {
      const float* x = mfcc.row(f) + 1;
      for (size_t j = 0; j < d; ++j) {
        sum[j] += x[j];
        sq[j] += static_cast<double>(x[j]) * x[j];
      }
      n += 1;
    }
  }
  std::vector<float> mean(d), inv_sd(d);
  for (size_t j = 0; j < d; ++j) {
    double m = n > 0 ? sum[j] / n : 0;
    double v = n > 0 ? sq[j] / n - m * m : 1;
    mean[j] = static_cast<float>(m);
    inv_sd[j] = static_cast<float>(1.0 / std::sqrt(std::max(v, 1e-6)));
  }
  for (size_t f = 0; f < mfcc.rows; ++f) {
    const float* x = mfcc.row(f) + 1;
    float* y = out.row(f);
    for (size_t j = 0; j < d; ++j) y[j] = (x[j] - mean[j]) * inv_sd[j];
  }
  return out;
}

// Windows of `len` frames every `hop` inside each speech range; ranges shorter than `min_len`
// get none, ranges shorter than `len` get one window covering them.
std::vector<FrameRange> MakeWindows(const std::vector<FrameRange>& speech, size_t len, size_t hop,
                                    size_t min_len) {
  std::vector<FrameRange> windows;
  for (const FrameRange& r : speech) {
    if (r.size() < min_len) continue;
    if (r.size() <= len) {
      windows.push_back(r);
      continue;
    }
    size_t count = (r.size() - len + hop - 1) / hop + 1;
    for (size_t i = 0; i < count; ++i) {
      size_t b = std::min(r.begin + i * hop, r.end - len);
      windows.push_back({b, b + len});
    }
  }
  return windows;
}

// Turns from per-frame labels inside each speech segment. Segment edges keep their exact times.
std::vector<Turn> LabelRuns(const std::vector<int>& labels,
                            const std::vector<audio::SpeechSegment>& speech,
                            const std::vector<FrameRange>& ranges, size_t min_frames) {
  std::vector<Turn> turns;
  for (size_t s = 0; s < speech.size(); ++s) {
    const FrameRange& r = ranges[s];
    size_t f = r.begin;
    while (f < r.end) {
      int label = labels[f];
      size_t e = f;
      while (e < r.end && labels[e] == label) ++e;
      if (label >= 0 && e - f >= min_frames) {
        double start = f == r.begin ? speech[s].start : f * kFrameSeconds;
        double end = e == r.end ? speech[s].end : e * kFrameSeconds;
        if (end > start) turns.push_back({start, end, label});
      }
      f = e;
    }
  }
  return turns;
}

// Sorted by start; touching or overlapping turns of the same speaker joined.
std::vector<Turn> JoinTurns(std::vector<Turn> turns) {
  std::sort(turns.begin(), turns.end(), [](const Turn& a, const Turn& b) {
    return a.speaker != b.speaker ? a.speaker < b.speaker : a.start < b.start;
  });
  std::vector<Turn> out;
  for (const Turn& t : turns) {
    if (!out.empty() && out.back().speaker == t.speaker && t.start <= out.back().end + 1e-9) {
      out.back().end = std::max(out.back().end, t.end);
    } else {
      out.push_back(t);
    }
  }
  std::sort(out.begin(), out.end(), [](const Turn& a, const Turn& b) {
    return a.start != b.start ? a.start < b.start : a.speaker < b.speaker;
  });
  return out;
}

}  // namespace

std::string SpeakerLabel(int speaker) { return "SPEAKER_" + std::to_string(speaker + 1); }

Status ValidateOptions(const DiarizationOptions& o) {
  if (o.num_speakers < 0) return InvalidArgument("number of speakers must be positive");
  if (o.min_speakers < 0 || o.max_speakers < 0) {
    return InvalidArgument("minimum and maximum number of speakers must be positive");
  }
  if (o.max_speakers > 0 && o.min_speakers > o.max_speakers) {
    return InvalidArgument("minimum number of speakers (" + std::to_string(o.min_speakers) +
                           ") is above the maximum (" + std::to_string(o.max_speakers) + ")");
  }
  if (o.num_speakers > 255 || o.max_speakers > 255) {
    return InvalidArgument("at most 255 speakers are supported");
  }
  if (!(o.window_seconds > 0) || !(o.window_hop_seconds > 0)) {
    return InvalidArgument("embedding window and hop must be positive");
  }
  if (!(o.read_block_seconds > 0)) return InvalidArgument("read block must be positive");
  const double share = o.resegmentation.min_speaker_share;
  if (!(share >= 0 && share < 1)) {
    return InvalidArgument("minimum speaker share must be in [0, 1), got " + std::to_string(share));
  }
  return OkStatus();
}

Diarizer::Diarizer(DiarizationOptions options, std::unique_ptr<SpeakerEmbedder> embedder)
    : options_(std::move(options)), embedder_(std::move(embedder)) {
  if (!embedder_) embedder_ = std::make_unique<SupervectorEmbedder>();
}

Result<Diarization> Diarizer::Run(const float* pcm, size_t n, audio::VoiceActivityDetector& vad,
                                  const ProgressSink& progress) {
  return Run(audio::MemorySampleSource(pcm, n), vad, progress);
}

Result<Diarization> Diarizer::Run(const float* pcm, size_t n,
                                  const std::vector<audio::SpeechSegment>& speech,
                                  const ProgressSink& progress) {
  return Run(audio::MemorySampleSource(pcm, n), speech, progress);
}

Result<Diarization> Diarizer::Run(const audio::SampleSource& source,
                                  audio::VoiceActivityDetector& vad, const ProgressSink& progress) {
  CRM_TRY(ValidateOptions(options_));
  CRM_TRY(CheckSource(source));
  const double duration = source.size() / kRate;
  std::unique_ptr<audio::VadStream> stream = vad.NewStream();
  if (!stream) {
    // A detector that cannot stream needs the whole audio at once.
    std::vector<float> pcm(source.size());
    CRM_ASSIGN_OR_RETURN(size_t got, source.Read(0, pcm.data(), pcm.size()));
    pcm.resize(got);
    CRM_ASSIGN_OR_RETURN(auto speech,
                         vad.Detect(pcm.data(), pcm.size(), SubProgress(progress, 0.0, 0.2)));
    std::vector<float>().swap(pcm);
    CRM_ASSIGN_OR_RETURN(Matrix mfcc,
                         ReadFeatures(source, nullptr, nullptr, SubProgress(progress, 0.2, 0.4),
                                      BlockFrames(options_)));
    return Diarize(std::move(mfcc), speech, duration, &source, SubProgress(progress, 0.4, 1.0));
  }
  std::vector<float> probabilities;
  CRM_ASSIGN_OR_RETURN(Matrix mfcc,
                       ReadFeatures(source, stream.get(), &probabilities,
                                    SubProgress(progress, 0.0, 0.4), BlockFrames(options_)));
  stream->Finish(&probabilities);
  std::vector<audio::SpeechSegment> speech =
      audio::vad::SegmentSpeech(probabilities, vad.frame_seconds(), duration, vad.segmentation());
  return Diarize(std::move(mfcc), speech, duration, &source, SubProgress(progress, 0.4, 1.0));
}

Result<Diarization> Diarizer::Run(const audio::SampleSource& source,
                                  const std::vector<audio::SpeechSegment>& speech,
                                  const ProgressSink& progress) {
  CRM_TRY(ValidateOptions(options_));
  CRM_TRY(CheckSource(source));
  const double duration = source.size() / kRate;
  if (CleanSpeech(speech, duration).empty()) {
    // Nothing to read: no speech, no speaker.
    return Diarize(Matrix(), speech, duration, &source, progress);
  }
  CRM_ASSIGN_OR_RETURN(Matrix mfcc,
                       ReadFeatures(source, nullptr, nullptr, SubProgress(progress, 0.0, 0.3),
                                    BlockFrames(options_)));
  return Diarize(std::move(mfcc), speech, duration, &source, SubProgress(progress, 0.3, 1.0));
}

Result<Diarization> Diarizer::Diarize(Matrix mfcc,
                                      const std::vector<audio::SpeechSegment>& raw_speech,
                                      double duration, const audio::SampleSource* source,
                                      const ProgressSink& progress) {
  const DiarizationOptions& o = options_;
  Diarization result;
  result.duration = duration;
  std::vector<audio::SpeechSegment> speech = CleanSpeech(raw_speech, result.duration);
  if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "diarization cancelled");
  if (speech.empty()) {
    progress.Report(1.0);
    return result;
  }
  if (mfcc.rows == 0) {
    // Shorter than one 25 ms frame: nothing to compare, one speaker.
    for (const auto& s : speech) result.turns.push_back({s.start, s.end, 0});
    result.exclusive_turns = result.turns;
    result.num_speakers = 1;
    result.voiceprints.emplace_back();
    progress.Report(1.0);
    return result;
  }
  // Speech as frame ranges.
  std::vector<FrameRange> ranges;
  for (const auto& s : speech) {
    ranges.push_back({FrameAt(s.start, mfcc.rows), FrameAt(s.end, mfcc.rows)});
  }
  std::vector<int> labels(mfcc.rows, -1);
  Matrix cepstra = NormalisedCepstra(mfcc, ranges);
  const auto frames = [](double seconds) {
    return static_cast<size_t>(std::max(1.0, std::round(seconds / kFrameSeconds)));
  };
  std::vector<FrameRange> windows = MakeWindows(
      ranges, frames(o.window_seconds), frames(o.window_hop_seconds), frames(o.min_window_seconds));
  if (windows.empty()) {
    // Too little speech to compare voices: one speaker.
    windows = MakeWindows(ranges, frames(o.window_seconds), frames(o.window_hop_seconds), 1);
  }
  std::vector<int> window_label(windows.size(), 0);
  if (windows.size() > 1) {
    EmbeddingInput input{source, &cepstra};
    CRM_ASSIGN_OR_RETURN(Matrix emb,
                         embedder_->Embed(input, windows, SubProgress(progress, 0.3, 0.4)));
    ClusteringOptions copt = o.clustering;
    copt.min_clusters = o.num_speakers > 0 ? o.num_speakers : std::max(1, o.min_speakers);
    copt.max_clusters =
        o.num_speakers > 0 ? o.num_speakers : (o.max_speakers > 0 ? o.max_speakers : 255);
    // With BIC merging on, the dendrogram is only cut at its threshold (at least the minimum
    // count): BIC merges the clusters down to the maximum or the imposed count. Cutting the
    // dendrogram at exactly the imposed count splits off a few odd windows instead of a voice
    // (README.md: dev00 with two speakers imposed, 46.5 % this way, 22.3 % the other).
    if (o.bic_lambda > 0) copt.max_clusters = 255;
    window_label = ClusterEmbeddings(emb, copt);
  }
  if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "diarization cancelled");

  // Each speech frame starts with the label of the window whose centre is nearest in time.
  std::vector<double> centre(windows.size());
  for (size_t w = 0; w < windows.size(); ++w) centre[w] = 0.5 * (windows[w].begin + windows[w].end);
  std::vector<size_t> order(windows.size());
  for (size_t w = 0; w < order.size(); ++w) order[w] = w;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return centre[a] < centre[b]; });
  size_t cursor = 0;
  for (const FrameRange& r : ranges) {
    for (size_t f = r.begin; f < r.end; ++f) {
      if (order.empty()) {
        labels[f] = 0;
        continue;
      }
      while (cursor + 1 < order.size() &&
             std::abs(centre[order[cursor + 1]] - f) <= std::abs(centre[order[cursor]] - f)) {
        ++cursor;
      }
      labels[f] = window_label[order[cursor]];
    }
  }

  if (o.bic_lambda > 0) {
    BicOptions bopt;
    bopt.lambda = o.bic_lambda;
    bopt.min_clusters = o.num_speakers > 0 ? o.num_speakers : std::max(1, o.min_speakers);
    bopt.max_clusters =
        o.num_speakers > 0 ? o.num_speakers : (o.max_speakers > 0 ? o.max_speakers : 255);
    MergeClustersByBic(cepstra, &labels, bopt);
  }

  ResegmentationOptions ropt = o.resegmentation;
  if (o.num_speakers > 0) {
    ropt.keep_at_least = o.num_speakers;
  } else {
    ropt.keep_at_least = std::max(1, o.min_speakers);
  }
  CRM_ASSIGN_OR_RETURN(
      FrameLabels fl, Resegment(cepstra, std::move(labels), ropt, SubProgress(progress, 0.4, 0.9)));
  if (o.final_bic_lambda > 0 && fl.speakers > ropt.keep_at_least) {
    BicOptions bopt;
    bopt.lambda = o.final_bic_lambda;
    bopt.min_clusters = ropt.keep_at_least;
    std::vector<int> merged = fl.primary;
    if (MergeClustersByBic(cepstra, &merged, bopt) < fl.speakers) {
      CRM_ASSIGN_OR_RETURN(
          fl, Resegment(cepstra, std::move(merged), ropt, SubProgress(progress, 0.9, 0.95)));
    }
  }

  result.exclusive_turns = LabelRuns(fl.primary, speech, ranges, 0);
  std::vector<Turn> all = result.exclusive_turns;
  std::vector<Turn> second = LabelRuns(fl.secondary, speech, ranges, frames(o.min_overlap_seconds));
  all.insert(all.end(), second.begin(), second.end());
  result.turns = JoinTurns(std::move(all));
  result.exclusive_turns = JoinTurns(std::move(result.exclusive_turns));

  // Speakers numbered by first appearance in the turns.
  std::vector<int> map(std::max(fl.speakers, 1), -1);
  int next = 0;
  for (const Turn& t : result.turns) {
    if (map[t.speaker] < 0) map[t.speaker] = next++;
  }
  for (Turn& t : result.turns) t.speaker = map[t.speaker];
  for (Turn& t : result.exclusive_turns) t.speaker = map[t.speaker];
  result.num_speakers = next;

  std::vector<std::vector<size_t>> own(next);
  for (size_t f = 0; f < fl.primary.size(); ++f) {
    if (fl.primary[f] >= 0 && map[fl.primary[f]] >= 0) own[map[fl.primary[f]]].push_back(f);
  }
  for (int s = 0; s < next; ++s) result.voiceprints.push_back(VoiceprintFromFrames(mfcc, own[s]));
  progress.Report(1.0);
  return result;
}

}  // namespace crm::diarization
