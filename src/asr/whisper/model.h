// A loaded Whisper model: the memory-mapped file, its weights checked against the architecture,
// the tokenizer and the mel filterbank. Immutable once loaded, so any number of jobs share one
// instance (std::shared_ptr<const WhisperModel>) concurrently; per-job state lives in
// EncoderRun / DecoderState (encoder.h, decoder.h).
//
// Large matrices stay in the mapped file in their stored type (f32, f16, q8_0, q5_0, q5_1,
// q4_0, q4_1) and are multiplied in place by the kernels; the small vectors (biases, layer norms)
// and the positional embeddings are converted to f32 copies at load.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "asr/whisper/mel.h"
#include "asr/whisper/model_file.h"
#include "asr/whisper/tokenizer.h"
#include "common/result.h"
#include "kernels/kernels.h"

namespace crm::asr::whisper {

struct LayerNormWeights {
  std::vector<float> gamma, beta;
};

struct AttentionWeights {
  kernels::WeightView query, key, value, out;
  std::vector<float> query_bias, value_bias, out_bias;  // key has no bias in Whisper
};

struct MlpWeights {
  kernels::WeightView fc1, fc2;  // mlp.0 [4n x n], mlp.2 [n x 4n]
  std::vector<float> fc1_bias, fc2_bias;
};

struct EncoderLayerWeights {
  LayerNormWeights attn_ln, mlp_ln;
  AttentionWeights attn;
  MlpWeights mlp;
};

struct DecoderLayerWeights {
  LayerNormWeights attn_ln, cross_attn_ln, mlp_ln;
  AttentionWeights attn, cross_attn;
  MlpWeights mlp;
};

struct EncoderWeights {
  kernels::WeightView conv1, conv2;  // [n_state x n_in*3], kernel index innermost
  std::vector<float> conv1_bias, conv2_bias;
  std::vector<float> positional;  // [n_audio_ctx][n_state]
  std::vector<EncoderLayerWeights> layers;
  LayerNormWeights ln_post;
};

struct DecoderWeights {
  kernels::WeightView token_embedding;  // [n_vocab x n_state], also the output projection
  std::vector<float> positional;        // [n_text_ctx][n_state]
  std::vector<DecoderLayerWeights> layers;
  LayerNormWeights ln;
};

class WhisperModel {
 public:
  // Opens, maps and checks `path`. Errors name the file and the problem: missing file
  // ("speech model file not found: PATH"), bad magic, truncation, a missing, unknown or
  // wrongly shaped tensor, an unsupported type.
  static Result<std::shared_ptr<const WhisperModel>> Load(const std::string& path);

  const HParams& hparams() const { return file_->hparams(); }
  const ModelFile& file() const { return *file_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const MelSpectrogram& mel() const { return mel_; }
  const EncoderWeights& encoder() const { return encoder_; }
  const DecoderWeights& decoder() const { return decoder_; }
  bool multilingual() const { return tokenizer_.multilingual(); }

 private:
  WhisperModel(std::unique_ptr<ModelFile> file, Tokenizer tokenizer, MelSpectrogram mel)
      : file_(std::move(file)), tokenizer_(std::move(tokenizer)), mel_(std::move(mel)) {}
  Status Bind();

  std::unique_ptr<ModelFile> file_;
  Tokenizer tokenizer_;
  MelSpectrogram mel_;
  EncoderWeights encoder_;
  DecoderWeights decoder_;
};

// The tensor names and extents (ggml order) a model with these hyper-parameters must hold.
std::vector<std::pair<std::string, std::vector<int64_t>>> ExpectedTensors(const HParams& hp);

// Loaded models by path, so two jobs using the same file share one mapping. Holds weak
// references: a model is unloaded when the last job using it ends. Thread-safe. Owned by
// whoever runs transcription jobs (not a global).
class ModelCache {
 public:
  Result<std::shared_ptr<const WhisperModel>> Get(const std::string& path);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<const WhisperModel>> models_;
};

}  // namespace crm::asr::whisper
