#include "diarization/diarization.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <thread>
#include <unordered_map>

#include "audio/vad/segmentation.h"
#include "diarization/bic.h"
#include "diarization/der.h"
#include "diarization/features.h"
#include "diarization/voiceprint.h"

namespace crm::diarization {
namespace {

constexpr double kRate = 16000.0;

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

// Each speech frame gets the label of the window whose centre is nearest in time.
std::vector<int> LabelsFromWindows(const std::vector<FrameRange>& windows,
                                   const std::vector<int>& window_label,
                                   const std::vector<FrameRange>& ranges, size_t rows) {
  std::vector<int> labels(rows, -1);
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
  return labels;
}

// The speech ranges without their frames of digital silence (mean log mel-band energy below
// `floor`, natural log): the pieces of a range between silent frames become ranges of their own.
std::vector<FrameRange> WithoutSilentFrames(const Matrix& mfcc,
                                            const std::vector<FrameRange>& ranges, double floor) {
  // c0 is the orthonormal DCT's first coefficient: sqrt(bands) x the mean log energy.
  const double c0_floor = floor * std::sqrt(static_cast<double>(FeatureOptions{}.mel_bands));
  std::vector<FrameRange> out;
  for (const FrameRange& r : ranges) {
    size_t f = r.begin;
    while (f < r.end) {
      while (f < r.end && mfcc.row(f)[0] < c0_floor) ++f;
      size_t e = f;
      while (e < r.end && mfcc.row(e)[0] >= c0_floor) ++e;
      if (e > f) out.push_back({f, e});
      f = e;
    }
  }
  return out;
}

// Frames of `ranges` left unlabelled (-1) take the label of the nearest labelled frame before
// them in the same range, else after it, else the label of the range before.
void FillUnlabelled(std::vector<int>* labels, const std::vector<FrameRange>& ranges) {
  std::vector<int>& l = *labels;
  int last = -1;
  for (int v : l) {
    if (v >= 0) {
      last = v;
      break;
    }
  }
  if (last < 0) return;
  for (const FrameRange& r : ranges) {
    const size_t end = std::min(r.end, l.size());
    int prev = -1;
    for (size_t f = r.begin; f < end; ++f) {
      if (l[f] >= 0) {
        prev = l[f];
      } else if (prev >= 0) {
        l[f] = prev;
      }
    }
    int next = -1;
    for (size_t f = end; f-- > r.begin;) {
      if (l[f] >= 0) {
        next = l[f];
      } else if (next >= 0) {
        l[f] = next;
      }
    }
    for (size_t f = r.begin; f < end; ++f) {
      if (l[f] < 0) l[f] = last;
      last = l[f];
    }
  }
}

// Labels renumbered by first appearance (-1 kept); returns the count.
int Canonical(std::vector<int>* labels) {
  std::vector<int> map;
  int next = 0;
  for (int& l : *labels) {
    if (l < 0) continue;
    if (static_cast<size_t>(l) >= map.size()) map.resize(l + 1, -1);
    if (map[l] < 0) map[l] = next++;
    l = map[l];
  }
  return next;
}

// Frame labels stored one byte per frame (kNone: not speech): the consensus keeps one labelling
// per distinct back-end answer, 0.7 MB each for two hours.
constexpr uint8_t kNone = 255;

std::vector<uint8_t> Compact(const std::vector<int>& labels) {
  std::vector<uint8_t> out(labels.size(), kNone);
  for (size_t f = 0; f < labels.size(); ++f) {
    if (labels[f] >= 0 && labels[f] < kNone) out[f] = static_cast<uint8_t>(labels[f]);
  }
  return out;
}

std::vector<int> Expand(const std::vector<uint8_t>& labels) {
  std::vector<int> out(labels.size(), -1);
  for (size_t f = 0; f < labels.size(); ++f) {
    if (labels[f] != kNone) out[f] = labels[f];
  }
  return out;
}

// Fraction of the speech frames on which two labellings agree under their best one-to-one
// speaker mapping (Hungarian method on the co-occurrence counts).
double Agreement(const std::vector<uint8_t>& a, int ka, const std::vector<uint8_t>& b, int kb) {
  if (ka <= 0 || kb <= 0) return 0;
  std::vector<double> count(static_cast<size_t>(ka) * kb, 0);
  double total = 0;
  for (size_t f = 0; f < a.size() && f < b.size(); ++f) {
    if (a[f] == kNone || b[f] == kNone) continue;
    count[a[f] * kb + b[f]] += 1;
    total += 1;
  }
  if (total <= 0) return 0;
  std::vector<std::vector<double>> cost(ka, std::vector<double>(kb));
  for (int i = 0; i < ka; ++i) {
    for (int j = 0; j < kb; ++j) cost[i][j] = -count[i * kb + j];
  }
  std::vector<int> assign = SolveAssignment(cost);
  double matched = 0;
  for (int i = 0; i < ka; ++i) {
    if (assign[i] >= 0) matched += count[i * kb + assign[i]];
  }
  return matched / total;
}

// 64-bit FNV-1a of a labelling: identical starts of the back end are re-segmented once.
uint64_t HashLabels(const std::vector<int>& labels) {
  uint64_t h = 1469598103934665603ull;
  for (int v : labels) h = (h ^ static_cast<uint64_t>(v + 1)) * 1099511628211ull;
  return h;
}

size_t FramesOf(double seconds) {
  return static_cast<size_t>(std::max(1.0, std::round(seconds / kFrameSeconds)));
}

// The consensus back end (ConsensusOptions): the clustering -> BIC -> re-segmentation chain run
// with perturbed settings; the reference settings fix the speaker count, and among the answers
// with that count the one agreeing most, frame by frame, with all the answers is kept.
Result<FrameLabels> ConsensusBackEnd(
    const Matrix& cepstra, const std::vector<FrameRange>& ranges,
    const std::vector<FrameRange>& windows, const DiarizationOptions& o, SpeakerEmbedder* embedder,
    const audio::SampleSource* source, const ClusteringOptions& copt,
    const ResegmentationOptions& ropt,
    const std::function<void(std::vector<int>*, double)>& bic_merge, const ProgressSink& progress) {
  const ConsensusOptions& co = o.consensus;
  const size_t rows = cepstra.rows;
  const bool keep_secondary = ropt.overlap_margin > 0;
  struct Answer {
    std::vector<uint8_t> primary, secondary;
    int speakers = 0;
    double weight = 0;  // parameter settings that gave it
  };
  std::vector<Answer> answers;
  std::unordered_map<uint64_t, size_t> seen;
  // Cancellation reaches into every re-segmentation; progress is reported by the calling thread.
  const ProgressSink cancel_only{{}, progress.is_cancelled};
  const auto resegment = [&](std::vector<int> start, Answer* a) -> Status {
    CRM_ASSIGN_OR_RETURN(FrameLabels r, Resegment(cepstra, std::move(start), ropt, cancel_only));
    a->speakers = r.speakers;
    a->primary = Compact(r.primary);
    if (keep_secondary) a->secondary = Compact(r.secondary);
    return OkStatus();
  };
  // Distinct starts after the reference's, kept one byte per frame until re-segmented.
  std::vector<std::pair<size_t, std::vector<uint8_t>>> pending;
  const auto run = [&](const std::vector<FrameRange>& win, const std::vector<int>& window_label,
                       double lambda) -> Status {
    std::vector<int> start = LabelsFromWindows(win, window_label, ranges, rows);
    bic_merge(&start, lambda);
    Canonical(&start);
    const uint64_t h = HashLabels(start);
    auto it = seen.find(h);
    if (it != seen.end()) {
      answers[it->second].weight += 1;
      return OkStatus();
    }
    seen[h] = answers.size();
    answers.push_back(Answer{});
    answers.back().weight = 1;
    if (answers.size() == 1) return resegment(std::move(start), &answers.back());
    pending.emplace_back(answers.size() - 1, Compact(start));
    return OkStatus();
  };

  // Settings: embedders x window offsets x clustering thresholds x BIC weights; the first is the
  // reference (the diarizer's embedder, no offset, the options' threshold and weight).
  std::vector<std::unique_ptr<SpeakerEmbedder>> others;
  std::vector<SpeakerEmbedder*> embedders = {embedder};
  for (const std::string& name : co.other_embedders) {
    CRM_ASSIGN_OR_RETURN(std::unique_ptr<SpeakerEmbedder> other, MakeSpeakerEmbedder(name));
    if (other->name() == embedder->name()) continue;
    embedders.push_back(other.get());
    others.push_back(std::move(other));
  }
  std::vector<double> offsets = {0.0};
  for (double off : co.window_offsets_seconds) {
    if (off > 0) offsets.push_back(off);
  }
  std::vector<double> t_scales = {1.0}, l_scales = {1.0};
  for (double v : co.threshold_scales) {
    if (v > 0 && v != 1.0) t_scales.push_back(v);
  }
  for (double v : co.bic_lambda_scales) {
    if (v > 0 && v != 1.0) l_scales.push_back(v);
  }
  const double total_runs =
      static_cast<double>(embedders.size() * offsets.size() * t_scales.size() * l_scales.size());
  double done = 0;
  for (size_t e = 0; e < embedders.size(); ++e) {
    for (size_t w = 0; w < offsets.size(); ++w) {
      std::vector<FrameRange> win = windows;
      if (w > 0) {
        // The same windows shifted by the offset inside every speech stretch long enough.
        const size_t shift = FramesOf(offsets[w]);
        std::vector<FrameRange> shifted;
        for (const FrameRange& r : ranges) {
          shifted.push_back(r.size() >= FramesOf(o.window_seconds) + shift
                                ? FrameRange{r.begin + shift, r.end}
                                : r);
        }
        win = MakeWindows(shifted, FramesOf(o.window_seconds), FramesOf(o.window_hop_seconds),
                          FramesOf(o.min_window_seconds));
        if (win.size() <= 1) win = windows;
      }
      if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "diarization cancelled");
      EmbeddingInput input{source, &cepstra};
      CRM_ASSIGN_OR_RETURN(Matrix emb, embedders[e]->Embed(input, win));
      for (double ts : t_scales) {
        ClusteringOptions c = copt;
        c.threshold = copt.threshold * ts;
        const std::vector<int> window_label = ClusterEmbeddings(emb, c);
        for (double ls : l_scales) {
          if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "diarization cancelled");
          progress.Report(0.3 * done / total_runs);
          CRM_TRY(run(win, window_label, o.bic_lambda * ls));
          done += 1;
          // Every answer with one speaker is the same labelling: nothing to choose from.
          if (done == 1 && answers[0].speakers <= 1) {
            FrameLabels out;
            out.primary = Expand(answers[0].primary);
            out.secondary =
                keep_secondary ? Expand(answers[0].secondary) : std::vector<int>(rows, -1);
            out.speakers = answers[0].speakers;
            progress.Report(1.0);
            return out;
          }
        }
      }
    }
  }
  // The other distinct starts are re-segmented on `threads` threads, each answer in its own slot:
  // the result does not depend on the number of threads.
  {
    std::atomic<size_t> next{0}, finished{0};
    std::vector<Status> status(pending.size(), OkStatus());
    // Takes the next start; false when none is left.
    const auto take_one = [&]() -> bool {
      const size_t i = next.fetch_add(1);
      if (i >= pending.size()) return false;
      if (cancel_only.Cancelled()) {
        status[i] = Error(ErrorCode::kCancelled, "diarization cancelled");
      } else {
        status[i] = resegment(Expand(pending[i].second), &answers[pending[i].first]);
      }
      std::vector<uint8_t>().swap(pending[i].second);
      finished.fetch_add(1);
      return true;
    };
    const size_t threads = std::min(pending.size(), static_cast<size_t>(std::max(1, o.threads)));
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) {
      pool.emplace_back([&] {
        while (take_one()) {
        }
      });
    }
    // The calling thread works too, and reports the progress.
    while (take_one()) {
      progress.Report(0.3 + 0.7 * static_cast<double>(finished.load()) / pending.size());
    }
    for (auto& t : pool) t.join();
    for (const Status& st : status) CRM_TRY(st);
  }
  // The reference's count, unless too few of the settings find that many speakers: then the
  // next lower count found (never below the minimum). A split of one voice by its moods is made
  // by some settings only; the two voices of a conversation by most of them (README.md).
  int count = answers[0].speakers;
  double total_weight = 0;
  for (const Answer& a : answers) total_weight += a.weight;
  while (co.min_count_share > 0) {
    double reach = 0;
    int lower = -1;
    for (const Answer& a : answers) {
      if (a.speakers >= count) {
        reach += a.weight;
      } else if (a.speakers >= ropt.keep_at_least) {
        lower = std::max(lower, a.speakers);
      }
    }
    if (lower < 0 || reach >= co.min_count_share * total_weight) break;
    count = lower;
  }
  // The medoid among the answers with that count (the reference wins ties).
  size_t best = 0;
  double best_score = -1;
  for (size_t a = 0; a < answers.size(); ++a) {
    if (answers[a].speakers != count) continue;
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "diarization cancelled");
    double score = 0;
    for (size_t b = 0; b < answers.size(); ++b) {
      score += answers[b].weight * (a == b ? 1.0
                                           : Agreement(answers[a].primary, answers[a].speakers,
                                                       answers[b].primary, answers[b].speakers));
    }
    if (score > best_score) {
      best_score = score;
      best = a;
    }
  }
  FrameLabels out;
  out.primary = Expand(answers[best].primary);
  out.secondary = keep_secondary ? Expand(answers[best].secondary) : std::vector<int>(rows, -1);
  out.speakers = answers[best].speakers;
  progress.Report(1.0);
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
  for (const std::string& name : o.consensus.other_embedders) {
    CRM_TRY(MakeSpeakerEmbedder(name));
  }
  CRM_TRY(MakeSpeakerEmbedder(o.embedder));
  const double share = o.resegmentation.min_speaker_share;
  if (!(share >= 0 && share < 1)) {
    return InvalidArgument("minimum speaker share must be in [0, 1), got " + std::to_string(share));
  }
  if (o.threads < 1 || o.threads > 256) {
    return InvalidArgument("diarization threads must be from 1 to 256, got " +
                           std::to_string(o.threads));
  }
  const double count_share = o.consensus.min_count_share;
  if (!(count_share >= 0 && count_share <= 1)) {
    return InvalidArgument("minimum count share must be in [0, 1], got " +
                           std::to_string(count_share));
  }
  return OkStatus();
}

Diarizer::Diarizer(DiarizationOptions options, std::unique_ptr<SpeakerEmbedder> embedder)
    : options_(std::move(options)), embedder_(std::move(embedder)) {
  if (!embedder_) {
    // An unknown name leaves it null; ValidateOptions() reports it when the diarizer runs.
    auto made = MakeSpeakerEmbedder(options_.embedder);
    if (made.ok()) embedder_ = std::move(made).value();
  }
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
    CRM_ASSIGN_OR_RETURN(auto speech, vad.Detect(pcm.data(), pcm.size(), progress.Part(0.0, 0.2)));
    std::vector<float>().swap(pcm);
    CRM_ASSIGN_OR_RETURN(Matrix mfcc, ReadFeatures(source, nullptr, nullptr,
                                                   progress.Part(0.2, 0.4), BlockFrames(options_)));
    return Diarize(std::move(mfcc), speech, duration, &source, progress.Part(0.4, 1.0));
  }
  std::vector<float> probabilities;
  CRM_ASSIGN_OR_RETURN(Matrix mfcc, ReadFeatures(source, stream.get(), &probabilities,
                                                 progress.Part(0.0, 0.4), BlockFrames(options_)));
  stream->Finish(&probabilities);
  std::vector<audio::SpeechSegment> speech =
      audio::vad::SegmentSpeech(probabilities, vad.frame_seconds(), duration, vad.segmentation());
  return Diarize(std::move(mfcc), speech, duration, &source, progress.Part(0.4, 1.0));
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
  CRM_ASSIGN_OR_RETURN(Matrix mfcc, ReadFeatures(source, nullptr, nullptr, progress.Part(0.0, 0.3),
                                                 BlockFrames(options_)));
  return Diarize(std::move(mfcc), speech, duration, &source, progress.Part(0.3, 1.0));
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
  // The frames the voices are modelled on: the speech without its digital silence, which says
  // nothing of a voice (its frames take their neighbours' speaker at the end).
  std::vector<FrameRange> voiced = ranges;
  if (o.skip_silent_frames) {
    voiced = WithoutSilentFrames(mfcc, ranges, o.silent_log_energy);
    if (voiced.empty()) voiced = ranges;
  }
  Matrix cepstra = NormalisedCepstra(mfcc, voiced);
  std::vector<FrameRange> windows =
      MakeWindows(voiced, FramesOf(o.window_seconds), FramesOf(o.window_hop_seconds),
                  FramesOf(o.min_window_seconds));
  if (windows.empty()) {
    // Too little speech to compare voices: one speaker.
    windows = MakeWindows(voiced, FramesOf(o.window_seconds), FramesOf(o.window_hop_seconds), 1);
  }
  // The speaker count's bounds: the imposed count, or [min, max].
  const int bic_min = o.num_speakers > 0 ? o.num_speakers : std::max(1, o.min_speakers);
  const int bic_max =
      o.num_speakers > 0 ? o.num_speakers : (o.max_speakers > 0 ? o.max_speakers : 255);
  ResegmentationOptions ropt = o.resegmentation;
  ropt.keep_at_least = bic_min;
  ClusteringOptions copt = o.clustering;
  copt.min_clusters = bic_min;
  // With BIC merging on, the dendrogram is only cut at its threshold (at least the minimum
  // count): BIC merges the clusters down to the maximum or the imposed count. Cutting the
  // dendrogram at exactly the imposed count splits off a few odd windows instead of a voice.
  copt.max_clusters = o.bic_lambda > 0 ? 255 : bic_max;
  // One back end: window labels -> frame labels -> BIC merging -> re-segmentation.
  const auto bic_merge = [&](std::vector<int>* frame_labels, double lambda) {
    if (lambda <= 0) return;
    BicOptions bopt;
    bopt.lambda = lambda;
    bopt.min_clusters = bic_min;
    bopt.max_clusters = bic_max;
    MergeClustersByBic(cepstra, frame_labels, bopt);
  };
  const ConsensusOptions& co = o.consensus;
  FrameLabels fl;
  if (!co.enabled || windows.size() <= 1) {
    std::vector<int> window_label(windows.size(), 0);
    if (windows.size() > 1) {
      EmbeddingInput input{source, &cepstra};
      CRM_ASSIGN_OR_RETURN(Matrix emb, embedder_->Embed(input, windows, progress.Part(0.3, 0.4)));
      window_label = ClusterEmbeddings(emb, copt);
    }
    if (progress.Cancelled()) return Error(ErrorCode::kCancelled, "diarization cancelled");
    std::vector<int> labels = LabelsFromWindows(windows, window_label, voiced, mfcc.rows);
    bic_merge(&labels, o.bic_lambda);
    CRM_ASSIGN_OR_RETURN(fl, Resegment(cepstra, std::move(labels), ropt, progress.Part(0.4, 0.9)));
  } else {
    CRM_ASSIGN_OR_RETURN(fl, ConsensusBackEnd(cepstra, voiced, windows, o, embedder_.get(), source,
                                              copt, ropt, bic_merge, progress.Part(0.3, 0.9)));
  }
  if (o.final_bic_lambda > 0 && fl.speakers > ropt.keep_at_least) {
    BicOptions bopt;
    bopt.lambda = o.final_bic_lambda;
    bopt.min_clusters = ropt.keep_at_least;
    std::vector<int> merged = fl.primary;
    if (MergeClustersByBic(cepstra, &merged, bopt) < fl.speakers) {
      CRM_ASSIGN_OR_RETURN(fl,
                           Resegment(cepstra, std::move(merged), ropt, progress.Part(0.9, 0.95)));
    }
  }
  // The silent frames get their neighbours' speaker; the voiceprints use only the others.
  std::vector<int> modelled = fl.primary;
  FillUnlabelled(&fl.primary, ranges);
  result.exclusive_turns = LabelRuns(fl.primary, speech, ranges, 0);
  std::vector<Turn> all = result.exclusive_turns;
  std::vector<Turn> second =
      LabelRuns(fl.secondary, speech, ranges, FramesOf(o.min_overlap_seconds));
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
  for (size_t f = 0; f < modelled.size(); ++f) {
    if (modelled[f] >= 0 && map[modelled[f]] >= 0) own[map[modelled[f]]].push_back(f);
  }
  for (int s = 0; s < next; ++s) result.voiceprints.push_back(VoiceprintFromFrames(mfcc, own[s]));
  progress.Report(1.0);
  return result;
}

}  // namespace crm::diarization
