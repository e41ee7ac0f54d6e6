// Transcript renderings checked against hand-written expected output.
#include "asr/format.h"

#include <gtest/gtest.h>

namespace crm::asr {
namespace {

Transcript Meeting() {
  Transcript t;
  t.language = "fr";
  t.duration = 6302.5;
  Segment a;
  a.id = 0;
  a.start = 0;
  a.end = 3.2;
  a.text = " Bonjour Maître, merci d'être venu.";
  a.speaker = "Maître Dupont";
  a.tokens = {50365, 25892};
  a.avg_logprob = -0.25f;
  a.compression_ratio = 1.5f;
  a.no_speech_prob = 0.01f;
  a.words = {{0.0, 0.6, " Bonjour", 0.9f, "Maître Dupont"}, {0.6, 1.2, " Maître,", 0.8f, ""}};
  Segment b;
  b.id = 1;
  b.start = 62.345;
  b.end = 6301.0005;  // 1 h 45 min 01.0005 s: rounds to ...,001
  b.text = " Le bénéfice a été réparti à l'amiable.";
  b.speaker = "SPEAKER_2";
  t.segments = {a, b};
  return t;
}

TEST(FormatTest, TimestampsUseCommaForSrtAndDotForVtt) {
  EXPECT_EQ(FormatTimestamp(62.345, ','), "00:01:02,345");
  EXPECT_EQ(FormatTimestamp(62.345, '.'), "00:01:02.345");
  EXPECT_EQ(FormatTimestamp(0, ','), "00:00:00,000");
  EXPECT_EQ(FormatTimestamp(-1, ','), "00:00:00,000");
  // Rounding carries into seconds, minutes and hours.
  EXPECT_EQ(FormatTimestamp(59.9996, '.'), "00:01:00.000");
  EXPECT_EQ(FormatTimestamp(3599.9999, '.'), "01:00:00.000");
  // Past 99 minutes the hours field carries them; past 99 hours it widens.
  EXPECT_EQ(FormatTimestamp(100 * 60 + 5.5, ','), "01:40:05,500");
  EXPECT_EQ(FormatTimestamp(101 * 3600.0, ','), "101:00:00,000");
}

TEST(FormatTest, SrtNumbersCuesAndLabelsSpeakers) {
  EXPECT_EQ(ToSrt(Meeting()),
            "1\n"
            "00:00:00,000 --> 00:00:03,200\n"
            "[Maître Dupont] Bonjour Maître, merci d'être venu.\n"
            "\n"
            "2\n"
            "00:01:02,345 --> 01:45:01,001\n"
            "[SPEAKER_2] Le bénéfice a été réparti à l'amiable.\n"
            "\n");
}

TEST(FormatTest, VttUsesVoiceTagsAndEscapesMarkup) {
  Transcript t = Meeting();
  t.segments[1].text = " Clause <b> & \"annexe\"";
  EXPECT_EQ(ToVtt(t),
            "WEBVTT\n"
            "\n"
            "00:00:00.000 --> 00:00:03.200\n"
            "<v Maître Dupont>Bonjour Maître, merci d'être venu.\n"
            "\n"
            "00:01:02.345 --> 01:45:01.001\n"
            "<v SPEAKER_2>Clause &lt;b&gt; &amp; \"annexe\"\n"
            "\n");
}

TEST(FormatTest, TxtWritesOneLinePerSegment) {
  Transcript t = Meeting();
  EXPECT_EQ(ToTxt(t),
            "[Maître Dupont] Bonjour Maître, merci d'être venu.\n"
            "[SPEAKER_2] Le bénéfice a été réparti à l'amiable.\n");
  t.segments[0].speaker.clear();
  t.segments[1].speaker.clear();
  t.segments[1].text = " Deux lignes\nen une.";
  EXPECT_EQ(ToTxt(t), "Bonjour Maître, merci d'être venu.\nDeux lignes en une.\n");
}

TEST(FormatTest, TextAndJsonCarryTheJoinedText) {
  const std::string joined =
      "Bonjour Maître, merci d'être venu. Le bénéfice a été réparti à l'amiable.";
  EXPECT_EQ(Meeting().Text(), joined);
  EXPECT_EQ(ToText(Meeting()), joined + "\n");
  EXPECT_EQ(ToJson(Meeting()).dump(), nlohmann::json({{"text", joined}}).dump());
  EXPECT_EQ(Render(Meeting(), OutputFormat::kJson),
            "{\"text\":\"Bonjour Maître, merci d'être venu. Le bénéfice a été réparti à "
            "l'amiable.\"}\n");
}

TEST(FormatTest, TextOfLanguagesWithoutSpacesIsGlued) {
  Transcript t;
  t.language = "ja";
  t.segments = {{0, 0, 1, "こんにちは"}, {1, 1, 2, "世界"}};
  EXPECT_EQ(t.Text(), "こんにちは世界");
}

TEST(FormatTest, VerboseJsonHasOpenAiFields) {
  nlohmann::json v = ToVerboseJson(Meeting());
  EXPECT_EQ(v["task"], "transcribe");
  EXPECT_EQ(v["language"], "french");
  EXPECT_EQ(v["duration"], 6302.5);
  EXPECT_EQ(v["text"], Meeting().Text());
  ASSERT_EQ(v["segments"].size(), 2u);
  const auto& s = v["segments"][0];
  for (const char* key : {"id", "seek", "start", "end", "text", "tokens", "temperature",
                          "avg_logprob", "compression_ratio", "no_speech_prob"})
    EXPECT_TRUE(s.contains(key)) << key;
  EXPECT_EQ(s["text"], " Bonjour Maître, merci d'être venu.");
  EXPECT_EQ(s["tokens"], nlohmann::json::array({50365, 25892}));
  EXPECT_EQ(s["speaker"], "Maître Dupont");
  EXPECT_EQ(v["segments"][1]["seek"], 6234);
  EXPECT_EQ(v["segments"][1]["start"], 62.345);
  EXPECT_EQ(v["segments"][1]["end"], 6301.001);
  ASSERT_EQ(v["words"].size(), 2u);
  EXPECT_EQ(v["words"][0].dump(),
            R"({"end":0.6,"speaker":"Maître Dupont","start":0.0,"word":"Bonjour"})");
  EXPECT_EQ(v["words"][1].dump(), R"({"end":1.2,"start":0.6,"word":"Maître,"})");
}

TEST(FormatTest, VerboseJsonRoundTrips) {
  Transcript original = Meeting();
  auto parsed = ParseVerboseJson(ToVerboseJson(original).dump());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->language, "fr");
  EXPECT_DOUBLE_EQ(parsed->duration, 6302.5);
  ASSERT_EQ(parsed->segments.size(), 2u);
  EXPECT_EQ(parsed->segments[0].text, original.segments[0].text);
  EXPECT_EQ(parsed->segments[0].speaker, "Maître Dupont");
  EXPECT_EQ(parsed->segments[0].tokens, original.segments[0].tokens);
  EXPECT_FLOAT_EQ(parsed->segments[0].avg_logprob, -0.25f);
  ASSERT_EQ(parsed->segments[0].words.size(), 2u);
  EXPECT_EQ(parsed->segments[0].words[1].text, "Maître,");
  EXPECT_TRUE(parsed->segments[1].words.empty());
  EXPECT_EQ(ToSrt(*parsed), ToSrt(original));
}

TEST(FormatTest, ParsesAnOpenAiAnswerAndAttachesWordsToSegments) {
  const char* body = R"({
    "task": "transcribe", "language": "english", "duration": 8.47,
    "text": "The beach was a popular spot. Families gathered.",
    "segments": [
      {"id": 0, "seek": 0, "start": 0.0, "end": 3.32, "text": " The beach was a popular spot.",
       "tokens": [50364, 440], "temperature": 0.0, "avg_logprob": -0.28,
       "compression_ratio": 1.27, "no_speech_prob": 0.01},
      {"id": 1, "seek": 0, "start": 3.5, "end": 5.0, "text": " Families gathered.",
       "tokens": [50530], "temperature": 0.2, "avg_logprob": -0.3,
       "compression_ratio": 1.1, "no_speech_prob": 0.02}],
    "words": [{"word": "The", "start": 0.0, "end": 0.24}, {"word": "beach", "start": 0.24,
               "end": 0.6}, {"word": "spot.", "start": 2.9, "end": 3.32},
              {"word": "Families", "start": 3.5, "end": 4.1},
              {"word": "gathered.", "start": 4.1, "end": 5.0}]})";
  auto t = ParseVerboseJson(body);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->language, "en");
  ASSERT_EQ(t->segments.size(), 2u);
  EXPECT_EQ(t->segments[0].words.size(), 3u);
  EXPECT_EQ(t->segments[1].words.size(), 2u);
  EXPECT_EQ(t->segments[1].words[0].text, "Families");
  EXPECT_FLOAT_EQ(t->segments[1].temperature, 0.2f);
  EXPECT_EQ(t->Text(), "The beach was a popular spot. Families gathered.");
}

TEST(FormatTest, PlainJsonAnswerBecomesOneSegment) {
  auto t = ParseVerboseJson(R"({"text": " Bonjour à tous."})");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->segments.size(), 1u);
  EXPECT_EQ(t->Text(), "Bonjour à tous.");
}

TEST(FormatTest, BadBodiesGiveClearErrors) {
  auto not_json = ParseVerboseJson("<html>Bad Gateway</html>");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().code, ErrorCode::kInvalidJson);
  auto no_text = ParseVerboseJson(R"({"error": {"message": "x"}})");
  ASSERT_FALSE(no_text.ok());
  EXPECT_EQ(no_text.error().code, ErrorCode::kInvalidArgument);
  auto bad_segment = ParseVerboseJson(R"({"text": "a", "segments": [3]})");
  ASSERT_FALSE(bad_segment.ok());
}

TEST(FormatTest, EmptyTranscriptRendersEmptyDocuments) {
  Transcript t;
  t.language = "fr";
  EXPECT_EQ(ToTxt(t), "");
  EXPECT_EQ(ToText(t), "\n");
  EXPECT_EQ(ToSrt(t), "");
  EXPECT_EQ(ToVtt(t), "WEBVTT\n\n");
  EXPECT_EQ(ToJson(t).dump(), R"({"text":""})");
  nlohmann::json v = ToVerboseJson(t);
  EXPECT_EQ(v["segments"], nlohmann::json::array());
  EXPECT_EQ(v["words"], nlohmann::json::array());
  EXPECT_EQ(v["text"], "");
  auto back = FromVerboseJson(v);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->segments.empty());
}

TEST(FormatTest, FormatNamesAndLanguages) {
  EXPECT_EQ(*ParseOutputFormat("verbose_json"), OutputFormat::kVerboseJson);
  EXPECT_EQ(*ParseOutputFormat("vtt"), OutputFormat::kVtt);
  auto bad = ParseOutputFormat("docx");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("docx"), std::string::npos);
  EXPECT_EQ(LanguageName("fr"), "french");
  EXPECT_EQ(LanguageCode("French"), "fr");
  EXPECT_EQ(LanguageCode("fr"), "fr");
  EXPECT_EQ(LanguageCode("cantonese"), "yue");
  EXPECT_EQ(LanguageName("xx"), "xx");
}

}  // namespace
}  // namespace crm::asr
