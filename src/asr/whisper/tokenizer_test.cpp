#include "asr/whisper/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "asr/whisper/model_file.h"
#include "asr/whisper/test_support.h"

namespace crm::asr::whisper {
namespace {

class TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    file_ = ModelFile::Open(testing::FixturePath()).value().release();
  }
  static void TearDownTestSuite() { delete file_; }
  static Tokenizer Make(int n_vocab = 51865) {
    return Tokenizer::Create(file_->vocab(), n_vocab).value();
  }
  static ModelFile* file_;
};
ModelFile* TokenizerTest::file_ = nullptr;

TEST_F(TokenizerTest, SpecialTokenIdsOfMultilingualModels) {
  Tokenizer t = Make();
  EXPECT_EQ(t.eot(), 50257);
  EXPECT_EQ(t.sot(), 50258);
  EXPECT_EQ(t.LanguageToken("en"), 50259);
  EXPECT_EQ(t.LanguageToken("fr"), 50265);
  EXPECT_EQ(t.LanguageToken("yue"), -1);  // only in large-v3
  EXPECT_EQ(t.num_languages(), 99);
  EXPECT_EQ(t.translate(), 50358);
  EXPECT_EQ(t.transcribe(), 50359);
  EXPECT_EQ(t.sot_lm(), 50360);
  EXPECT_EQ(t.sot_prev(), 50361);
  EXPECT_EQ(t.no_speech(), 50362);
  EXPECT_EQ(t.no_timestamps(), 50363);
  EXPECT_EQ(t.timestamp_begin(), 50364);
  EXPECT_EQ(t.TokenText(50364 + 20), "<|0.40|>");
  EXPECT_EQ(t.TokenText(50265), "<|fr|>");
  EXPECT_EQ(t.LanguageCode(50265), "fr");
}

TEST_F(TokenizerTest, LargeV3HasOneMoreLanguageAndEnglishOnlyHasNone) {
  Tokenizer v3 = Make(51866);
  EXPECT_EQ(v3.num_languages(), 100);
  EXPECT_EQ(v3.LanguageToken("yue"), 50358);
  EXPECT_EQ(v3.transcribe(), 50360);
  EXPECT_EQ(v3.timestamp_begin(), 50365);
  Tokenizer en = Make(51864);
  EXPECT_FALSE(en.multilingual());
  EXPECT_EQ(en.eot(), 50256);
  EXPECT_EQ(en.sot(), 50257);
  EXPECT_EQ(en.no_timestamps(), 50362);
  EXPECT_EQ(en.timestamp_begin(), 50363);
  EXPECT_EQ(WhisperLanguages().size(), 100u);
}

TEST_F(TokenizerTest, RoundTripsFrenchGermanChineseAndEmoji) {
  Tokenizer t = Make();
  for (const std::string s :
       {" Bonjour Maître Dupré, l'acte de cession a été signé à Besançon, où ça coûte 1 250 €.",
        " Sehr geehrte Frau Müller, die Größe der Straße ändert sich übermäßig.",
        " 我们明天在律师事务所签合同。", " Réunion terminée 🎉👍🏽 — à bientôt ! 😀",
        "\n\n  multiple   spaces\tand tabs\n", " ÆØÅ æøå ĳ œ Ÿ ÿ"}) {
    auto ids = t.Encode(s);
    EXPECT_FALSE(ids.empty());
    for (int id : ids) EXPECT_TRUE(t.IsText(id)) << id;
    EXPECT_EQ(t.Decode(ids), s);
  }
}

TEST_F(TokenizerTest, EncodesCommonWordsAsSingleTokens) {
  Tokenizer t = Make();
  EXPECT_EQ(t.Encode(" the"), std::vector<int>{264});
  auto hello = t.Encode("Hello world");
  ASSERT_EQ(hello.size(), 2u);
  EXPECT_EQ(t.TokenText(hello[0]), "Hello");
  EXPECT_EQ(t.TokenText(hello[1]), " world");
  auto contraction = t.Encode("it's");
  ASSERT_EQ(contraction.size(), 2u);
  EXPECT_EQ(t.TokenText(contraction[1]), "'s");
}

TEST_F(TokenizerTest, DecodingJoinsACharacterSplitOverTokens) {
  Tokenizer t = Make();
  // "é" is C3 A9: two single-byte tokens.
  auto bytes = t.Encode("\xC3\xA9");
  std::vector<int> split;
  for (unsigned char b : std::string("\xC3\xA9")) {
    for (int id = 0; id < 256; ++id)
      if (t.TokenText(id) == std::string(1, static_cast<char>(b))) split.push_back(id);
  }
  ASSERT_EQ(split.size(), 2u);
  EXPECT_EQ(t.Decode(split), "\xC3\xA9");
  EXPECT_EQ(t.Decode({split[0]}), "\xEF\xBF\xBD");  // alone it is incomplete
  EXPECT_TRUE(EndsInsideUtf8Char(t.TokenText(split[0])));
  EXPECT_FALSE(EndsInsideUtf8Char("caf\xC3\xA9"));
  EXPECT_TRUE(EndsInsideUtf8Char("\xF0\x9F\x98"));
  EXPECT_EQ(SanitizeUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(t.Decode(bytes), "\xC3\xA9");
}

TEST_F(TokenizerTest, SpecialTokensAreSkippedWhenDecodingText) {
  Tokenizer t = Make();
  auto ids = t.Encode(" Hello");
  std::vector<int> with = {t.sot(), t.LanguageToken("en"), t.transcribe(), t.timestamp_begin()};
  with.insert(with.end(), ids.begin(), ids.end());
  with.push_back(t.timestamp_begin() + 50);
  with.push_back(t.eot());
  EXPECT_EQ(t.Decode(with), " Hello");
}

TEST_F(TokenizerTest, NonSpeechSetComputedFromSymbolsAgreesWithThePublishedOne) {
  // Computed from the symbol list for an English-only vocabulary size: the multilingual
  // published ids that the damaged fixture entries cannot reach aside, the same symbols.
  Tokenizer en = Make(51864);
  auto computed = en.NonSpeechTokens();
  for (int id : {1, 2, 7, 359, 503, 922, 931, 1350, 3246, 3961, 26130, 36865, 42863})
    EXPECT_NE(std::find(computed.begin(), computed.end(), id), computed.end()) << id;
  EXPECT_EQ(std::find(computed.begin(), computed.end(), 220), computed.end());
}

TEST_F(TokenizerTest, NonSpeechSetMatchesWhisperPublishedList) {
  // The text-token part of the suppress_tokens list published with the multilingual Whisper
  // models (generation_config.json), i.e. the reference tokenizer's non_speech_tokens.
  const std::vector<int> published = {
      1,     2,     7,     8,     9,     10,    14,    25,    26,    27,    28,    29,    31,
      58,    59,    60,    61,    62,    63,    90,    91,    92,    93,    359,   503,   522,
      542,   873,   893,   902,   918,   922,   931,   1350,  1853,  1982,  2460,  2627,  3246,
      3253,  3268,  3536,  3846,  3961,  4183,  4667,  6585,  6647,  7273,  9061,  9383,  10428,
      10929, 11938, 12033, 12331, 12562, 13793, 14157, 14635, 15265, 15618, 16553, 16604, 18362,
      18956, 20075, 21675, 22520, 26130, 26161, 26435, 28279, 29464, 31650, 32302, 32470, 36865,
      42863, 47425, 49870, 50254};
  EXPECT_EQ(Make().NonSpeechTokens(), published);
}

}  // namespace
}  // namespace crm::asr::whisper
