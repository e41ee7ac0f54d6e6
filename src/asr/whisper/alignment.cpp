#include "asr/whisper/alignment.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace crm::asr::whisper {
namespace {

constexpr int kMedianWidth = 7;
constexpr double kFramesPerSecond = 50.0;  // encoder positions per second

bool IsPunctuation(const std::string& s) {
  if (s.empty()) return false;
  static const std::string kAscii = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  return s.size() == 1 && kAscii.find(s[0]) != std::string::npos;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  size_t e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Groups tokens so each group decodes to complete UTF-8 characters.
std::vector<std::pair<std::string, std::vector<int>>> SplitOnUnicode(
    const Tokenizer& tok, const std::vector<int>& tokens) {
  std::vector<std::pair<std::string, std::vector<int>>> out;
  std::vector<int> current;
  std::string raw;
  for (int t : tokens) {
    current.push_back(t);
    if (tok.IsText(t)) raw += tok.TokenText(t);
    if (!EndsInsideUtf8Char(raw) || !tok.IsText(t)) {
      out.push_back({tok.IsText(t) ? SanitizeUtf8(raw) : tok.TokenText(t), current});
      current.clear();
      raw.clear();
    }
  }
  if (!current.empty()) out.push_back({SanitizeUtf8(raw), current});
  return out;
}

// Median filter of width kMedianWidth along each row, reflecting at the edges.
void MedianFilterRows(float* m, int rows, int cols) {
  if (cols <= kMedianWidth / 2) return;
  std::vector<float> row(cols), win(kMedianWidth);
  const int pad = kMedianWidth / 2;
  for (int r = 0; r < rows; ++r) {
    std::copy(m + static_cast<size_t>(r) * cols, m + static_cast<size_t>(r + 1) * cols,
              row.begin());
    for (int c = 0; c < cols; ++c) {
      for (int j = -pad; j <= pad; ++j) {
        int idx = c + j;
        if (idx < 0) idx = -idx;
        if (idx >= cols) idx = 2 * (cols - 1) - idx;
        win[j + pad] = row[idx];
      }
      std::nth_element(win.begin(), win.begin() + pad, win.end());
      m[static_cast<size_t>(r) * cols + c] = win[pad];
    }
  }
}

}  // namespace

std::vector<std::pair<std::string, std::vector<int>>> SplitWords(const Tokenizer& tok,
                                                                 const std::vector<int>& tokens,
                                                                 const std::string& language) {
  auto pieces = SplitOnUnicode(tok, tokens);
  static const std::vector<std::string> kNoSpaces = {"zh", "ja", "th", "lo", "my", "yue"};
  if (std::find(kNoSpaces.begin(), kNoSpaces.end(), language) != kNoSpaces.end()) return pieces;
  std::vector<std::pair<std::string, std::vector<int>>> words;
  for (auto& [text, ids] : pieces) {
    const bool special = ids.front() >= tok.eot();
    const bool with_space = !text.empty() && text[0] == ' ';
    if (special || with_space || IsPunctuation(Trim(text)) || words.empty()) {
      words.push_back({text, ids});
    } else {
      words.back().first += text;
      words.back().second.insert(words.back().second.end(), ids.begin(), ids.end());
    }
  }
  return words;
}

std::vector<std::pair<int, int>> DynamicTimeWarp(const std::vector<float>& x, int n, int m) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> cost(static_cast<size_t>(n + 1) * (m + 1), inf);
  std::vector<int8_t> trace(cost.size(), -1);
  auto at = [m](int i, int j) { return static_cast<size_t>(i) * (m + 1) + j; };
  cost[at(0, 0)] = 0;
  for (int j = 1; j <= m; ++j) {
    for (int i = 1; i <= n; ++i) {
      const float c0 = cost[at(i - 1, j - 1)], c1 = cost[at(i - 1, j)], c2 = cost[at(i, j - 1)];
      float c;
      int8_t t;
      if (c0 < c1 && c0 < c2) {
        c = c0, t = 0;
      } else if (c1 < c0 && c1 < c2) {
        c = c1, t = 1;
      } else {
        c = c2, t = 2;
      }
      cost[at(i, j)] = x[static_cast<size_t>(i - 1) * m + (j - 1)] + c;
      trace[at(i, j)] = t;
    }
  }
  for (int j = 0; j <= m; ++j) trace[at(0, j)] = 2;
  for (int i = 0; i <= n; ++i) trace[at(i, 0)] = 1;
  std::vector<std::pair<int, int>> path;
  int i = n, j = m;
  while (i > 0 || j > 0) {
    path.push_back({i - 1, j - 1});
    const int t = trace[at(i, j)];
    if (t == 0) {
      --i, --j;
    } else if (t == 1) {
      --i;
    } else {
      --j;
    }
  }
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<AlignedWord> AlignWords(const WhisperModel& model, TextDecoder* decoder,
                                    kernels::ThreadPool* pool,
                                    const std::vector<int>& sot_sequence,
                                    const std::vector<int>& text_tokens, int num_frames,
                                    const std::string& language) {
  const Tokenizer& tok = model.tokenizer();
  if (text_tokens.empty()) return {};
  std::vector<int> tokens = sot_sequence;
  tokens.push_back(tok.no_timestamps());
  tokens.insert(tokens.end(), text_tokens.begin(), text_tokens.end());
  tokens.push_back(tok.eot());
  const int n_tokens = static_cast<int>(tokens.size());
  if (n_tokens > model.hparams().n_text_ctx) return {};

  const int n_vocab = model.hparams().n_vocab;
  const int first = static_cast<int>(sot_sequence.size());
  std::vector<int> rows;
  for (size_t i = 0; i < text_tokens.size(); ++i) rows.push_back(first + static_cast<int>(i));
  std::vector<float> logits(rows.size() * n_vocab);
  std::vector<float> cross;
  decoder->Reset();
  decoder->Forward(tokens.data(), 1, n_tokens, logits.data(), pool, &rows, &cross);
  decoder->Reset();

  // Probability of each text token among the text tokens.
  std::vector<float> token_probs(text_tokens.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* lg = &logits[i * n_vocab];
    const float mx = *std::max_element(lg, lg + tok.eot());
    double sum = 0;
    for (int v = 0; v < tok.eot(); ++v) sum += std::exp(static_cast<double>(lg[v] - mx));
    token_probs[i] = static_cast<float>(std::exp(lg[text_tokens[i]] - mx) / sum);
  }

  const HParams& hp = model.hparams();
  const int heads = hp.n_text_head, layers = hp.n_text_layer, audio = hp.n_audio_ctx;
  const int frames = std::clamp(num_frames / 2, 1, audio);
  const int first_layer = layers / 2;
  const int n_heads = (layers - first_layer) * heads;
  std::vector<float> matrix(static_cast<size_t>(n_tokens) * frames, 0.0f);
  std::vector<float> w(static_cast<size_t>(n_tokens) * frames);
  for (int l = first_layer; l < layers; ++l) {
    for (int h = 0; h < heads; ++h) {
      const float* src = &cross[((static_cast<size_t>(l) * heads + h) * n_tokens) * audio];
      for (int t = 0; t < n_tokens; ++t) {
        double s = 0;
        for (int f = 0; f < frames; ++f) s += src[static_cast<size_t>(t) * audio + f];
        for (int f = 0; f < frames; ++f)
          w[static_cast<size_t>(t) * frames + f] =
              static_cast<float>(src[static_cast<size_t>(t) * audio + f] / std::max(s, 1e-30));
      }
      for (int f = 0; f < frames; ++f) {  // standardise each frame over the tokens
        double mean = 0, var = 0;
        for (int t = 0; t < n_tokens; ++t) mean += w[static_cast<size_t>(t) * frames + f];
        mean /= n_tokens;
        for (int t = 0; t < n_tokens; ++t) {
          const double d = w[static_cast<size_t>(t) * frames + f] - mean;
          var += d * d;
        }
        const double sd = std::sqrt(var / n_tokens);
        for (int t = 0; t < n_tokens; ++t) {
          float& v = w[static_cast<size_t>(t) * frames + f];
          v = sd > 0 ? static_cast<float>((v - mean) / sd) : 0.0f;
        }
      }
      MedianFilterRows(w.data(), n_tokens, frames);
      for (size_t i = 0; i < w.size(); ++i) matrix[i] += w[i] / n_heads;
    }
  }

  // Rows of <|notimestamps|> and the text tokens; cost = -matrix.
  const int n_rows = static_cast<int>(text_tokens.size()) + 1;
  std::vector<float> cost(static_cast<size_t>(n_rows) * frames);
  for (int r = 0; r < n_rows; ++r)
    for (int f = 0; f < frames; ++f)
      cost[static_cast<size_t>(r) * frames + f] =
          -matrix[static_cast<size_t>(first + r) * frames + f];
  const auto path = DynamicTimeWarp(cost, n_rows, frames);
  std::vector<double> jump_times;  // time where the path enters each row
  int prev = -1;
  for (const auto& [r, f] : path) {
    if (r != prev) jump_times.push_back(f / kFramesPerSecond);
    prev = r;
  }

  std::vector<int> with_eot = text_tokens;
  with_eot.push_back(tok.eot());
  auto words = SplitWords(tok, with_eot, language);
  std::vector<AlignedWord> out;
  size_t boundary = 0;
  for (size_t i = 0; i + 1 < words.size(); ++i) {  // the last "word" is <|endoftext|>
    const size_t next = boundary + words[i].second.size();
    AlignedWord a;
    a.text = words[i].first;
    a.tokens = words[i].second;
    a.start = boundary < jump_times.size() ? jump_times[boundary] : 0;
    a.end = next < jump_times.size() ? jump_times[next] : a.start;
    double p = 0;
    for (size_t k = boundary; k < next; ++k) p += token_probs[k];
    a.probability = static_cast<float>(p / std::max<size_t>(next - boundary, 1));
    out.push_back(std::move(a));
    boundary = next;
  }
  // Punctuation joins its neighbour: opening marks the next word, closing marks the previous.
  std::vector<AlignedWord> merged;
  for (auto& word : out) {
    const std::string t = Trim(word.text);
    if (!merged.empty() && IsPunctuation(t) && std::string(".,!?:;)]}\"'").find(t) !=
                                                   std::string::npos) {
      merged.back().text += word.text;
      merged.back().tokens.insert(merged.back().tokens.end(), word.tokens.begin(),
                                  word.tokens.end());
      merged.back().end = std::max(merged.back().end, word.end);
    } else {
      merged.push_back(std::move(word));
    }
  }
  return merged;
}

}  // namespace crm::asr::whisper
