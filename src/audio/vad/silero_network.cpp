#include "audio/vad/silero_network.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "audio/vad/gemm.h"

namespace crm::audio::vad {
namespace {

constexpr int kInput = kSileroContext + kSileroFrame;                    // 576
constexpr int kPadded = kInput + kSileroPad;                             // 640
constexpr int kStftFrames = (kPadded - kSileroWindow) / kSileroHop + 1;  // 4
constexpr int kGates = 4 * kSileroHidden;                                // 512

// Output widths padded to whole 16-float registers.
int RoundUp16(int n) { return (n + 15) / 16 * 16; }

// Output length of a 3-tap convolution with padding 1.
int ConvLength(int t_in, int stride) { return (t_in + 2 - 3) / stride + 1; }

float Sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }

}  // namespace

SileroNetwork::SileroNetwork(const SileroWeights& w) {
  stft_.k = kSileroWindow;
  stft_.n = 2 * kSileroBins;
  stft_.n_padded = RoundUp16(stft_.n);
  stft_.wt.assign(static_cast<size_t>(stft_.k) * stft_.n_padded, 0.f);
  stft_.bias.assign(stft_.n_padded, 0.f);
  for (int c = 0; c < stft_.n; ++c)
    for (int k = 0; k < stft_.k; ++k)
      stft_.wt[static_cast<size_t>(k) * stft_.n_padded + c] = w.stft_basis[c * kSileroWindow + k];

  for (int i = 0; i < 4; ++i) {
    Layer& l = conv_[i];
    const int cin = w.conv_in[i], cout = w.conv_out[i];
    stride_[i] = w.conv_stride[i];
    l.k = 3 * cin;
    l.n = cout;
    l.n_padded = RoundUp16(cout);
    l.wt.assign(static_cast<size_t>(l.k) * l.n_padded, 0.f);
    l.bias.assign(l.n_padded, 0.f);
    // Column index j * cin + ci matches three consecutive time rows of `cin` channels.
    for (int co = 0; co < cout; ++co) {
      l.bias[co] = w.conv_bias[i][co];
      for (int ci = 0; ci < cin; ++ci)
        for (int j = 0; j < 3; ++j)
          l.wt[static_cast<size_t>(j * cin + ci) * l.n_padded + co] =
              w.conv_weight[i][(co * cin + ci) * 3 + j];
    }
  }

  lstm_in_.k = kSileroHidden;
  lstm_in_.n = lstm_in_.n_padded = kGates;
  lstm_in_.wt.resize(static_cast<size_t>(kSileroHidden) * kGates);
  lstm_in_.bias.resize(kGates);
  lstm_hh_t_.resize(static_cast<size_t>(kSileroHidden) * kGates);
  for (int g = 0; g < kGates; ++g) {
    lstm_in_.bias[g] = w.lstm_b_ih[g] + w.lstm_b_hh[g];
    for (int k = 0; k < kSileroHidden; ++k) {
      lstm_in_.wt[static_cast<size_t>(k) * kGates + g] = w.lstm_w_ih[g * kSileroHidden + k];
      lstm_hh_t_[static_cast<size_t>(k) * kGates + g] = w.lstm_w_hh[g * kSileroHidden + k];
    }
  }
  out_w_ = w.out_weight;
  out_b_ = w.out_bias;
}

SileroStream::SileroStream(std::shared_ptr<const SileroNetwork> net) : net_(std::move(net)) {
  const int b = kBlockFrames;
  frames_.resize(static_cast<size_t>(b) * kSileroFrame);
  windows_.resize(static_cast<size_t>(b) * kStftFrames * kSileroWindow);
  spec_.resize(static_cast<size_t>(b) * kStftFrames * net_->stft().n_padded);
  size_t act = 0, col = 0;
  int t = kStftFrames;
  for (int i = 0; i < 4; ++i) {
    const auto& l = net_->conv(i);
    act = std::max(act, static_cast<size_t>(b) * (t + 2) * (l.k / 3));
    t = ConvLength(t, net_->conv_stride(i));
    col = std::max(col, static_cast<size_t>(b) * t * std::max(l.k, l.n_padded));
  }
  act_a_.resize(act);
  act_b_.resize(std::max(act, col));
  col_.resize(col);
  gates_x_.resize(static_cast<size_t>(b) * kGates);
  gates_.resize(kGates);
  Reset();
}

void SileroStream::Reset() {
  context_.assign(kSileroContext, 0.f);
  pending_.clear();
  h_.assign(kSileroHidden, 0.f);
  c_.assign(kSileroHidden, 0.f);
  block_fill_ = 0;
}

void SileroStream::Feed(const float* pcm, size_t n, std::vector<float>* out) {
  size_t pos = 0;
  auto take_frame = [&](const float* src) {
    std::memcpy(&frames_[static_cast<size_t>(block_fill_) * kSileroFrame], src,
                kSileroFrame * sizeof(float));
    if (++block_fill_ == kBlockFrames) RunBlock(block_fill_, out);
  };
  if (!pending_.empty()) {
    const size_t need = std::min<size_t>(kSileroFrame - pending_.size(), n);
    pending_.insert(pending_.end(), pcm, pcm + need);
    pos = need;
    if (pending_.size() < static_cast<size_t>(kSileroFrame)) return;
    take_frame(pending_.data());
    pending_.clear();
  }
  for (; pos + kSileroFrame <= n; pos += kSileroFrame) take_frame(pcm + pos);
  if (block_fill_ > 0) RunBlock(block_fill_, out);
  pending_.assign(pcm + pos, pcm + n);
}

void SileroStream::Finish(std::vector<float>* out) {
  if (pending_.empty()) return;
  std::vector<float> last(kSileroFrame, 0.f);
  std::copy(pending_.begin(), pending_.end(), last.begin());
  pending_.clear();
  Feed(last.data(), last.size(), out);
}

void SileroStream::RunBlock(int frames, std::vector<float>* out) {
  const SileroNetwork& net = *net_;
  // 1. The padded input of each step, cut into the 4 STFT windows.
  float ext[kPadded];
  for (int f = 0; f < frames; ++f) {
    const float* cur = &frames_[static_cast<size_t>(f) * kSileroFrame];
    std::memcpy(ext, context_.data(), kSileroContext * sizeof(float));
    std::memcpy(ext + kSileroContext, cur, kSileroFrame * sizeof(float));
    for (int j = 0; j < kSileroPad; ++j) ext[kInput + j] = ext[kInput - 2 - j];  // reflect
    for (int t = 0; t < kStftFrames; ++t)
      std::memcpy(&windows_[(static_cast<size_t>(f) * kStftFrames + t) * kSileroWindow],
                  ext + t * kSileroHop, kSileroWindow * sizeof(float));
    std::memcpy(context_.data(), cur + kSileroFrame - kSileroContext,
                kSileroContext * sizeof(float));
  }
  // 2. STFT as a fixed convolution, then magnitudes into time-major rows padded by one zero
  //    row on each side (the encoder's padding).
  const auto& stft = net.stft();
  GemmBias(windows_.data(), int64_t{frames} * kStftFrames, kSileroWindow, stft.wt.data(), stft.k,
           stft.n_padded, stft.bias.data(), stft.n_padded, spec_.data(), stft.n_padded);
  int t_in = kStftFrames;
  int c_in = kSileroBins;
  float* act = act_a_.data();
  std::fill(act, act + static_cast<size_t>(frames) * (t_in + 2) * c_in, 0.f);
  for (int f = 0; f < frames; ++f)
    for (int t = 0; t < t_in; ++t) {
      const float* s = &spec_[(static_cast<size_t>(f) * kStftFrames + t) * stft.n_padded];
      float* row = act + (static_cast<size_t>(f) * (t_in + 2) + 1 + t) * c_in;
      for (int b = 0; b < kSileroBins; ++b)
        row[b] = std::sqrt(s[b] * s[b] + s[b + kSileroBins] * s[b + kSileroBins]);
    }
  // 3. Encoder: each output step reads three consecutive (contiguous) input rows.
  float* y = act_b_.data();
  for (int i = 0; i < 4; ++i) {
    const auto& l = net.conv(i);
    const int stride = net.conv_stride(i);
    const int t_out = ConvLength(t_in, stride);
    const int64_t rows = int64_t{frames} * t_out;
    for (int f = 0; f < frames; ++f)
      for (int t = 0; t < t_out; ++t)
        std::memcpy(&col_[(static_cast<size_t>(f) * t_out + t) * l.k],
                    act + (static_cast<size_t>(f) * (t_in + 2) + t * stride) * c_in,
                    l.k * sizeof(float));
    GemmBias(col_.data(), rows, l.k, l.wt.data(), l.k, l.n_padded, l.bias.data(), l.n_padded, y,
             l.n_padded);
    // ReLU, into the next padded layout.
    const int c_out = l.n;
    std::fill(act, act + static_cast<size_t>(frames) * (t_out + 2) * c_out, 0.f);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t f = r / t_out, t = r % t_out;
      float* dst = act + (f * (t_out + 2) + 1 + t) * c_out;
      const float* src = y + r * l.n_padded;
      for (int c = 0; c < c_out; ++c) dst[c] = std::max(src[c], 0.f);
    }
    t_in = t_out;
    c_in = c_out;
  }
  // 4. LSTM input projection for the whole block (t_in == 1: row 1 of each frame).
  const auto& lin = net.lstm_input();
  GemmBias(act + c_in, frames, int64_t{3} * c_in, lin.wt.data(), lin.k, lin.n_padded,
           lin.bias.data(), lin.n_padded, gates_x_.data(), kGates);
  // 5. The recurrent part, step by step.
  const float* whh = net.lstm_recurrent().data();
  const float* wo = net.out_weight().data();
  constexpr int H = kSileroHidden;
  for (int f = 0; f < frames; ++f) {
    std::memcpy(gates_.data(), &gates_x_[static_cast<size_t>(f) * kGates], kGates * sizeof(float));
    GemvAccumulate(h_.data(), H, whh, kGates, kGates, gates_.data());
    float logit = net.out_bias();
    for (int k = 0; k < H; ++k) {
      const float ig = Sigmoid(gates_[k]);
      const float fg = Sigmoid(gates_[H + k]);
      const float gg = std::tanh(gates_[2 * H + k]);
      const float og = Sigmoid(gates_[3 * H + k]);
      c_[k] = fg * c_[k] + ig * gg;
      h_[k] = og * std::tanh(c_[k]);
      logit += std::max(h_[k], 0.f) * wo[k];
    }
    out->push_back(Sigmoid(logit));
  }
  block_fill_ = 0;
}

}  // namespace crm::audio::vad
