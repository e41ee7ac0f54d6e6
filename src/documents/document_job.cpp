#include "documents/document_job.h"

#include <filesystem>

#include "common/ids.h"
#include "common/log.h"
#include "documents/document_store.h"

namespace crm::documents {

Result<std::string> DocumentTextJob::Enqueue(jobs::JobQueue& queue, const std::string& firm_id,
                                             const std::string& document_id, int64_t number) {
  jobs::EnqueueOptions eo;
  eo.dedupe_key = "document_text:" + document_id + ":" + std::to_string(number);
  CRM_ASSIGN_OR_RETURN(std::string job_id,
                       queue.Enqueue(kDocumentTextJobKind, firm_id,
                                     {{"document_id", document_id}, {"number", number}}, eo));
  CRM_TRY(store_.Exec("UPDATE documents SET job_id = ? WHERE firm_id = ? AND id = ? AND "
                      "current_version = ?",
                      {job_id, firm_id, document_id, number}));
  return job_id;
}

jobs::Handler DocumentTextJob::Handler() {
  return [this](jobs::JobContext& ctx) { return Run(ctx); };
}

Result<jobs::ResultWriter> DocumentTextJob::Run(jobs::JobContext& ctx) {
  const auto& p = ctx.payload();
  if (!ctx.job().firm_id || !p.contains("document_id") || !p["document_id"].is_string() ||
      !p.contains("number") || !p["number"].is_number_integer())
    return Error(ErrorCode::kInvalidArgument, "document job payload is incomplete");
  std::string firm = *ctx.job().firm_id;
  std::string id = p["document_id"].get<std::string>();
  int64_t number = p["number"].get<int64_t>();
  auto row = store_.QueryOne(
      "SELECT v.blob_key, v.content_type, d.current_version FROM document_versions v JOIN "
      "documents d ON d.id = v.document_id WHERE v.firm_id = ? AND v.document_id = ? AND "
      "v.number = ?",
      {firm, id, number});
  if (!row.ok()) return row.take_error();
  // Deleted or replaced meanwhile: nothing to index (the newer version has its own job).
  if (!*row || (*row)->Int("current_version") != number) return jobs::ResultWriter{};
  std::string key = (*row)->Text("blob_key"), type = (*row)->Text("content_type");
  // The extractors read a local file: a copy of the blob in tmp/, removed whatever happens.
  const std::string path = options_.tmp_dir + "/extract-" + RandomHex(8);
  CRM_TRY(blobs::CopyToFile(blobs_, key, path));
  struct Remove {
    std::string p;
    ~Remove() { std::error_code ec; std::filesystem::remove(p, ec); }
  } remove{path};
  ctx.ReportProgress(0.1, "extracting");
  ExtractionOptions o = options_;
  o.cancelled = [&ctx] { return ctx.Cancelled(); };
  CRM_ASSIGN_OR_RETURN(Extraction text, ExtractText(path, type, o));
  if (auto* failure = std::get_if<TextFailure>(&text)) {
    log::Info("document not searchable",
              {{"document_id", id}, {"number", number}, {"reason", failure->code}});
    TextFailure f = *failure;
    return jobs::ResultWriter([firm, id, number, f](storage::Connection& c) {
      return DocumentStore::WriteTextFailure(c, firm, id, number, f);
    });
  }
  auto pages = std::get<std::vector<DocumentPage>>(std::move(text));
  ctx.ReportProgress(0.9, "indexing");
  return jobs::ResultWriter([firm, id, number, pages = std::move(pages)](storage::Connection& c) {
    return DocumentStore::WriteText(c, firm, id, number, pages);
  });
}

}  // namespace crm::documents
