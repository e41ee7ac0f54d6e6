#include "audio/vad/silero_model.h"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace crm::audio::vad {
namespace {

std::string ShapeText(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

Error Mismatch(const std::string& name, const std::string& what) {
  return InvalidArgument("Silero model " + name + " is not the Silero VAD v5 graph this build " +
                             "implements: " + what,
                         {{"model", name}, {"difference", what}});
}

// Every node of a graph and of the subgraphs nested in its nodes' attributes.
void CollectNodes(const onnx::GraphProto& g, std::vector<const onnx::NodeProto*>* out) {
  for (const auto& n : g.node()) {
    out->push_back(&n);
    for (const auto& a : n.attribute()) {
      if (a.has_g()) CollectNodes(a.g(), out);
      for (const auto& sub : a.graphs()) CollectNodes(sub, out);
    }
  }
}

const onnx::AttributeProto* Attr(const onnx::NodeProto& n, std::string_view name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

std::vector<int64_t> Ints(const onnx::NodeProto& n, std::string_view name) {
  const auto* a = Attr(n, name);
  if (!a) return {};
  return {a->ints().begin(), a->ints().end()};
}

// The int64 values of a Constant node's tensor (empty when not an int64 tensor).
std::vector<int64_t> Int64Values(const onnx::TensorProto& t) {
  if (t.data_type() != onnx::TensorProto::INT64) return {};
  if (!t.raw_data().empty()) {
    std::vector<int64_t> v(t.raw_data().size() / 8);
    std::memcpy(v.data(), t.raw_data().data(), v.size() * 8);
    return v;
  }
  return {t.int64_data().begin(), t.int64_data().end()};
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class BranchReader {
 public:
  BranchReader(const onnx::GraphProto& branch, std::string model_name)
      : name_(std::move(model_name)) {
    CollectNodes(branch, &nodes_);
    for (const auto* n : nodes_) {
      if (n->op_type() != "Constant" || n->output_size() != 1) continue;
      if (const auto* a = Attr(*n, "value"); a && a->has_t()) constants_[n->output(0)] = &a->t();
    }
  }

  const std::vector<const onnx::NodeProto*>& nodes() const { return nodes_; }

  const onnx::TensorProto* FindConstant(const std::string& key) const {
    for (const auto& [out, t] : constants_)
      if (out == key || EndsWith(out, "__" + key)) return t;
    return nullptr;
  }

  // Copies the float tensor `key` after checking its shape.
  Status Float(const std::string& key, const std::vector<int64_t>& shape, std::vector<float>* out) {
    const onnx::TensorProto* t = FindConstant(key);
    if (!t) return Mismatch(name_, "weight tensor '" + key + "' not found");
    std::vector<int64_t> dims(t->dims().begin(), t->dims().end());
    if (dims != shape)
      return Mismatch(name_, "weight tensor '" + key + "' has shape " + ShapeText(dims) +
                                 ", expected " + ShapeText(shape));
    if (t->data_type() != onnx::TensorProto::FLOAT)
      return Mismatch(name_, "weight tensor '" + key + "' is not float32");
    size_t count = 1;
    for (int64_t d : shape) count *= static_cast<size_t>(d);
    out->resize(count);
    if (!t->raw_data().empty()) {
      if (t->raw_data().size() != count * sizeof(float))
        return Error(ErrorCode::kCorrupt, "Silero model " + name_ + ": tensor '" + key +
                                              "' holds " + std::to_string(t->raw_data().size()) +
                                              " bytes, expected " +
                                              std::to_string(count * sizeof(float)));
      std::memcpy(out->data(), t->raw_data().data(), count * sizeof(float));
    } else {
      if (static_cast<size_t>(t->float_data_size()) != count)
        return Error(ErrorCode::kCorrupt,
                     "Silero model " + name_ + ": tensor '" + key + "' has missing data");
      std::copy(t->float_data().begin(), t->float_data().end(), out->begin());
    }
    return OkStatus();
  }

 private:
  std::string name_;
  std::vector<const onnx::NodeProto*> nodes_;
  std::map<std::string, const onnx::TensorProto*> constants_;
};

Status CheckInterface(const onnx::ModelProto& m, const std::string& name) {
  int64_t opset = -1;
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  if (opset != kSileroOpset)
    return Mismatch(
        name, "opset " + std::to_string(opset) + ", expected " + std::to_string(kSileroOpset));
  const auto& g = m.graph();
  std::vector<std::string> inputs, outputs;
  for (const auto& i : g.input()) inputs.push_back(i.name());
  for (const auto& o : g.output()) outputs.push_back(o.name());
  if (inputs != std::vector<std::string>{"input", "state", "sr"})
    return Mismatch(name, "graph inputs are not (input, state, sr)");
  if (outputs != std::vector<std::string>{"output", "stateN"})
    return Mismatch(name, "graph outputs are not (output, stateN)");
  const auto& in = g.input(0).type().tensor_type();
  const auto& st = g.input(1).type().tensor_type();
  const auto& sr = g.input(2).type().tensor_type();
  if (in.elem_type() != onnx::TensorProto::FLOAT || in.shape().dim_size() != 2)
    return Mismatch(name, "'input' is not a float32 tensor of rank 2");
  if (st.elem_type() != onnx::TensorProto::FLOAT || st.shape().dim_size() != 3 ||
      st.shape().dim(0).dim_value() != 2 || st.shape().dim(2).dim_value() != kSileroHidden)
    return Mismatch(name, "'state' is not a float32 tensor of shape [2, batch, 128]");
  if (sr.elem_type() != onnx::TensorProto::INT64)
    return Mismatch(name, "'sr' is not an int64 tensor");
  return OkStatus();
}

// The subgraph the If node runs for sr == 16000.
Result<const onnx::GraphProto*> Find16kBranch(const onnx::GraphProto& g, const std::string& name) {
  const onnx::NodeProto* if_node = nullptr;
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& n : g.node()) {
    for (const auto& o : n.output()) producer[o] = &n;
    if (n.op_type() == "If") {
      if (if_node) return Mismatch(name, "more than one If node at the top of the graph");
      if_node = &n;
    }
  }
  if (!if_node) return Mismatch(name, "no If node choosing the sample-rate subgraph");
  const auto* eq = if_node->input_size() == 1 ? producer[if_node->input(0)] : nullptr;
  if (!eq || eq->op_type() != "Equal" || eq->input_size() != 2)
    return Mismatch(name, "the If node's condition is not an Equal on 'sr'");
  int64_t rate = -1;
  for (const auto& in : eq->input()) {
    const auto* c = producer[in];
    if (!c || c->op_type() != "Constant") continue;
    const auto* a = Attr(*c, "value");
    if (a && a->has_t()) {
      auto v = Int64Values(a->t());
      if (v.size() == 1) rate = v[0];
    }
  }
  if (eq->input(0) != "sr" && eq->input(1) != "sr")
    return Mismatch(name, "the If node's condition does not test 'sr'");
  if (rate != 16000)
    return Mismatch(name, "the If node tests sr == " + std::to_string(rate) + ", expected 16000");
  const auto* then_branch = Attr(*if_node, "then_branch");
  const auto* else_branch = Attr(*if_node, "else_branch");
  if (!then_branch || !then_branch->has_g() || !else_branch || !else_branch->has_g())
    return Mismatch(name, "the If node lacks one of its two subgraphs");
  return &then_branch->g();
}

Status CheckOperators(const BranchReader& r, const std::string& name) {
  std::vector<const onnx::NodeProto*> convs;
  int lstm = 0, sigmoid = 0, reflect_pad = 0;
  for (const auto* n : r.nodes()) {
    if (n->op_type() == "Conv") convs.push_back(n);
    if (n->op_type() == "Sigmoid") ++sigmoid;
    if (n->op_type() == "LSTM") {
      const auto* h = Attr(*n, "hidden_size");
      if (!h || h->i() != kSileroHidden)
        return Mismatch(name, "LSTM hidden_size is not " + std::to_string(kSileroHidden));
      ++lstm;
    }
    if (n->op_type() == "Pad") {
      const auto* mode = Attr(*n, "mode");
      if (!mode || mode->s() != "reflect") return Mismatch(name, "STFT padding is not 'reflect'");
      ++reflect_pad;
    }
  }
  if (lstm == 0) return Mismatch(name, "no LSTM node in the 16 kHz subgraph");
  if (sigmoid != 1) return Mismatch(name, "expected one Sigmoid in the 16 kHz subgraph");
  if (reflect_pad != 1) return Mismatch(name, "expected one reflect Pad in the 16 kHz subgraph");
  struct ConvSpec {
    int64_t kernel, stride, pad;
  };
  const ConvSpec expected[6] = {
      {kSileroWindow, kSileroHop, 0}, {3, 1, 1}, {3, 2, 1}, {3, 2, 1}, {3, 1, 1}, {1, 1, 0}};
  if (convs.size() != 6)
    return Mismatch(name, std::to_string(convs.size()) + " Conv nodes, expected 6");
  for (int i = 0; i < 6; ++i) {
    const auto& e = expected[i];
    if (Ints(*convs[i], "kernel_shape") != std::vector<int64_t>{e.kernel} ||
        Ints(*convs[i], "strides") != std::vector<int64_t>{e.stride} ||
        Ints(*convs[i], "pads") != std::vector<int64_t>{e.pad, e.pad})
      return Mismatch(name, "Conv " + std::to_string(i) + " ('" + convs[i]->name() +
                                "') is not kernel " + std::to_string(e.kernel) + ", stride " +
                                std::to_string(e.stride) + ", padding " + std::to_string(e.pad));
  }
  const auto* pad = r.FindConstant("/stft/padding/Constant_1_output_0");
  if (!pad || Int64Values(*pad) != std::vector<int64_t>{0, kSileroPad})
    return Mismatch(name, "STFT padding is not (0, " + std::to_string(kSileroPad) + ")");
  return OkStatus();
}

}  // namespace

Result<SileroWeights> ParseSileroModel(std::string_view bytes, const std::string& name) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !model.has_graph())
    return Error(ErrorCode::kCorrupt, "Silero model " + name +
                                          " is not a readable ONNX file (damaged or truncated); "
                                          "reinstall it (scripts/setup.sh) or set VAD=energy");
  CRM_TRY(CheckInterface(model, name));
  CRM_ASSIGN_OR_RETURN(const onnx::GraphProto* branch, Find16kBranch(model.graph(), name));
  BranchReader r(*branch, name);
  CRM_TRY(CheckOperators(r, name));

  SileroWeights w;
  CRM_TRY(r.Float("stft.forward_basis_buffer", {2 * kSileroBins, 1, kSileroWindow}, &w.stft_basis));
  for (int i = 0; i < 4; ++i) {
    const std::string p = "encoder." + std::to_string(i) + ".reparam_conv.";
    CRM_TRY(r.Float(p + "weight", {w.conv_out[i], w.conv_in[i], 3}, &w.conv_weight[i]));
    CRM_TRY(r.Float(p + "bias", {w.conv_out[i]}, &w.conv_bias[i]));
  }
  const int64_t g = 4 * kSileroHidden;
  CRM_TRY(r.Float("decoder.rnn.weight_ih", {g, kSileroHidden}, &w.lstm_w_ih));
  CRM_TRY(r.Float("decoder.rnn.weight_hh", {g, kSileroHidden}, &w.lstm_w_hh));
  CRM_TRY(r.Float("decoder.rnn.bias_ih", {g}, &w.lstm_b_ih));
  CRM_TRY(r.Float("decoder.rnn.bias_hh", {g}, &w.lstm_b_hh));
  CRM_TRY(r.Float("decoder.decoder.2.weight", {1, kSileroHidden, 1}, &w.out_weight));
  std::vector<float> bias;
  CRM_TRY(r.Float("decoder.decoder.2.bias", {1}, &bias));
  w.out_bias = bias[0];
  return w;
}

Result<SileroWeights> LoadSileroModel(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return Error(ErrorCode::kIo, "Silero model file not found or unreadable: " + path +
                                     "; run scripts/setup.sh and rebuild, or set VAD_MODEL");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string bytes = ss.str();
  return ParseSileroModel(bytes, path);
}

}  // namespace crm::audio::vad
