// Meeting reports written by any OpenAI-compatible chat completions server (SUMMARY_MODE=openai):
// POST {OPENAI_BASE_URL}/chat/completions with model OPENAI_CHAT_MODEL, for OpenAI itself or a
// local LLM server speaking the same API.
//
// - The transcript is sent as numbered lines "[S12 03:25] Maître Dupont : …" (S12: the 12th
//   segment), cut into chunks of at most chunk_chars characters at segment boundaries; each
//   chunk is summarised on its own and, when there are several, the partial reports are merged
//   by one more request that only sees the partial items and their references.
// - The answer is structured JSON (response_format json_schema, strict; json_object for a server
//   that refuses json_schema) validated strictly: exactly summary, decisions, actions and
//   excerpts, each item of the expected shape and citing a reference the request contained.
//   An answer that is not JSON, has the wrong shape, cites an unknown reference or was cut short
//   (finish_reason "length") is asked again, like a 5xx, with the transcription client's retries
//   and backoff (asr/remote/openai_http.h); past them the report fails with a clear error.
// - The report has the extractive one's shape (report.h). Times, speakers and excerpt texts come
//   from our segments through the references: the model never supplies a time. A due date is
//   kept only as a real YYYY-MM-DD date; otherwise it is resolved from the deadline as said.
// - The API key goes in the Authorization header only, never into a log or a message.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/progress.h"
#include "common/result.h"
#include "documents/report.h"

namespace crm::documents {

struct OpenAiReportOptions {
  std::string base_url = "https://api.openai.com/v1";  // OPENAI_BASE_URL (includes /v1)
  std::string api_key;                                 // OPENAI_API_KEY; never logged
  std::string model = "gpt-4o-mini";                   // OPENAI_CHAT_MODEL
  double timeout_seconds = 120;                        // per request (OPENAI_CHAT_TIMEOUT)
  double connect_timeout_seconds = 30;
  int max_retries = 4;  // after the first attempt (OPENAI_CHAT_RETRIES)
  double initial_backoff_seconds = 1.0;
  double max_backoff_seconds = 60;
  int chunk_chars = 24000;  // transcript characters per request (SUMMARY_CHUNK_CHARS)
  int max_chunks = 200;     // longer transcripts are refused with a message naming the setting
  int max_summary = 10, max_decisions = 10, max_actions = 20, max_excerpts = 4;
  ProgressSink progress;
};

Result<Report> OpenAiReport(const ReportInput& input, const OpenAiReportOptions& options);

// Exposed for tests.
// "S<index + 1>" of a segment.
std::string SegmentRef(size_t index);
// The transcript's lines cut into chunks: indices of the segments of each chunk.
std::vector<std::vector<size_t>> ChunkSegments(const ReportInput& input, int chunk_chars);
// A model's report (the message content) checked against the references it may cite.
struct ModelItem {
  std::string text;  // summary, decision, action's what
  std::string ref;
  std::string who, due_text;
  std::optional<std::string> due_date;
};
struct ModelReport {
  std::vector<ModelItem> summary, decisions, actions, excerpts;
};
Result<ModelReport> ParseModelReport(const std::string& content, const std::set<std::string>& refs);

}  // namespace crm::documents
