// Exports: a meeting report or a transcript rendered into the firm's DOCX template (or the
// default one) and, for PDF, converted (pdf_converter.h), as a job (kind kExportJobKind). The
// result becomes a document of the client's file (and meeting), searchable like any other.
//
// Firms' templates (one per kind, migration 0012) are checked when uploaded: a DOCX that the
// renderer fills without error, under SafeZip's limits.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "blobs/blob_store.h"
#include "common/principal.h"
#include "documents/document_job.h"
#include "documents/document_store.h"
#include "documents/pdf_converter.h"
#include "documents/report_store.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"
#include "storage/store.h"

namespace crm::documents {

inline constexpr const char* kExportJobKind = "document.export";

struct ExportOptions {
  std::string tmp_dir;  // DATA_DIR/tmp
  PdfOptions pdf;
};

class ExportService {
 public:
  ExportService(storage::Store& store, blobs::BlobStore& blobs, jobs::JobQueue& queue,
                DocumentStore& documents, DocumentTextJob& text_job, ExportOptions options)
      : store_(store),
        blobs_(blobs),
        queue_(queue),
        documents_(documents),
        text_job_(text_job),
        options_(std::move(options)) {}

  // source "report" (a report id) or "transcript" (a recording id); format "docx" or "pdf".
  // kNotFound when the source is not the firm's; the export's JSON (status "queued") otherwise.
  Result<nlohmann::json> Request(const Principal& who, const std::string& source,
                                 const std::string& source_id, const std::string& format);
  Result<nlohmann::json> Get(const std::string& firm_id, const std::string& id);

  // The firm's template of `kind` ("report", "transcript"), or the default one, as a local file
  // path valid until *cleanup is removed (a temporary copy of the default).
  Result<std::string> TemplatePath(const std::string& firm_id, const std::string& kind,
                                   std::string* cleanup);
  // Checks and stores an uploaded template (the file at `path`), replacing the previous one.
  Status SetTemplate(const Principal& who, const std::string& kind, const std::string& path,
                     const std::string& original_name, int64_t size, const std::string& sha256);
  Status ResetTemplate(const Principal& who, const std::string& kind);

  jobs::Handler Handler();

 private:
  Result<jobs::ResultWriter> Run(jobs::JobContext& ctx);
  struct Rendered {
    DocumentOwner owner;
    std::string name;
    nlohmann::json context;
  };
  Result<Rendered> Prepare(const std::string& firm, const std::string& source,
                           const std::string& source_id);

  storage::Store& store_;
  blobs::BlobStore& blobs_;
  jobs::JobQueue& queue_;
  DocumentStore& documents_;
  DocumentTextJob& text_job_;
  ExportOptions options_;
};

}  // namespace crm::documents
