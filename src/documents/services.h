// What the document and report routes and their workers share: the stores of documents and
// reports, the blob store, the job queue and the jobs (text extraction, report generation). Built once by cli/subsystems.cpp.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "blobs/blob_store.h"
#include "config/config.h"
#include "documents/document_job.h"
#include "documents/document_store.h"
#include "documents/export_job.h"
#include "documents/report_store.h"
#include "jobs/job_queue.h"
#include "pipeline/upload_sink.h"

namespace crm::documents {

struct DocumentServices {
  const config::Config& config;
  blobs::BlobStore& blobs;
  jobs::JobQueue& queue;
  DocumentStore& documents;
  DocumentTextJob& text_job;
  ReportStore& reports;
  ReportJob& report_job;
  ExportService& exports;
  ZipLimits zip_limits;
};

// A finished upload becomes a document (or, with `replace_id`, the next version of one): its
// type sniffed from the bytes (a hostile archive is refused: 415 hostile_file, nothing kept),
// the file moved into the blob store with its row, its text extraction queued. The temporary
// file is gone afterwards whatever happens. `name`: the multipart field, else the file's name.
Result<nlohmann::json> AcceptDocument(DocumentServices& s, const Principal& who,
                                      const DocumentOwner& owner, pipeline::UploadedFile& file);
Result<nlohmann::json> AcceptDocumentVersion(DocumentServices& s, const Principal& who,
                                             const std::string& document_id,
                                             pipeline::UploadedFile& file,
                                             std::optional<int64_t> expected_version);

}  // namespace crm::documents
