#include "asr/whisper/decoding.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

namespace crm::asr::whisper {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr double kTimePrecision = 0.02;  // seconds per timestamp token

// The search runs once per token over the whole vocabulary (51,865 logits): its passes use the
// vectorised kernels, so that it stays small beside the decoder step itself.
float LogSumExp(const float* x, int n) { return kernels::LogSumExp(x, n); }

void LogSoftmax(const float* logits, int n, std::vector<float>* out) {
  out->resize(n);
  const float lse = LogSumExp(logits, n);
  for (int i = 0; i < n; ++i) (*out)[i] = logits[i] - lse;
}

// Repetition guard: true when the last kLoopSpan tokens repeat one pattern of period <= 8. Such
// a sequence would run to the sample length and be rejected by the compression-ratio test
// anyway; ending it early saves up to 200 decoder steps per attempt.
constexpr size_t kLoopSpan = 48;
}  // namespace

bool EndsInRepetitionLoop(const std::vector<int>& seq) {
  const size_t n = seq.size();
  if (n < kLoopSpan) return false;
  for (size_t p = 1; p <= 8; ++p) {
    bool periodic = true;
    for (size_t i = n - kLoopSpan + p; i < n && periodic; ++i) periodic = seq[i] == seq[i - p];
    if (periodic) return true;
  }
  return false;
}

namespace {
bool EndsInLoop(const std::vector<int>& seq) { return EndsInRepetitionLoop(seq); }

int ArgMax(const float* x, int n) { return static_cast<int>(kernels::ArgMax(x, n)); }

// The k best indices by value, best first; ties go to the lower index (as a stable sort would).
void TopK(const float* x, int n, int k, std::vector<int>* out) {
  out->clear();
  std::vector<int>& top = *out;
  auto better = [&](int a, int b) { return x[a] > x[b] || (x[a] == x[b] && a < b); };
  for (int i = 0; i < n; ++i) {
    if (static_cast<int>(top.size()) == k && !better(i, top.back())) continue;
    if (static_cast<int>(top.size()) == k) top.pop_back();
    top.insert(std::upper_bound(top.begin(), top.end(), i, better), i);
  }
}

}  // namespace

float CompressionRatio(const std::string& text) {
  if (text.empty()) return 0.0f;
  uLongf cap = compressBound(text.size());
  std::vector<Bytef> buf(cap);
  if (compress2(buf.data(), &cap, reinterpret_cast<const Bytef*>(text.data()), text.size(),
                Z_DEFAULT_COMPRESSION) != Z_OK)
    return 0.0f;
  return static_cast<float>(text.size()) / static_cast<float>(cap);
}

WindowDecoder::WindowDecoder(const WhisperModel& model, TextDecoder* decoder,
                             kernels::ThreadPool* pool)
    : model_(model),
      tok_(model.tokenizer()),
      decoder_(decoder),
      pool_(pool),
      n_vocab_(model.hparams().n_vocab) {
  suppress_ = tok_.NonSpeechTokens();
  for (int t : {tok_.transcribe(), tok_.translate(), tok_.sot(), tok_.sot_prev(), tok_.sot_lm(),
                tok_.no_speech()})
    suppress_.push_back(t);
}

std::vector<int> WindowDecoder::InitialTokens(const DecodingOptions& o, int* sot_index) const {
  std::vector<int> tokens;
  if (!o.prompt.empty()) {
    const int keep = model_.hparams().n_text_ctx / 2 - 1;
    tokens.push_back(tok_.sot_prev());
    const size_t from = o.prompt.size() > static_cast<size_t>(keep) ? o.prompt.size() - keep : 0;
    tokens.insert(tokens.end(), o.prompt.begin() + from, o.prompt.end());
  }
  *sot_index = static_cast<int>(tokens.size());
  tokens.push_back(tok_.sot());
  if (tok_.multilingual()) {
    if (o.language_token >= 0) tokens.push_back(o.language_token);
    tokens.push_back(o.translate ? tok_.translate() : tok_.transcribe());
  }
  if (o.without_timestamps) tokens.push_back(tok_.no_timestamps());
  return tokens;
}

void WindowDecoder::ApplyFilters(const DecodingOptions& o, const std::vector<int>& sampled,
                                 float* logits) const {
  if (o.suppress_blank && sampled.empty()) {
    for (int t : tok_.Encode(" ")) logits[t] = kNegInf;
    logits[tok_.eot()] = kNegInf;
  }
  if (o.suppress_non_speech) {
    for (int t : suppress_) logits[t] = kNegInf;
  }
  const int tb = tok_.timestamp_begin();
  if (o.without_timestamps) {
    // Plain text: the reference only drops its timestamp rules here, which leaves timestamp
    // tokens possible (a trained model does not emit them after <|notimestamps|>, a random one
    // does); they are suppressed, as whisper.cpp does, so that a segment holds text only.
    for (int i = tok_.no_timestamps(); i < n_vocab_; ++i) logits[i] = kNegInf;
    return;
  }

  logits[tok_.no_timestamps()] = kNegInf;
  const size_t n = sampled.size();
  const bool last_ts = n >= 1 && sampled[n - 1] >= tb;
  const bool penult_ts = n < 2 || sampled[n - 2] >= tb;
  if (last_ts) {
    if (penult_ts) {
      for (int i = tb; i < n_vocab_; ++i) logits[i] = kNegInf;
    } else {
      for (int i = 0; i < tok_.eot(); ++i) logits[i] = kNegInf;
    }
  }
  int last_timestamp = -1;
  for (int t : sampled)
    if (t >= tb) last_timestamp = t;
  if (last_timestamp >= 0) {
    // Timestamps never decrease; a segment has a non-zero length unless it just closed.
    const int limit = (last_ts && !penult_ts) ? last_timestamp : last_timestamp + 1;
    for (int i = tb; i < limit && i < n_vocab_; ++i) logits[i] = kNegInf;
  }
  if (n == 0) {
    for (int i = 0; i < tb; ++i) logits[i] = kNegInf;
    if (o.max_initial_timestamp >= 0) {
      const int last_allowed =
          tb + static_cast<int>(std::lround(o.max_initial_timestamp / kTimePrecision));
      for (int i = last_allowed + 1; i < n_vocab_; ++i) logits[i] = kNegInf;
    }
  }
  // Sample a timestamp when their total probability beats every single text token (the
  // softmax normaliser is common to both sides, so logits compare directly).
  const float ts_total = LogSumExp(logits + tb, n_vocab_ - tb);
  const float max_text = kernels::Max(logits, tb);
  if (ts_total > max_text) {
    for (int i = 0; i < tb; ++i) logits[i] = kNegInf;
  }
}

DecodingResult WindowDecoder::Decode(const DecodingOptions& o) {
  int sot_index = 0;
  const std::vector<int> initial = InitialTokens(o, &sot_index);
  DecodingResult r;
  if (o.temperature == 0.0f && o.beam_size > 1) {
    r = Beam(o, initial, sot_index);
  } else {
    r = Greedy(o, initial, sot_index);
  }
  r.temperature = o.temperature;
  r.language_token = o.language_token;
  Finish(&r);
  return r;
}

void WindowDecoder::Finish(DecodingResult* r) const {
  r->text = tok_.Decode(r->tokens);
  r->avg_logprob = r->sum_logprob / static_cast<float>(r->tokens.size() + 1);
  r->compression_ratio = CompressionRatio(r->text);
}

DecodingResult WindowDecoder::Greedy(const DecodingOptions& o, const std::vector<int>& initial,
                                     int sot_index) {
  const int n = o.temperature > 0 ? std::clamp(o.best_of, 1, decoder_->max_sequences()) : 1;
  const int sample_len = o.sample_len > 0 ? o.sample_len : model_.hparams().n_text_ctx / 2;
  const int eot = tok_.eot();
  std::mt19937_64 rng(o.seed);

  decoder_->Reset();
  std::vector<float> logits(static_cast<size_t>(std::max(n, 2)) * n_vocab_);
  // First step: the whole initial sequence once, logits at <|startoftranscript|> and the end.
  const std::vector<int> rows = {sot_index, static_cast<int>(initial.size()) - 1};
  decoder_->Forward(initial.data(), 1, static_cast<int>(initial.size()), logits.data(), pool_,
                    &rows);
  std::vector<float> lp;
  LogSoftmax(logits.data(), n_vocab_, &lp);
  const float no_speech = std::exp(lp[tok_.no_speech()]);
  std::copy(logits.begin() + n_vocab_, logits.begin() + 2 * n_vocab_, logits.begin());
  if (n > 1) {
    decoder_->Reorder(std::vector<int>(n, 0));
    for (int s = 1; s < n; ++s)
      std::copy(logits.begin(), logits.begin() + n_vocab_, logits.begin() + s * n_vocab_);
  }

  std::vector<std::vector<int>> seqs(n);
  std::vector<float> sums(n, 0.0f);
  std::vector<int> next(n);
  const int ctx = model_.hparams().n_text_ctx;
  for (int step = 0; step < sample_len; ++step) {
    bool all_done = true;
    for (int s = 0; s < n; ++s) {
      float* lg = &logits[static_cast<size_t>(s) * n_vocab_];
      const bool done = !seqs[s].empty() && seqs[s].back() == eot;
      if (done) {
        next[s] = eot;
        continue;
      }
      ApplyFilters(o, seqs[s], lg);
      if (s == 0 && o.on_step) o.on_step(step, lg, n_vocab_);
      int token;
      if (o.temperature == 0.0f) {
        token = ArgMax(lg, n_vocab_);
      } else {
        std::vector<double> p(n_vocab_);
        const float mx = *std::max_element(lg, lg + n_vocab_);
        for (int i = 0; i < n_vocab_; ++i) p[i] = std::exp((lg[i] - mx) / o.temperature);
        std::discrete_distribution<int> dist(p.begin(), p.end());
        token = dist(rng);
      }
      sums[s] += lg[token] - LogSumExp(lg, n_vocab_);
      next[s] = token;
      seqs[s].push_back(token);
      if (token != eot && o.stop_repetition_loops && EndsInLoop(seqs[s])) {
        seqs[s].push_back(eot);  // ended by the repetition guard
        next[s] = eot;
      }
      if (next[s] != eot) all_done = false;
    }
    if (all_done) break;
    if (static_cast<int>(initial.size()) + step + 1 > ctx) break;
    if (step + 1 == sample_len) break;
    decoder_->Forward(next.data(), n, 1, logits.data(), pool_);
  }

  // Rank by sum of log-probabilities over length (tokens without the end-of-text).
  int best = 0;
  double best_score = -std::numeric_limits<double>::infinity();
  for (int s = 0; s < n; ++s) {
    auto& t = seqs[s];
    auto it = std::find(t.begin(), t.end(), eot);
    t.erase(it, t.end());
    const double score = sums[s] / std::max<size_t>(t.size(), 1);
    if (score > best_score) best_score = score, best = s;
  }
  DecodingResult r;
  r.tokens = std::move(seqs[best]);
  r.sum_logprob = sums[best];
  r.no_speech_prob = no_speech;
  return r;
}

DecodingResult WindowDecoder::Beam(const DecodingOptions& o, const std::vector<int>& initial,
                                   int sot_index) {
  const int beam = std::min(o.beam_size, decoder_->max_sequences());
  const int max_candidates = std::max(1, static_cast<int>(std::lround(beam * o.patience)));
  const int sample_len = o.sample_len > 0 ? o.sample_len : model_.hparams().n_text_ctx / 2;
  const int eot = tok_.eot();
  const int ctx = model_.hparams().n_text_ctx;

  decoder_->Reset();
  std::vector<float> logits(static_cast<size_t>(std::max(beam, 2)) * n_vocab_);
  const std::vector<int> rows = {sot_index, static_cast<int>(initial.size()) - 1};
  decoder_->Forward(initial.data(), 1, static_cast<int>(initial.size()), logits.data(), pool_,
                    &rows);
  std::vector<float> lp;
  LogSoftmax(logits.data(), n_vocab_, &lp);
  const float no_speech = std::exp(lp[tok_.no_speech()]);
  std::copy(logits.begin() + n_vocab_, logits.begin() + 2 * n_vocab_, logits.begin());
  decoder_->Reorder(std::vector<int>(beam, 0));
  for (int s = 1; s < beam; ++s)
    std::copy(logits.begin(), logits.begin() + n_vocab_, logits.begin() + s * n_vocab_);

  std::vector<std::vector<int>> seqs(beam);  // sampled tokens per beam
  std::vector<float> sums(beam, 0.0f);
  std::vector<std::pair<std::vector<int>, float>> finished;  // in insertion order
  std::vector<int> idx;

  for (int step = 0; step < sample_len; ++step) {
    // Candidates: each beam's top beam+1 tokens; identical sequences keep the last score.
    std::map<std::vector<int>, size_t> where;
    std::vector<std::vector<int>> cand;
    std::vector<float> score;
    std::vector<int> source;
    for (int s = 0; s < beam; ++s) {
      float* lg = &logits[static_cast<size_t>(s) * n_vocab_];
      ApplyFilters(o, seqs[s], lg);
      if (s == 0 && o.on_step) o.on_step(step, lg, n_vocab_);
      const float lse = LogSumExp(lg, n_vocab_);
      TopK(lg, n_vocab_, beam + 1, &idx);
      for (int j = 0; j <= beam; ++j) {
        std::vector<int> seq = seqs[s];
        seq.push_back(idx[j]);
        const float sc = sums[s] + (lg[idx[j]] - lse);
        auto it = where.find(seq);
        if (it == where.end()) {
          where.emplace(seq, cand.size());
          cand.push_back(std::move(seq));
          score.push_back(sc);
          source.push_back(s);
        } else {
          score[it->second] = sc;
          source[it->second] = s;
        }
      }
    }
    std::vector<size_t> order(cand.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return score[a] > score[b]; });
    std::vector<std::vector<int>> next_seqs;
    std::vector<float> next_sums;
    std::vector<int> sources;
    std::vector<std::pair<std::vector<int>, float>> newly;
    for (size_t c : order) {
      if (cand[c].back() == eot || (o.stop_repetition_loops && EndsInLoop(cand[c]))) {
        newly.push_back({cand[c], score[c]});
      } else {
        next_seqs.push_back(cand[c]);
        next_sums.push_back(score[c]);
        sources.push_back(source[c]);
        if (static_cast<int>(next_seqs.size()) == beam) break;
      }
    }
    for (auto& f : newly) {
      if (static_cast<int>(finished.size()) >= max_candidates) break;
      finished.push_back(std::move(f));
    }
    seqs = std::move(next_seqs);
    sums = std::move(next_sums);
    const bool completed = static_cast<int>(finished.size()) >= max_candidates;
    if (completed || static_cast<int>(seqs.size()) < beam) break;
    if (static_cast<int>(initial.size()) + step + 1 > ctx || step + 1 == sample_len) break;
    decoder_->Reorder(sources);
    std::vector<int> next(beam);
    for (int s = 0; s < beam; ++s) next[s] = seqs[s].back();
    decoder_->Forward(next.data(), beam, 1, logits.data(), pool_);
  }

  // Not enough finished candidates: take the best unfinished ones.
  if (static_cast<int>(finished.size()) < beam) {
    std::vector<size_t> order(seqs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return sums[a] > sums[b]; });
    for (size_t i : order) {
      finished.push_back({seqs[i], sums[i]});
      if (static_cast<int>(finished.size()) >= beam) break;
    }
  }
  size_t best = 0;
  double best_score = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < finished.size(); ++i) {
    auto& t = finished[i].first;
    if (!t.empty() && t.back() == eot) t.pop_back();
    const double sc = finished[i].second / std::max<size_t>(t.size(), 1);
    if (sc > best_score) best_score = sc, best = i;
  }
  DecodingResult r;
  if (!finished.empty()) {
    r.tokens = std::move(finished[best].first);
    r.sum_logprob = finished[best].second;
  }
  r.no_speech_prob = no_speech;
  return r;
}

int WindowDecoder::DetectLanguage(std::vector<std::pair<std::string, float>>* probabilities) {
  if (!tok_.multilingual()) return -1;
  decoder_->Reset();
  std::vector<float> logits(n_vocab_);
  const int sot = tok_.sot();
  decoder_->Forward(&sot, 1, 1, logits.data(), pool_);
  decoder_->Reset();
  const int first = sot + 1, count = tok_.num_languages();
  float mx = kNegInf;
  int best = first;
  for (int i = 0; i < count; ++i) {
    if (logits[first + i] > mx) mx = logits[first + i], best = first + i;
  }
  if (probabilities) {
    double sum = 0;
    for (int i = 0; i < count; ++i) sum += std::exp(static_cast<double>(logits[first + i] - mx));
    probabilities->clear();
    for (int i = 0; i < count; ++i) {
      probabilities->push_back(
          {tok_.LanguageCode(first + i),
           static_cast<float>(std::exp(static_cast<double>(logits[first + i] - mx)) / sum)});
    }
  }
  return best;
}

}  // namespace crm::asr::whisper
