// Stored meeting reports (migration 0011) and the job that generates them.
//
// Contract:
// - A report belongs to a recording's client (and meeting); every call is scoped by the caller's
//   firm and a foreign id is kNotFound, exactly like a missing one.
// - Create() inserts the row as 'generating' and the report job fills it ('draft') or records
//   why it could not ('failed'), in the job's completing transaction.
// - Users edit a draft (summary, decisions, actions, excerpts, title) with an optional expected
//   version (kConflict when stale), then mark it reviewed; a reviewed report is frozen.
// - Accepted action items become CRM tasks linked to the client and meeting, each at most once.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/principal.h"
#include "common/result.h"
#include "documents/openai_report.h"
#include "documents/report.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"
#include "storage/pages.h"
#include "storage/store.h"

namespace crm::documents {

inline constexpr const char* kReportJobKind = "report.generate";

class ReportStore {
 public:
  explicit ReportStore(storage::Store& store) : store_(store) {}

  // A 'generating' report of the firm's recording `recording_id` (kNotFound otherwise).
  Result<nlohmann::json> Create(const Principal& who, const std::string& recording_id,
                                const std::string& mode);
  Result<nlohmann::json> Get(const std::string& firm_id, const std::string& id);
  Result<storage::Row> Row(const std::string& firm_id, const std::string& id);
  // Newest first, `limit` per page after `cursor`; filtered on meeting and/or recording.
  Result<storage::Page> List(const std::string& firm_id, int limit, const std::string& cursor,
                             const std::optional<std::string>& meeting_id,
                             const std::optional<std::string>& recording_id);
  // Replaces the editable parts of a draft with those present in `edits`.
  Result<nlohmann::json> Edit(const Principal& who, const std::string& id,
                              const nlohmann::json& edits, std::optional<int64_t> expected);
  Result<nlohmann::json> MarkReviewed(const Principal& who, const std::string& id,
                                      std::optional<int64_t> expected);
  Status SetJob(const std::string& firm_id, const std::string& id, const std::string& job_id);

  // The task already made from action `index`, if any.
  Result<std::optional<std::string>> TaskOfAction(const std::string& firm_id, const std::string& id,
                                                  int index);
  Status LinkTask(const std::string& firm_id, const std::string& id, int index,
                  const std::string& task_id);

  // What the generator needs: header facts and the current transcript (names for labels).
  Result<ReportInput> InputFor(const std::string& firm_id, const std::string& report_id);

 private:
  storage::Store& store_;
};

nlohmann::json ReportRowToJson(const storage::Row& row);

struct ReportJobOptions {
  std::string mode = "extractive";  // SUMMARY_MODE: extractive | openai
  ExtractiveOptions extractive;
  OpenAiReportOptions openai;  // its progress is the job's
};

class ReportJob {
 public:
  ReportJob(storage::Store& store, ReportStore& reports, ReportJobOptions options)
      : store_(store), reports_(reports), options_(std::move(options)) {}
  Result<std::string> Enqueue(jobs::JobQueue& queue, const std::string& firm_id,
                              const std::string& report_id);
  jobs::Handler Handler();

 private:
  Result<jobs::ResultWriter> Run(jobs::JobContext& ctx);
  storage::Store& store_;
  ReportStore& reports_;
  ReportJobOptions options_;
};

}  // namespace crm::documents
