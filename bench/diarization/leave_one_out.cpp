#include "leave_one_out.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>

#include "diarization/der.h"

namespace crm::diarization::bench {
namespace {

bool Near(double a, double b) { return std::fabs(a - b) < 1e-9; }

struct Score {
  DerResult der;
  int found = 0;
};

std::string Label(double cut, double lambda, double count_share, double speaker_share) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "cut %.2f lambda %.2f count-share %.2f speaker-share %.2f", cut,
                lambda, count_share, speaker_share);
  return buf;
}

// Speaker-time weighted DER of a set of results (as the bench's "AMI overall").
struct Pool {
  double total = 0, error = 0, missed = 0, fa = 0, conf = 0;
  void Add(const DerResult& r) {
    total += r.total;
    missed += r.missed;
    fa += r.false_alarm;
    conf += r.confusion;
    error += r.missed + r.false_alarm + r.confusion;
  }
  double Der() const { return total > 0 ? error / total : 0; }
};

}  // namespace

std::vector<LooSetting> MakeLooGrid(const DiarizationOptions& base, const LooGridSpec& spec) {
  std::vector<LooSetting> grid;
  bool has_base = false;
  for (double cut : spec.cuts) {
    for (double lambda : spec.bic_lambdas) {
      for (double count_share : spec.min_count_shares) {
        for (double speaker_share : spec.min_speaker_shares) {
          LooSetting s{Label(cut, lambda, count_share, speaker_share), base};
          s.options.clustering.threshold = cut;
          s.options.bic_lambda = lambda;
          s.options.consensus.min_count_share = count_share;
          s.options.resegmentation.min_speaker_share = speaker_share;
          if (Near(cut, base.clustering.threshold) && Near(lambda, base.bic_lambda) &&
              Near(count_share, base.consensus.min_count_share) &&
              Near(speaker_share, base.resegmentation.min_speaker_share)) {
            has_base = true;
            grid.insert(grid.begin(), std::move(s));
          } else {
            grid.push_back(std::move(s));
          }
        }
      }
    }
  }
  if (!has_base) {
    grid.insert(grid.begin(),
                LooSetting{Label(base.clustering.threshold, base.bic_lambda,
                                 base.consensus.min_count_share,
                                 base.resegmentation.min_speaker_share),
                           base});
  }
  return grid;
}

bool RunLeaveOneOut(const std::vector<LooClip>& clips, const std::vector<LooSetting>& grid,
                    int threads) {
  const size_t n = clips.size(), g = grid.size();
  if (n < 2 || g == 0) return false;
  std::vector<Score> scores(n * g);  // [setting * n + clip]
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    for (size_t job; (job = next.fetch_add(1)) < n * g && !failed;) {
      const size_t s = job / n, c = job % n;
      const LooClip& clip = clips[c];
      auto d = Diarizer(grid[s].options).Run(clip.pcm->data(), clip.pcm->size(), clip.speech);
      if (!d.ok()) {
        std::fprintf(stderr, "%s (%s): %s\n", clip.name.c_str(), grid[s].label.c_str(),
                     d.error().message.c_str());
        failed = true;
        return;
      }
      DerOptions o;
      o.uem_end = clip.pcm->size() / 16000.0;
      scores[job] = {ScoreDiarization(clip.reference, NameTurns(d->turns), o), d->num_speakers};
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failed) return false;

  auto at = [&](size_t s, size_t c) -> const Score& { return scores[s * n + c]; };
  // The setting chosen without clip `left_out` (n = none left out: the in-sample best): lowest
  // mean DER over the other clips; ties go to the lower pooled DER, then to grid order.
  auto choose = [&](size_t left_out) {
    size_t best = 0;
    double best_mean = 1e300, best_pooled = 1e300;
    for (size_t s = 0; s < g; ++s) {
      double sum = 0;
      Pool pooled;
      for (size_t c = 0; c < n; ++c) {
        if (c == left_out) continue;
        sum += at(s, c).der.der();
        pooled.Add(at(s, c).der);
      }
      const double mean = sum / static_cast<double>(left_out < n ? n - 1 : n);
      if (mean < best_mean - 1e-12 ||
          (mean < best_mean + 1e-12 && pooled.Der() < best_pooled - 1e-12)) {
        best = s;
        best_mean = mean;
        best_pooled = pooled.Der();
      }
    }
    return best;
  };

  std::printf("\n== leave-one-out: %zu settings x %zu clips (setting chosen per clip by the mean "
              "DER of the other %zu)\n",
              g, n, n - 1);
  std::printf("today: %s\n", grid[0].label.c_str());
  std::printf("%-7s %8s %8s %8s %9s %9s | %s\n", "clip", "today", "held-out", "1-spk", "spk today",
              "spk h-o", "chosen without the clip");
  Pool today_ami, loo_ami, today_all, loo_all, one_ami;
  double today_mean = 0, loo_mean = 0;
  int today_right = 0, loo_right = 0, one_voice_clips = 0, one_voice_right = 0;
  for (size_t c = 0; c < n; ++c) {
    const size_t s = choose(c);
    const Score& today = at(0, c);
    const Score& held = at(s, c);
    std::vector<NamedTurn> one;
    for (const auto& seg : clips[c].speech) one.push_back({seg.start, seg.end, "one"});
    DerOptions o;
    o.uem_end = clips[c].pcm->size() / 16000.0;
    const DerResult one_speaker = ScoreDiarization(clips[c].reference, one, o);
    std::printf("%-7s %7.1f%% %7.1f%% %7.1f%% %5d / %d %5d / %d | %s\n", clips[c].name.c_str(),
                100 * today.der.der(), 100 * held.der.der(), 100 * one_speaker.der(), today.found,
                clips[c].main_speakers, held.found, clips[c].main_speakers,
                grid[s].label.c_str());
    const bool ami = clips[c].name != "sample";
    if (ami) {
      today_ami.Add(today.der);
      loo_ami.Add(held.der);
      one_ami.Add(one_speaker);
    }
    today_all.Add(today.der);
    loo_all.Add(held.der);
    today_mean += today.der.der() / n;
    loo_mean += held.der.der() / n;
    today_right += today.found == clips[c].main_speakers;
    loo_right += held.found == clips[c].main_speakers;
    if (clips[c].main_speakers == 1) {
      ++one_voice_clips;
      one_voice_right += held.found == 1;
    }
  }
  std::printf(
      "AMI overall (speaker-time weighted): today %.1f%% (tuned on these clips), leave-one-out "
      "%.1f%% (missed %.1f, false alarm %.1f, confusion %.1f); one speaker %.1f%%\n",
      100 * today_ami.Der(), 100 * loo_ami.Der(), 100 * loo_ami.missed / loo_ami.total,
      100 * loo_ami.fa / loo_ami.total, 100 * loo_ami.conf / loo_ami.total, 100 * one_ami.Der());
  std::printf("all %zu clips: pooled today %.1f%%, leave-one-out %.1f%%; mean per clip today "
              "%.1f%%, leave-one-out %.1f%%\n",
              n, 100 * today_all.Der(), 100 * loo_all.Der(), 100 * today_mean, 100 * loo_mean);
  std::printf("speaker count right (main speakers): today %d of %zu, leave-one-out %d of %zu; "
              "clips with one main voice found as one under leave-one-out: %d of %d\n",
              today_right, n, loo_right, n, one_voice_right, one_voice_clips);
  const size_t best = choose(n);
  Pool best_all;
  for (size_t c = 0; c < n; ++c) best_all.Add(at(best, c).der);
  std::printf("in-sample best (chosen on all clips, not a result): %s, pooled %.1f%%\n",
              grid[best].label.c_str(), 100 * best_all.Der());
  return true;
}

}  // namespace crm::diarization::bench
