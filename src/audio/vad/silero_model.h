// Reading Silero VAD v5 from its ONNX file: the weights of the 16 kHz network, checked against
// the graph this module implements.
//
// The file (opset 16) has no graph initializers: its one If node picks a subgraph per sample
// rate (sr == 16000 or not) and each subgraph holds its weights as tensors of Constant nodes.
// We take the 16 kHz subgraph (8 kHz audio is resampled to 16 kHz before it reaches the
// network) and refuse, with an error naming the difference, any file whose inputs, outputs,
// opset, operators, tensor names or shapes differ from the graph implemented in
// silero_network.cpp.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace crm::audio::vad {

// Shapes of the 16 kHz network.
inline constexpr int kSileroFrame = 512;   // new samples per step
inline constexpr int kSileroContext = 64;  // previous samples fed again as context
inline constexpr int kSileroPad = 64;      // reflection padding on the right
inline constexpr int kSileroWindow = 256;  // STFT window (conv kernel)
inline constexpr int kSileroHop = 128;     // STFT hop (conv stride)
inline constexpr int kSileroBins = 129;    // magnitude bins (258 basis rows / 2)
inline constexpr int kSileroHidden = 128;  // LSTM state size
inline constexpr int kSileroOpset = 16;

// Weights exactly as stored in the file (PyTorch layouts).
struct SileroWeights {
  std::vector<float> stft_basis;  // [258][1][256]: 129 real rows, then 129 imaginary rows
  // encoder.i.reparam_conv: weight [out][in][3], bias [out]; in/out: 129->128->64->64->128
  std::vector<float> conv_weight[4];
  std::vector<float> conv_bias[4];
  int conv_in[4] = {129, 128, 64, 64};
  int conv_out[4] = {128, 64, 64, 128};
  int conv_stride[4] = {1, 2, 2, 1};
  // decoder.rnn (an LSTM cell, gates in PyTorch order i, f, g, o): [512][128], [512]
  std::vector<float> lstm_w_ih, lstm_w_hh, lstm_b_ih, lstm_b_hh;
  // decoder.decoder.2: 1x1 convolution 128 -> 1
  std::vector<float> out_weight;  // [1][128][1]
  float out_bias = 0;
};

// Parses and checks a Silero VAD v5 ONNX model. Errors: kIo (cannot read), kCorrupt (not an
// ONNX protobuf, truncated), kInvalidArgument (an ONNX model, but not the graph implemented).
Result<SileroWeights> LoadSileroModel(const std::string& path);
Result<SileroWeights> ParseSileroModel(std::string_view bytes, const std::string& name);

}  // namespace crm::audio::vad
