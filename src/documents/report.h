// Meeting reports (compte-rendu) built from a transcript: header, summary, decisions, action
// items (who, what, by when) and key excerpts whose timestamps link back to the audio.
//
// ExtractiveReport is the offline method (SUMMARY_MODE=extractive): it never writes a sentence
// of its own, it chooses the transcript's.
// - Sentences are cut from the segments (with their times interpolated inside the segment) and
//   reduced to folded content words (French stop-words removed, English ones too).
// - Each sentence is scored by TF-IDF cosine similarity with the whole meeting (how central it
//   is) and the summary is chosen greedily by maximal marginal relevance (central, but unlike
//   what is already chosen), with speaker balance: a speaker cannot take more than their share of
//   the speaking time plus one sentence, and every speaker with a real share gets one.
// - Action items are sentences with a commitment or request ("il faut", "je vous envoie",
//   "pourriez-vous", "nous allons", ...): "je" is the speaker, "vous" the other party; a
//   deadline ("avant le 15 janvier", "d'ici vendredi", "demain", "le 3/02") is resolved to a
//   date from the meeting's date when possible and kept as said otherwise.
// - Decisions are sentences with a decision phrase ("nous avons décidé", "il est convenu",
//   "on retient", "c'est validé", ...).
// - Key excerpts are the most central segments not already in the summary, in time order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace crm::documents {

struct ReportSegment {
  std::string id;
  double start = 0;
  double end = 0;
  std::string speaker;  // the name when known, else the label; empty when unknown
  std::string text;
};

struct ReportInput {
  std::string firm_name;
  std::string client_name;
  std::string meeting_title;
  std::string meeting_date;  // ISO-8601 (the meeting's start, else the recording's date)
  std::vector<std::string> participants;
  std::string recording_id;
  std::string language = "fr";
  std::vector<ReportSegment> segments;
};

struct ReportSentence {
  std::string text;
  std::string speaker;
  double start = 0;
  double end = 0;
  std::string segment_id;
};

struct ActionItem {
  std::string who;   // a participant's name, or "" when unclear
  std::string what;  // the sentence, from its trigger on
  std::optional<std::string> due_date;  // YYYY-MM-DD when resolved
  std::string due_text;                 // as said ("avant le 15 janvier"), "" when none
  double start = 0;
  std::string segment_id;
};

struct Report {
  std::string mode;  // "extractive" or "openai"
  std::string title;
  std::string firm_name, client_name, meeting_date;
  std::vector<std::string> participants;
  std::string recording_id;
  std::vector<ReportSentence> summary;
  std::vector<ReportSentence> decisions;
  std::vector<ActionItem> actions;
  std::vector<ReportSentence> excerpts;
};

struct ExtractiveOptions {
  int min_summary_sentences = 3;
  int max_summary_sentences = 10;
  int sentences_per_summary_sentence = 12;  // one summary sentence per 12 of the transcript
  double mmr_lambda = 0.7;                  // centrality vs novelty
  int excerpts = 4;
  int max_actions = 20;
  int max_decisions = 10;
};

Result<Report> ExtractiveReport(const ReportInput& input, const ExtractiveOptions& options = {});

// A report's header from its input (title, firm, client, date, participants, recording), with
// no content yet; every generator starts from it.
Report ReportHeader(const ReportInput& input, std::string mode);

nlohmann::json ReportToJson(const Report& report);
// The inverse, for reports stored as JSON and edited by users; kInvalidArgument naming fields.
Result<Report> ReportFromJson(const nlohmann::json& j);

// What the DOCX templates see of a report (its JSON plus display forms: date_text "1 décembre
// 2026", participants_text, has_actions, each action's due, each excerpt's time "mm:ss").
nlohmann::json ReportTemplateContext(const nlohmann::json& report);
// "1 décembre 2026" from "2026-12-01..."; the input unchanged when it is not a date.
std::string FrenchDate(const std::string& iso);
// "mm:ss", or "h:mm:ss" from an hour on.
std::string ClockTime(double seconds);

// Exposed for tests: a deadline phrase in `sentence` resolved against `meeting_date`
// ("YYYY-MM-DD..."); the phrase as said in *said.
std::optional<std::string> ResolveDeadline(const std::string& sentence,
                                           const std::string& meeting_date, std::string* said);

}  // namespace crm::documents
