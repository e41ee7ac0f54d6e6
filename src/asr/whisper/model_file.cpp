#include "asr/whisper/model_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace crm::asr::whisper {
namespace {

Error Corrupt(const std::string& path, const std::string& what) {
  return Error(ErrorCode::kCorrupt, path + ": " + what, nlohmann::json{{"path", path}});
}

// Sequential reader over the mapped bytes that reports truncation with what it was reading.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }
  bool Read(void* out, uint64_t n) {
    if (remaining() < n) return false;
    std::memcpy(out, data_ + pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(uint64_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }
  const uint8_t* here() const { return data_ + pos_; }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

std::string ShapeString(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

Status ParseHParams(const std::string& path, Cursor* c, HParams* hp) {
  uint32_t magic = 0;
  if (!c->Read(&magic, 4)) return Corrupt(path, "file is empty or shorter than a model header");
  if (magic != kGgmlMagic) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", magic);
    return Corrupt(path, std::string("not a whisper ggml model file (magic ") + buf +
                             ", expected 0x67676d6c)");
  }
  int32_t v[11];
  if (!c->Read(v, sizeof v)) return Corrupt(path, "truncated in the hyper-parameters");
  *hp = HParams{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]};
  auto bad = [&](const char* name, int32_t value) {
    return Corrupt(path, std::string("implausible hyper-parameter ") + name + " = " +
                             std::to_string(value));
  };
  if (hp->n_vocab < 51864 || hp->n_vocab > 52000) return bad("n_vocab", hp->n_vocab);
  if (hp->n_audio_ctx <= 0 || hp->n_audio_ctx > 4096) return bad("n_audio_ctx", hp->n_audio_ctx);
  if (hp->n_audio_state <= 0 || hp->n_audio_state > 8192)
    return bad("n_audio_state", hp->n_audio_state);
  if (hp->n_audio_head <= 0 || hp->n_audio_state % hp->n_audio_head != 0)
    return bad("n_audio_head", hp->n_audio_head);
  if (hp->n_audio_layer <= 0 || hp->n_audio_layer > 128)
    return bad("n_audio_layer", hp->n_audio_layer);
  if (hp->n_text_ctx <= 0 || hp->n_text_ctx > 4096) return bad("n_text_ctx", hp->n_text_ctx);
  if (hp->n_text_state <= 0 || hp->n_text_state > 8192)
    return bad("n_text_state", hp->n_text_state);
  if (hp->n_text_head <= 0 || hp->n_text_state % hp->n_text_head != 0)
    return bad("n_text_head", hp->n_text_head);
  if (hp->n_text_layer <= 0 || hp->n_text_layer > 128) return bad("n_text_layer", hp->n_text_layer);
  if (hp->n_mels != 80 && hp->n_mels != 128) return bad("n_mels", hp->n_mels);
  if (hp->ftype < 0) return bad("ftype", hp->ftype);
  return OkStatus();
}

}  // namespace

int64_t TensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t e : ne) n *= e;
  return n;
}

ModelFile::~ModelFile() {
  if (map_ != nullptr) munmap(const_cast<uint8_t*>(map_), size_);
  if (fd_ >= 0) close(fd_);
}

Result<std::unique_ptr<ModelFile>> ModelFile::Open(const std::string& path) {
  std::unique_ptr<ModelFile> f(new ModelFile());
  f->path_ = path;
  f->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f->fd_ < 0) {
    if (errno == ENOENT) return NotFound("speech model file not found: " + path);
    return IoError(path + ": cannot open speech model file: " + std::strerror(errno));
  }
  struct stat st;
  if (fstat(f->fd_, &st) != 0) return IoError(path + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Corrupt(path, "not a regular file");
  f->size_ = static_cast<uint64_t>(st.st_size);
  if (f->size_ == 0) return Corrupt(path, "file is empty");
  void* m = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, f->fd_, 0);
  if (m == MAP_FAILED) return IoError(path + ": cannot map: " + std::strerror(errno));
  f->map_ = static_cast<const uint8_t*>(m);
  CRM_TRY(f->Parse());
  return f;
}

Status ModelFile::Parse() {
  Cursor c(map_, size_);
  CRM_TRY(ParseHParams(path_, &c, &hparams_));

  int32_t mel[2];
  if (!c.Read(mel, sizeof mel)) return Corrupt(path_, "truncated before the mel filterbank");
  if (mel[0] != hparams_.n_mels || mel[1] <= 0 || mel[1] > 4096) {
    return Corrupt(path_, "mel filterbank of " + std::to_string(mel[0]) + " x " +
                              std::to_string(mel[1]) + " does not match n_mels " +
                              std::to_string(hparams_.n_mels));
  }
  mel_bins_ = mel[0];
  fft_bins_ = mel[1];
  mel_filters_.resize(static_cast<size_t>(mel_bins_) * fft_bins_);
  if (!c.Read(mel_filters_.data(), mel_filters_.size() * sizeof(float)))
    return Corrupt(path_, "truncated in the mel filterbank");

  int32_t n_words = 0;
  if (!c.Read(&n_words, 4)) return Corrupt(path_, "truncated before the vocabulary");
  if (n_words <= 0 || n_words > hparams_.n_vocab)
    return Corrupt(path_, "vocabulary of " + std::to_string(n_words) + " entries for n_vocab " +
                              std::to_string(hparams_.n_vocab));
  vocab_.reserve(n_words);
  for (int32_t i = 0; i < n_words; ++i) {
    uint32_t len = 0;
    if (!c.Read(&len, 4) || c.remaining() < len)
      return Corrupt(path_, "truncated in the vocabulary at entry " + std::to_string(i) + " of " +
                                std::to_string(n_words));
    vocab_.emplace_back(reinterpret_cast<const char*>(c.here()), len);
    c.Skip(len);
  }

  while (c.remaining() > 0) {
    int32_t head[3];
    const uint64_t start = c.pos();
    if (!c.Read(head, sizeof head))
      return Corrupt(path_, "truncated in a tensor header at offset " + std::to_string(start));
    const int32_t n_dims = head[0], name_len = head[1], type = head[2];
    if (n_dims < 1 || n_dims > 4 || name_len <= 0 || name_len > 256)
      return Corrupt(path_, "malformed tensor header at offset " + std::to_string(start));
    std::vector<int64_t> ne(n_dims);
    for (int d = 0; d < n_dims; ++d) {
      int32_t e = 0;
      if (!c.Read(&e, 4))
        return Corrupt(path_, "truncated in a tensor header at offset " + std::to_string(start));
      if (e <= 0) return Corrupt(path_, "tensor with extent " + std::to_string(e));
      ne[d] = e;
    }
    if (c.remaining() < static_cast<uint64_t>(name_len))
      return Corrupt(path_, "truncated in a tensor name at offset " + std::to_string(start));
    std::string name(reinterpret_cast<const char*>(c.here()), name_len);
    c.Skip(name_len);
    const auto dtype = static_cast<kernels::DType>(type);
    if (!kernels::IsSupported(dtype)) {
      return Corrupt(path_, "tensor '" + name + "' has unsupported type " + std::to_string(type) +
                                " (supported: f32, f16, q8_0, q5_0, q5_1, q4_0, q4_1)");
    }
    if (ne[0] % kernels::BlockElements(dtype) != 0) {
      return Corrupt(path_, "tensor '" + name + "' of type " + kernels::DTypeName(dtype) +
                                " has rows of " + std::to_string(ne[0]) +
                                " elements, not a multiple of its block size");
    }
    int64_t rows = 1;
    for (int d = 1; d < n_dims; ++d) rows *= ne[d];
    const int64_t bytes = kernels::RowBytes(dtype, ne[0]) * rows;
    if (c.remaining() < static_cast<uint64_t>(bytes)) {
      return Corrupt(path_, "truncated: tensor '" + name + "' " + ShapeString(ne) + " needs " +
                                std::to_string(bytes) + " bytes at offset " +
                                std::to_string(c.pos()) + " but the file ends at " +
                                std::to_string(size_));
    }
    if (index_.count(name)) return Corrupt(path_, "tensor '" + name + "' appears twice");
    TensorInfo t{name, dtype, std::move(ne), c.here(), bytes, static_cast<int64_t>(c.pos())};
    c.Skip(bytes);
    index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }
  return OkStatus();
}

const TensorInfo* ModelFile::Find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::string FtypeName(int32_t ftype) {
  switch (ftype % 1000) {
    case 0: return "f32";
    case 1: return "f16";
    case 2: return "q4_0";
    case 3: return "q4_1";
    case 7: return "q8_0";
    case 8: return "q5_0";
    case 9: return "q5_1";
    default: return "ftype" + std::to_string(ftype);
  }
}

std::string SizeNameOf(const HParams& hp) {
  std::string name;
  switch (hp.n_audio_state) {
    case 384: name = "tiny"; break;
    case 512: name = "base"; break;
    case 768: name = "small"; break;
    case 1024: name = "medium"; break;
    case 1280:
      if (hp.n_mels == 128) {
        name = hp.n_text_layer == 4 ? "large-v3-turbo" : "large-v3";
      } else {
        name = "large";
      }
      break;
    default: name = "custom-" + std::to_string(hp.n_audio_state);
  }
  if (hp.n_vocab < 51865) name += ".en";
  return name;
}

std::string ModelFile::TypeName() const { return FtypeName(hparams_.ftype); }
std::string ModelFile::SizeName() const { return SizeNameOf(hparams_); }

Result<HParams> ReadHParams(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("speech model file not found: " + path);
  uint8_t buf[48];
  in.read(reinterpret_cast<char*>(buf), sizeof buf);
  Cursor c(buf, static_cast<uint64_t>(in.gcount()));
  HParams hp;
  CRM_TRY(ParseHParams(path, &c, &hp));
  return hp;
}

}  // namespace crm::asr::whisper
