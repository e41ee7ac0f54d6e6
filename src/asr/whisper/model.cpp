#include "asr/whisper/model.h"

#include <set>
#include <unordered_map>

namespace crm::asr::whisper {
namespace {

using Shape = std::vector<int64_t>;

std::string ShapeString(const Shape& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

void AddAttention(std::vector<std::pair<std::string, Shape>>* out, const std::string& p,
                  int64_t n) {
  out->push_back({p + ".query.weight", {n, n}});
  out->push_back({p + ".query.bias", {n}});
  out->push_back({p + ".key.weight", {n, n}});
  out->push_back({p + ".value.weight", {n, n}});
  out->push_back({p + ".value.bias", {n}});
  out->push_back({p + ".out.weight", {n, n}});
  out->push_back({p + ".out.bias", {n}});
}

void AddLayerNorm(std::vector<std::pair<std::string, Shape>>* out, const std::string& p,
                  int64_t n) {
  out->push_back({p + ".weight", {n}});
  out->push_back({p + ".bias", {n}});
}

void AddMlp(std::vector<std::pair<std::string, Shape>>* out, const std::string& p, int64_t n) {
  out->push_back({p + ".0.weight", {n, 4 * n}});
  out->push_back({p + ".0.bias", {4 * n}});
  out->push_back({p + ".2.weight", {4 * n, n}});
  out->push_back({p + ".2.bias", {n}});
}

// Binds tensors by name, converting vectors to f32 and checking matrices' types.
class Binder {
 public:
  explicit Binder(const ModelFile& f) : f_(f) {
    for (auto& [name, shape] : ExpectedTensors(f.hparams())) expected_[name] = shape;
  }

  // A matrix of `rows` outputs (the last extent) by `cols` inputs (the others).
  Result<kernels::WeightView> Matrix(const std::string& name, int64_t rows, int64_t cols) {
    CRM_ASSIGN_OR_RETURN(const TensorInfo* t, Checked(name));
    return kernels::WeightView{t->data, t->type, rows, cols};
  }

  Result<std::vector<float>> Vector(const std::string& name, int64_t n) {
    CRM_ASSIGN_OR_RETURN(const TensorInfo* t, Checked(name));
    if (t->elements() != n) return BadShape(*t, name);
    std::vector<float> v(n);
    const int64_t row = t->ne[0];
    const int64_t row_bytes = kernels::RowBytes(t->type, row);
    for (int64_t i = 0; i < n / row; ++i)
      kernels::DequantizeRow(t->data + i * row_bytes, t->type, row, v.data() + i * row);
    return v;
  }

 private:
  Result<const TensorInfo*> Checked(const std::string& name) const {
    const TensorInfo* t = f_.Find(name);
    if (t == nullptr) return Missing(name);
    auto it = expected_.find(name);
    if (it == expected_.end() || t->ne != it->second) return BadShape(*t, name);
    return t;
  }
  Error Missing(const std::string& name) const {
    return Error(ErrorCode::kCorrupt, f_.path() + ": tensor '" + name + "' is missing",
                 nlohmann::json{{"path", f_.path()}, {"tensor", name}});
  }
  Error BadShape(const TensorInfo& t, const std::string& name) const {
    return Error(ErrorCode::kCorrupt,
                 f_.path() + ": tensor '" + name + "' has shape " + ShapeString(t.ne) +
                     ", expected " + Expected(name),
                 nlohmann::json{{"path", f_.path()}, {"tensor", name}});
  }
  std::string Expected(const std::string& name) const {
    auto it = expected_.find(name);
    return it == expected_.end() ? "?" : ShapeString(it->second);
  }
  const ModelFile& f_;
  std::unordered_map<std::string, Shape> expected_;
};

}  // namespace

std::vector<std::pair<std::string, Shape>> ExpectedTensors(const HParams& hp) {
  std::vector<std::pair<std::string, Shape>> out;
  const int64_t na = hp.n_audio_state, nt = hp.n_text_state;
  out.push_back({"encoder.positional_embedding", {na, hp.n_audio_ctx}});
  out.push_back({"encoder.conv1.weight", {3, hp.n_mels, na}});
  out.push_back({"encoder.conv1.bias", {1, na}});
  out.push_back({"encoder.conv2.weight", {3, na, na}});
  out.push_back({"encoder.conv2.bias", {1, na}});
  for (int i = 0; i < hp.n_audio_layer; ++i) {
    const std::string p = "encoder.blocks." + std::to_string(i);
    AddLayerNorm(&out, p + ".mlp_ln", na);
    AddMlp(&out, p + ".mlp", na);
    AddLayerNorm(&out, p + ".attn_ln", na);
    AddAttention(&out, p + ".attn", na);
  }
  AddLayerNorm(&out, "encoder.ln_post", na);
  out.push_back({"decoder.positional_embedding", {nt, hp.n_text_ctx}});
  out.push_back({"decoder.token_embedding.weight", {nt, hp.n_vocab}});
  for (int i = 0; i < hp.n_text_layer; ++i) {
    const std::string p = "decoder.blocks." + std::to_string(i);
    AddLayerNorm(&out, p + ".mlp_ln", nt);
    AddMlp(&out, p + ".mlp", nt);
    AddLayerNorm(&out, p + ".attn_ln", nt);
    AddAttention(&out, p + ".attn", nt);
    AddLayerNorm(&out, p + ".cross_attn_ln", nt);
    AddAttention(&out, p + ".cross_attn", nt);
  }
  AddLayerNorm(&out, "decoder.ln", nt);
  return out;
}

Status WhisperModel::Bind() {
  const ModelFile& f = *file_;
  const HParams& hp = f.hparams();
  const auto expected = ExpectedTensors(hp);
  if (f.tensors().empty()) {
    return Error(ErrorCode::kCorrupt,
                 f.path() + ": the file holds no tensors (only the header, mel filters and "
                            "vocabulary): 0 of " + std::to_string(expected.size()) +
                     " expected tensors are present; the weights are missing",
                 nlohmann::json{{"path", f.path()}, {"expected_tensors", expected.size()}});
  }
  std::set<std::string> known;
  for (const auto& e : expected) known.insert(e.first);
  for (const TensorInfo& t : f.tensors()) {
    if (!known.count(t.name))
      return Error(ErrorCode::kCorrupt, f.path() + ": unknown tensor '" + t.name + "'",
                   nlohmann::json{{"path", f.path()}, {"tensor", t.name}});
  }
  size_t present = 0;
  for (const auto& e : expected) present += f.Find(e.first) != nullptr;
  if (present < expected.size()) {
    for (const auto& e : expected) {
      if (f.Find(e.first) == nullptr) {
        return Error(ErrorCode::kCorrupt,
                     f.path() + ": tensor '" + e.first + "' is missing (" +
                         std::to_string(present) + " of " + std::to_string(expected.size()) +
                         " expected tensors present; truncated or incomplete file?)",
                     nlohmann::json{{"path", f.path()}, {"tensor", e.first}});
      }
    }
  }

  Binder b(f);
  const int64_t na = hp.n_audio_state, nt = hp.n_text_state;
  auto ln = [&](const std::string& p, int64_t n, LayerNormWeights* w) -> Status {
    CRM_ASSIGN_OR_RETURN(w->gamma, b.Vector(p + ".weight", n));
    CRM_ASSIGN_OR_RETURN(w->beta, b.Vector(p + ".bias", n));
    return OkStatus();
  };
  auto attn = [&](const std::string& p, int64_t n, AttentionWeights* w) -> Status {
    CRM_ASSIGN_OR_RETURN(w->query, b.Matrix(p + ".query.weight", n, n));
    CRM_ASSIGN_OR_RETURN(w->query_bias, b.Vector(p + ".query.bias", n));
    CRM_ASSIGN_OR_RETURN(w->key, b.Matrix(p + ".key.weight", n, n));
    CRM_ASSIGN_OR_RETURN(w->value, b.Matrix(p + ".value.weight", n, n));
    CRM_ASSIGN_OR_RETURN(w->value_bias, b.Vector(p + ".value.bias", n));
    CRM_ASSIGN_OR_RETURN(w->out, b.Matrix(p + ".out.weight", n, n));
    CRM_ASSIGN_OR_RETURN(w->out_bias, b.Vector(p + ".out.bias", n));
    return OkStatus();
  };
  auto mlp = [&](const std::string& p, int64_t n, MlpWeights* w) -> Status {
    CRM_ASSIGN_OR_RETURN(w->fc1, b.Matrix(p + ".0.weight", 4 * n, n));
    CRM_ASSIGN_OR_RETURN(w->fc1_bias, b.Vector(p + ".0.bias", 4 * n));
    CRM_ASSIGN_OR_RETURN(w->fc2, b.Matrix(p + ".2.weight", n, 4 * n));
    CRM_ASSIGN_OR_RETURN(w->fc2_bias, b.Vector(p + ".2.bias", n));
    return OkStatus();
  };

  EncoderWeights& e = encoder_;
  CRM_ASSIGN_OR_RETURN(e.positional,
                       b.Vector("encoder.positional_embedding", hp.n_audio_ctx * na));
  CRM_ASSIGN_OR_RETURN(e.conv1, b.Matrix("encoder.conv1.weight", na, 3 * hp.n_mels));
  CRM_ASSIGN_OR_RETURN(e.conv1_bias, b.Vector("encoder.conv1.bias", na));
  CRM_ASSIGN_OR_RETURN(e.conv2, b.Matrix("encoder.conv2.weight", na, 3 * na));
  CRM_ASSIGN_OR_RETURN(e.conv2_bias, b.Vector("encoder.conv2.bias", na));
  e.layers.resize(hp.n_audio_layer);
  for (int i = 0; i < hp.n_audio_layer; ++i) {
    const std::string p = "encoder.blocks." + std::to_string(i);
    CRM_TRY(ln(p + ".attn_ln", na, &e.layers[i].attn_ln));
    CRM_TRY(attn(p + ".attn", na, &e.layers[i].attn));
    CRM_TRY(ln(p + ".mlp_ln", na, &e.layers[i].mlp_ln));
    CRM_TRY(mlp(p + ".mlp", na, &e.layers[i].mlp));
  }
  CRM_TRY(ln("encoder.ln_post", na, &e.ln_post));

  DecoderWeights& d = decoder_;
  CRM_ASSIGN_OR_RETURN(d.positional,
                       b.Vector("decoder.positional_embedding", hp.n_text_ctx * nt));
  CRM_ASSIGN_OR_RETURN(d.token_embedding,
                       b.Matrix("decoder.token_embedding.weight", hp.n_vocab, nt));
  d.layers.resize(hp.n_text_layer);
  for (int i = 0; i < hp.n_text_layer; ++i) {
    const std::string p = "decoder.blocks." + std::to_string(i);
    CRM_TRY(ln(p + ".attn_ln", nt, &d.layers[i].attn_ln));
    CRM_TRY(attn(p + ".attn", nt, &d.layers[i].attn));
    CRM_TRY(ln(p + ".cross_attn_ln", nt, &d.layers[i].cross_attn_ln));
    CRM_TRY(attn(p + ".cross_attn", nt, &d.layers[i].cross_attn));
    CRM_TRY(ln(p + ".mlp_ln", nt, &d.layers[i].mlp_ln));
    CRM_TRY(mlp(p + ".mlp", nt, &d.layers[i].mlp));
  }
  CRM_TRY(ln("decoder.ln", nt, &d.ln));
  return OkStatus();
}

Result<std::shared_ptr<const WhisperModel>> WhisperModel::Load(const std::string& path) {
  CRM_ASSIGN_OR_RETURN(auto file, ModelFile::Open(path));
  auto tok = Tokenizer::Create(file->vocab(), file->hparams().n_vocab);
  if (!tok.ok()) {
    return Error(ErrorCode::kCorrupt, path + ": " + tok.error().message,
                 nlohmann::json{{"path", path}});
  }
  if (file->fft_bins() != kNfft / 2 + 1) {
    return Error(ErrorCode::kCorrupt,
                 path + ": mel filterbank has " + std::to_string(file->fft_bins()) +
                     " frequency bins, expected 201",
                 nlohmann::json{{"path", path}});
  }
  MelSpectrogram mel(file->mel_bins(), file->mel_filters());
  std::shared_ptr<WhisperModel> model(
      new WhisperModel(std::move(file), std::move(tok).value(), std::move(mel)));
  CRM_TRY(model->Bind());
  return std::shared_ptr<const WhisperModel>(std::move(model));
}

Result<std::shared_ptr<const WhisperModel>> ModelCache::Get(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = models_.find(path); it != models_.end()) {
    if (auto m = it->second.lock()) return m;
  }
  CRM_ASSIGN_OR_RETURN(auto model, WhisperModel::Load(path));
  models_[path] = model;
  return model;
}

}  // namespace crm::asr::whisper
