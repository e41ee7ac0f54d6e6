#include "asr/whisper/model_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "asr/whisper/model.h"
#include "asr/whisper/test_support.h"

namespace crm::asr::whisper {
namespace {

using testing::FixturePath;
using testing::ReadText;
using testing::TempDir;

// A model file made of the fixture's header and vocabulary plus the given tensor records.
struct TensorRecord {
  std::string name;
  int32_t type;
  std::vector<int32_t> ne;
  int64_t data_bytes = -1;  // -1: the full size for the type and shape
};

std::string WithTensors(const TempDir& dir, const std::vector<TensorRecord>& tensors) {
  std::string bytes = ReadText(FixturePath());
  for (const auto& t : tensors) {
    const int32_t head[3] = {static_cast<int32_t>(t.ne.size()),
                             static_cast<int32_t>(t.name.size()), t.type};
    bytes.append(reinterpret_cast<const char*>(head), sizeof head);
    bytes.append(reinterpret_cast<const char*>(t.ne.data()), t.ne.size() * 4);
    bytes += t.name;
    int64_t n = 1;
    for (int32_t e : t.ne) n *= e;
    const int64_t size = t.data_bytes >= 0 ? t.data_bytes : n * (t.type == 1 ? 2 : 4);
    bytes.append(static_cast<size_t>(size), '\0');
  }
  const std::string path = dir.File("model.bin");
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(ModelFileTest, ReadsTheFixtureHeaderFiltersAndVocabulary) {
  auto f = ModelFile::Open(FixturePath());
  ASSERT_TRUE(f.ok()) << f.error().message;
  const HParams& hp = (*f)->hparams();
  EXPECT_EQ(hp.n_vocab, 51865);
  EXPECT_EQ(hp.n_audio_state, 384);
  EXPECT_EQ(hp.n_audio_layer, 4);
  EXPECT_EQ(hp.n_text_ctx, 448);
  EXPECT_EQ(hp.n_mels, 80);
  EXPECT_EQ((*f)->mel_bins(), 80);
  EXPECT_EQ((*f)->fft_bins(), 201);
  EXPECT_EQ((*f)->vocab().size(), 50257u);
  EXPECT_EQ((*f)->vocab()[264], " the");
  EXPECT_TRUE((*f)->tensors().empty());
  EXPECT_EQ((*f)->SizeName(), "tiny");
  EXPECT_EQ((*f)->TypeName(), "f16");
  EXPECT_TRUE((*f)->multilingual());
}

TEST(ModelFileTest, LoadingTheFixtureSaysPreciselyThatTheTensorsAreMissing) {
  auto m = WhisperModel::Load(FixturePath());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(m.error().message.find(FixturePath()), std::string::npos);
  EXPECT_NE(m.error().message.find("holds no tensors"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("0 of 167 expected tensors"), std::string::npos)
      << m.error().message;
}

TEST(ModelFileTest, MissingFileIsOneClearLine) {
  auto m = WhisperModel::Load("/nonexistent/ggml-base.bin");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(m.error().message, "speech model file not found: /nonexistent/ggml-base.bin");
}

TEST(ModelFileTest, WrongMagicIsNamed) {
  TempDir dir;
  std::ofstream(dir.File("x.bin"), std::ios::binary) << "RIFF0000WAVEfmt not a model at all";
  auto f = ModelFile::Open(dir.File("x.bin"));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find(dir.File("x.bin") + ": not a whisper ggml model file"),
            std::string::npos)
      << f.error().message;
}

TEST(ModelFileTest, TruncatedHeaderAndVocabularyAreReported) {
  TempDir dir;
  const std::string bytes = ReadText(FixturePath());
  std::ofstream(dir.File("a.bin"), std::ios::binary) << bytes.substr(0, 30);
  auto a = ModelFile::Open(dir.File("a.bin"));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("truncated in the hyper-parameters"), std::string::npos);
  std::ofstream(dir.File("b.bin"), std::ios::binary) << bytes.substr(0, bytes.size() - 1000);
  auto b = ModelFile::Open(dir.File("b.bin"));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("truncated in the vocabulary"), std::string::npos)
      << b.error().message;
}

TEST(ModelFileTest, TruncatedTensorDataIsReportedWithTheTensorName) {
  TempDir dir;
  auto path = WithTensors(dir, {{"encoder.positional_embedding", 0, {384, 1500}, 1000}});
  auto f = ModelFile::Open(path);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("truncated: tensor 'encoder.positional_embedding'"),
            std::string::npos)
      << f.error().message;
}

TEST(ModelFileTest, UnsupportedTensorTypeIsReported) {
  TempDir dir;
  auto path = WithTensors(dir, {{"encoder.ln_post.weight", 5, {384}, 0}});
  auto f = ModelFile::Open(path);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("tensor 'encoder.ln_post.weight' has unsupported type 5"),
            std::string::npos)
      << f.error().message;
}

TEST(ModelFileTest, UnknownTensorIsReported) {
  TempDir dir;
  auto path = WithTensors(dir, {{"encoder.extra.weight", 0, {384}}});
  auto m = WhisperModel::Load(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("unknown tensor 'encoder.extra.weight'"), std::string::npos)
      << m.error().message;
}

TEST(ModelFileTest, MissingTensorIsNamedWithTheCount) {
  TempDir dir;
  auto path = WithTensors(dir, {{"encoder.positional_embedding", 0, {384, 1500}}});
  auto m = WhisperModel::Load(path);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("tensor 'encoder.conv1.weight' is missing (1 of 167"),
            std::string::npos)
      << m.error().message;
}

TEST(ModelFileTest, WrongShapeIsReportedWithTheExpectedShape) {
  TempDir dir;
  std::vector<TensorRecord> all;
  HParams hp = ModelFile::Open(FixturePath()).value()->hparams();
  for (const auto& [name, shape] : ExpectedTensors(hp)) {
    std::vector<int32_t> ne(shape.begin(), shape.end());
    if (name == "encoder.ln_post.bias") ne = {383};
    all.push_back({name, 0, ne});
  }
  auto m = WhisperModel::Load(WithTensors(dir, all));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("tensor 'encoder.ln_post.bias' has shape [383], expected "
                                   "[384]"),
            std::string::npos)
      << m.error().message;
}

TEST(ModelFileTest, NamesEverySize) {
  HParams hp{51865, 1500, 512, 8, 6, 448, 512, 8, 6, 80, 1};
  EXPECT_EQ(SizeNameOf(hp), "base");
  hp.n_vocab = 51864;
  EXPECT_EQ(SizeNameOf(hp), "base.en");
  HParams v3{51866, 1500, 1280, 20, 32, 448, 1280, 20, 32, 128, 1};
  EXPECT_EQ(SizeNameOf(v3), "large-v3");
  v3.n_text_layer = 4;
  EXPECT_EQ(SizeNameOf(v3), "large-v3-turbo");
  EXPECT_EQ(FtypeName(7), "q8_0");
  EXPECT_EQ(FtypeName(1009), "q5_1");
}

}  // namespace
}  // namespace crm::asr::whisper
