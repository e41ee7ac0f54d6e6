#include "domain/transcript_search.h"

#include <gtest/gtest.h>

#include "domain/transcripts_test_fixture.h"

namespace crm::domain {
namespace {

using TranscriptSearchTest = TranscriptsFixture;

TEST(SearchTermsTest, FoldsSplitsAndDeduplicates) {
  EXPECT_EQ(SearchTerms("  Hélène, HÉLÈNE l'Avocate! cœur"),
            (std::vector<std::string>{"helene", "l", "avocate", "coeur"}));
  EXPECT_TRUE(SearchTerms(" ,;' \"*() ").empty());
  EXPECT_EQ(SearchTerms("a b c d e f g h i j").size(), kMaxSearchTerms);
  EXPECT_EQ(SearchTerms("NEAR(\"x\" OR y*)"), (std::vector<std::string>{"near", "x", "or", "y"}));
}

TEST(HighlightSnippetTest, MarksEveryMatchingWordAndEscapesTheRest) {
  auto terms = SearchTerms("helene");
  EXPECT_EQ(HighlightSnippet("Hélène & <b>Hélène</b>’s", terms),
            "<mark>Hélène</mark> &amp; &lt;b&gt;<mark>Hélène</mark>&lt;/b&gt;’s");
  EXPECT_EQ(HighlightSnippet("l'avocate", SearchTerms("avoc")), "l&#39;<mark>avocate</mark>");
  EXPECT_EQ(HighlightSnippet("rien", terms), "rien");
}

TEST(HighlightSnippetTest, CutsLongTextsAroundTheFirstMatchAtWordBoundaries) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "mot" + std::to_string(i) + " ";
  text += "Hélène";
  for (int i = 40; i < 80; ++i) text += " mot" + std::to_string(i);
  std::string s = HighlightSnippet(text, SearchTerms("helene"), 60);
  EXPECT_TRUE(s.starts_with("…mot")) << s;
  EXPECT_TRUE(s.ends_with("…")) << s;
  EXPECT_NE(s.find("<mark>Hélène</mark>"), std::string::npos);
  EXPECT_LT(s.size(), 100u);
  EXPECT_EQ(s.find(" …"), std::string::npos);  // whole words only
}

TEST(MatchesAllTermsTest, NeedsEveryTermAsAWordPrefix) {
  EXPECT_TRUE(MatchesAllTerms("Maître Hélène Dupont", SearchTerms("dup HEL")));
  EXPECT_FALSE(MatchesAllTerms("Maître Hélène Dupont", SearchTerms("dupont martin")));
  EXPECT_FALSE(MatchesAllTerms("Maître Hélène Dupont", SearchTerms("lene")));  // not a prefix
}

TEST_F(TranscriptSearchTest, FindsAccentedWordsWhateverTheCaseAndAccents) {
  std::string rec = AddRecording(firm_a_, client_a_, meeting_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  for (const char* q : {"helene", "HELENE", "Hélène", "hélene", "succession helene"}) {
    auto page = Search(*store_, firm_a_, q);
    ASSERT_TRUE(page.ok()) << page.error().message;
    const SearchHit* hit = nullptr;
    for (const auto& h : page->hits)
      if (h.type == "transcript") hit = &h;
    ASSERT_NE(hit, nullptr) << q;
    EXPECT_EQ(hit->recording_id, rec);
    EXPECT_EQ(hit->client_id, client_a_);
    EXPECT_EQ(hit->client_name, "Hélène Martin");
    EXPECT_EQ(hit->meeting_id, meeting_a_);
    EXPECT_EQ(hit->meeting_title, "Rendez-vous succession");
    EXPECT_DOUBLE_EQ(*hit->start, 2.5);
    EXPECT_NE(hit->snippet.find("<mark>Hélène</mark>"), std::string::npos) << hit->snippet;
  }
}

TEST_F(TranscriptSearchTest, FindsClientAndMeetingNotesFirst) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto page = Search(*store_, firm_a_, "succession");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->hits.size(), 3u);
  EXPECT_EQ(page->hits[0].type, "client");
  EXPECT_EQ(page->hits[0].snippet, "<mark>Succession</mark> de sa tante à Annecy.");
  EXPECT_EQ(page->hits[1].type, "meeting");
  EXPECT_EQ(page->hits[1].meeting_id, meeting_a_);
  EXPECT_EQ(page->hits[2].type, "transcript");
  EXPECT_FALSE(page->hits[2].meeting_id.has_value());
  EXPECT_EQ(page->hits[2].snippet, "Je viens pour la <mark>succession</mark> d&#39;Hélène.");
}

TEST_F(TranscriptSearchTest, FollowsCorrectionsAndNeverCrossesFirms) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto seg = GetStoredTranscript(*store_, firm_a_, rec)->segments[2];
  ASSERT_TRUE(EditSegmentText(*store_, alice_, rec, seg.id, "Très bien, Maître Lefèvre.", 1).ok());
  auto found = Search(*store_, firm_a_, "lefevre");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->hits.size(), 1u);
  EXPECT_EQ(found->hits[0].segment_id, seg.id);
  EXPECT_TRUE(Search(*store_, firm_a_, "asseyez")->hits.empty());
  EXPECT_TRUE(Search(*store_, firm_b_, "lefevre")->hits.empty());
  EXPECT_TRUE(Search(*store_, firm_b_, "helene")->hits.empty());
}

TEST_F(TranscriptSearchTest, PagesThroughResults) {
  std::string rec = AddRecording(firm_a_, client_a_);
  asr::Transcript t;
  for (int i = 0; i < 7; ++i) {
    asr::Segment s;
    s.start = i;
    s.end = i + 1;
    s.text = "Dossier numéro " + std::to_string(i);
    t.segments.push_back(s);
  }
  ASSERT_TRUE(Save(firm_a_, rec, t).ok());
  std::set<std::string> seen;
  SearchOptions o;
  o.limit = 3;
  for (int page_no = 0; page_no < 3; ++page_no) {
    o.offset = page_no * 3;
    auto page = Search(*store_, firm_a_, "dossier numero", o);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->more, page_no < 2);
    for (const auto& h : page->hits) seen.insert(*h.segment_id);
    if (page_no == 0) {
      EXPECT_DOUBLE_EQ(*page->hits[0].start, 6);  // newest first
    }
  }
  EXPECT_EQ(seen.size(), 7u);
}

TEST_F(TranscriptSearchTest, RejectsAQueryWithoutWords) {
  auto r = Search(*store_, firm_a_, " ?! ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().details["q"], "required");
}

}  // namespace
}  // namespace crm::domain
