// The extractive compte-rendu on a French meeting: the summary chooses central sentences from
// every speaker, commitments become action items with who and a resolved deadline, decisions are
// found, excerpts carry timestamps into the audio.
#include <gtest/gtest.h>

#include "documents/openai_report.h"
#include "documents/report.h"

namespace crm::documents {
namespace {

ReportInput Meeting() {
  ReportInput in;
  in.firm_name = "Cabinet Dupont & Associés";
  in.client_name = "Mme Hélène Lefèvre";
  in.meeting_title = "Succession Lefèvre";
  in.meeting_date = "2026-12-01T09:00:00Z";
  in.participants = {"Maître Dupont", "Hélène Lefèvre"};
  in.recording_id = "REC1";
  const char* lines[][2] = {
      {"Maître Dupont", "Bonjour Madame Lefèvre, merci d'être venue."},
      {"Hélène Lefèvre", "Bonjour Maître."},
      {"Maître Dupont",
       "Nous sommes réunis pour la succession de votre père et le partage de la maison de "
       "Quimper."},
      {"Hélène Lefèvre",
       "Mon frère conteste l'estimation de la maison de Quimper faite par le notaire."},
      {"Maître Dupont", "D'accord."},
      {"Maître Dupont",
       "Il faut une nouvelle estimation de la maison par un expert immobilier indépendant."},
      {"Hélène Lefèvre", "Euh, oui."},
      {"Hélène Lefèvre",
       "Le notaire attend aussi l'acte de donation signé en 2015 pour la succession."},
      {"Maître Dupont", "Je vous envoie le projet de lettre au notaire avant le 15 décembre."},
      {"Maître Dupont", "Pourriez-vous retrouver l'acte de donation de 2015 d'ici vendredi ?"},
      {"Hélène Lefèvre", "Oui, je le cherche chez moi."},
      {"Maître Dupont",
       "Nous avons décidé de proposer une médiation à votre frère avant toute procédure."},
      {"Hélène Lefèvre",
       "La médiation me convient si mon frère accepte l'expert immobilier pour la maison."},
      {"Maître Dupont", "Très bien, au revoir Madame."}};
  double t = 0;
  int i = 0;
  for (auto& l : lines) {
    double len = 2 + std::string(l[1]).size() / 15.0;
    in.segments.push_back({"S" + std::to_string(i++), t, t + len, l[0], l[1]});
    t += len + 0.5;
  }
  return in;
}

TEST(ExtractiveReport, SummaryIsCentralBalancedAndInTimeOrder) {
  auto r = ExtractiveReport(Meeting());
  ASSERT_TRUE(r.ok());
  ASSERT_GE(r->summary.size(), 3u);
  std::set<std::string> speakers;
  for (size_t i = 0; i < r->summary.size(); ++i) {
    speakers.insert(r->summary[i].speaker);
    if (i > 0) EXPECT_LE(r->summary[i - 1].start, r->summary[i].start);
    // Fillers never make the summary.
    EXPECT_NE(r->summary[i].text, "D'accord.");
    EXPECT_NE(r->summary[i].text, "Euh, oui.");
    EXPECT_NE(r->summary[i].text, "Bonjour Maître.");
  }
  EXPECT_EQ(speakers.size(), 2u);
  bool house = false;
  for (auto& s : r->summary) house = house || s.text.find("Quimper") != std::string::npos;
  EXPECT_TRUE(house);
  EXPECT_EQ(r->title, "Compte rendu — Succession Lefèvre");
  EXPECT_EQ(r->participants.size(), 2u);
}

TEST(ExtractiveReport, ActionItemsHaveWhoWhatAndWhen) {
  auto r = ExtractiveReport(Meeting());
  ASSERT_TRUE(r.ok());
  ASSERT_GE(r->actions.size(), 3u);
  const ActionItem* letter = nullptr;
  const ActionItem* deed = nullptr;
  const ActionItem* expert = nullptr;
  for (auto& a : r->actions) {
    if (a.what.find("projet de lettre") != std::string::npos) letter = &a;
    if (a.what.find("Pourriez-vous") != std::string::npos) deed = &a;
    if (a.what.find("Il faut") != std::string::npos) expert = &a;
  }
  ASSERT_NE(letter, nullptr);
  EXPECT_EQ(letter->who, "Maître Dupont");  // "je vous envoie": the speaker
  EXPECT_EQ(letter->due_date, "2026-12-15");
  EXPECT_EQ(letter->due_text, "avant le 15 decembre");
  ASSERT_NE(deed, nullptr);
  EXPECT_EQ(deed->who, "Hélène Lefèvre");   // "pourriez-vous": the other party
  EXPECT_EQ(deed->due_date, "2026-12-04");  // 1 December 2026 is a Tuesday; next Friday
  ASSERT_NE(expert, nullptr);
  EXPECT_EQ(expert->who, "");
  EXPECT_FALSE(expert->due_date.has_value());
  EXPECT_GT(letter->start, 0);
}

TEST(ExtractiveReport, DecisionsAndExcerptsLinkToTheAudio) {
  auto r = ExtractiveReport(Meeting());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->decisions.size(), 1u);
  EXPECT_NE(r->decisions[0].text.find("médiation"), std::string::npos);
  ASSERT_FALSE(r->excerpts.empty());
  nlohmann::json j = ReportToJson(*r);
  std::string url = j["excerpts"][0]["audio_url"];
  EXPECT_EQ(url.rfind("/api/recordings/REC1/audio#t=", 0), 0u);
  // Round trip through the stored form.
  auto back = ReportFromJson(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->actions.size(), r->actions.size());
  EXPECT_EQ(ReportToJson(*back), j);
}

TEST(ExtractiveReport, DeadlinesResolvedFromTheMeetingDate) {
  std::string said;
  EXPECT_EQ(ResolveDeadline("à rendre avant le 3 janvier", "2026-12-01", &said), "2027-01-03");
  EXPECT_EQ(ResolveDeadline("pour le 1er mars 2027", "2026-12-01", &said), "2027-03-01");
  EXPECT_EQ(ResolveDeadline("je vous appelle demain", "2026-12-31", &said), "2027-01-01");
  EXPECT_EQ(ResolveDeadline("d'ici la fin du mois", "2026-02-10", &said), "2026-02-28");
  EXPECT_EQ(ResolveDeadline("sous huit jours", "2026-12-01", &said), "2026-12-09");
  EXPECT_EQ(ResolveDeadline("avant le 12/01", "2026-12-01", &said), "2027-01-12");
  EXPECT_EQ(ResolveDeadline("avant le 31 février", "2026-12-01", &said), std::nullopt);
  EXPECT_EQ(ResolveDeadline("rien de prévu", "2026-12-01", &said), std::nullopt);
  EXPECT_EQ(said, "");
}

TEST(ExtractiveReport, EmptyTranscriptIsAClearError) {
  ReportInput in = Meeting();
  in.segments.clear();
  auto r = ExtractiveReport(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

// SUMMARY_MODE=openai: the transcript is cut at segment boundaries, and a model's answer is read
// strictly (exact members, item shapes, references it was given, real dates).
TEST(OpenAiReport, ChunksFollowSegmentBoundariesWithinTheLimit) {
  ReportInput in = Meeting();
  auto one = ChunkSegments(in, 1000000);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].size(), in.segments.size());
  auto many = ChunkSegments(in, 300);
  ASSERT_GT(many.size(), 3u);
  size_t next = 0;
  for (const auto& chunk : many) {
    ASSERT_FALSE(chunk.empty());
    for (size_t i : chunk) EXPECT_EQ(i, next++) << "every segment once, in order";
  }
  EXPECT_EQ(next, in.segments.size());
  EXPECT_EQ(SegmentRef(0), "S1");
}

TEST(OpenAiReport, AnswersAreReadStrictly) {
  const std::set<std::string> refs = {"S1", "S2", "S3"};
  auto ok = ParseModelReport(R"({"summary": [{"text": " Succession ", "segment": "S1"}],
      "decisions": [], "excerpts": [{"segment": "S3"}],
      "actions": [{"who": "Maître Dupont", "what": "Envoyer la lettre", "due_date": "2026-12-15",
                   "due_text": "avant le 15 décembre", "segment": "S2"},
                  {"who": "", "what": "Trouver l'acte", "due_date": null, "due_text": "",
                   "segment": "S2"}]})",
                             refs);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->summary[0].text, "Succession");
  EXPECT_EQ(ok->actions[0].due_date, "2026-12-15");
  EXPECT_FALSE(ok->actions[1].due_date.has_value());
  EXPECT_EQ(ok->excerpts[0].ref, "S3");
  const char* bad[] = {
      "",
      "{\"summary\": [",
      "[]",
      R"({"summary": [], "decisions": [], "actions": []})",
      R"({"summary": [], "decisions": [], "actions": [], "excerpts": [], "title": "x"})",
      R"({"summary": [{"text": "x", "segment": "S9"}], "decisions": [], "actions": [], "excerpts": []})",
      R"({"summary": [{"text": "", "segment": "S1"}], "decisions": [], "actions": [], "excerpts": []})",
      R"({"summary": [{"text": "x", "segment": "S1", "start": 12.5}], "decisions": [], "actions": [], "excerpts": []})",
      R"({"summary": {}, "decisions": [], "actions": [], "excerpts": []})",
      R"({"summary": [], "decisions": [], "excerpts": [], "actions": [{"who": "", "what": "x",
          "due_date": "2026-02-30", "due_text": "", "segment": "S1"}]})",
      R"({"summary": [], "decisions": [], "excerpts": [], "actions": [{"who": "", "what": "x",
          "due_text": "", "segment": "S1"}]})",
      R"({"summary": [], "decisions": [], "excerpts": [{"segment": 1}], "actions": []})",
  };
  for (const char* answer : bad) {
    auto r = ParseModelReport(answer, refs);
    ASSERT_FALSE(r.ok()) << answer;
    EXPECT_EQ(r.error().api_code, "summary_invalid_answer") << answer;
    EXPECT_EQ(r.error().details.value("retryable", false), true) << answer;
  }
}

}  // namespace
}  // namespace crm::documents
