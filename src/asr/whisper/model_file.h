// A whisper "ggml" model file (the format of whisper.cpp), memory-mapped and indexed.
//
// Layout: magic 0x67676d6c, eleven int32 hyper-parameters, the mel filterbank (int32 n_mel,
// int32 n_fft, n_mel*n_fft float32), the vocabulary (int32 count, then per entry a uint32
// length and its bytes), then named tensors until the end of the file (int32 n_dims,
// int32 name_length, int32 type, n_dims int32 extents, the name, the data). ModelFile reads the
// header and finds every tensor without copying its data; it does not know which tensors a
// Whisper model needs (WhisperModel checks that). Every error names the file and the problem.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "kernels/kernels.h"

namespace crm::asr::whisper {

inline constexpr uint32_t kGgmlMagic = 0x67676d6c;  // "ggml" read as a little-endian uint32

struct HParams {
  int32_t n_vocab = 0;
  int32_t n_audio_ctx = 0;
  int32_t n_audio_state = 0;
  int32_t n_audio_head = 0;
  int32_t n_audio_layer = 0;
  int32_t n_text_ctx = 0;
  int32_t n_text_state = 0;
  int32_t n_text_head = 0;
  int32_t n_text_layer = 0;
  int32_t n_mels = 0;
  int32_t ftype = 0;  // 0 f32, 1 f16, 2 q4_0, 3 q4_1, 7 q8_0, 8 q5_0, 9 q5_1 (+1000*version)
};

struct TensorInfo {
  std::string name;
  kernels::DType type = kernels::DType::kF32;
  std::vector<int64_t> ne;  // extents, innermost first (ggml order): ne[0] is the row length
  const uint8_t* data = nullptr;
  int64_t bytes = 0;
  int64_t offset = 0;  // of the data in the file

  int64_t elements() const;
};

class ModelFile {
 public:
  ~ModelFile();
  ModelFile(const ModelFile&) = delete;
  ModelFile& operator=(const ModelFile&) = delete;

  // Maps and indexes `path`. Fails with kNotFound ("speech model file not found: PATH") when
  // the file does not exist and kCorrupt for anything wrong inside it.
  static Result<std::unique_ptr<ModelFile>> Open(const std::string& path);

  const std::string& path() const { return path_; }
  uint64_t size_bytes() const { return size_; }
  const HParams& hparams() const { return hparams_; }
  int mel_bins() const { return mel_bins_; }
  int fft_bins() const { return fft_bins_; }
  const std::vector<float>& mel_filters() const { return mel_filters_; }  // [mel_bins][fft_bins]
  // Vocabulary entries as stored (raw bytes), index = token id.
  const std::vector<std::string>& vocab() const { return vocab_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* Find(std::string_view name) const;

  // Name of the weight type from ftype: "f32", "f16", "q8_0", ...
  std::string TypeName() const;
  // "tiny", "base", "small", "medium", "large-v1/v2", "large-v3", "large-v3-turbo" (+ ".en").
  std::string SizeName() const;
  bool multilingual() const { return hparams_.n_vocab >= 51865; }

 private:
  ModelFile() = default;
  Status Parse();

  std::string path_;
  int fd_ = -1;
  const uint8_t* map_ = nullptr;
  uint64_t size_ = 0;
  HParams hparams_;
  int mel_bins_ = 0;
  int fft_bins_ = 0;
  std::vector<float> mel_filters_;
  std::vector<std::string> vocab_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> index_;
};

// Reads only the header of `path` (hyper-parameters), without indexing tensors. For listings.
Result<HParams> ReadHParams(const std::string& path);
// Describes a model from its hyper-parameters: size name and whether it is multilingual.
std::string SizeNameOf(const HParams& hp);
std::string FtypeName(int32_t ftype);

}  // namespace crm::asr::whisper
