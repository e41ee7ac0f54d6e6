// The text-extraction job of a document version (kind kDocumentTextJobKind, dedupe key
// "document_text:<document id>:<version>"), queued when a file is stored or replaced.
//
// The handler reads the version's file from the blob store, extracts its text outside any
// transaction (text_extraction.h), then writes the pages, or the reason they are missing, in the
// job's completing transaction, which checks the lease: a retried job never indexes a page twice.
// A file whose text cannot be read is not a failed job: the document is marked not searchable
// and the job succeeds. Only what may pass on a retry (a missing file, a missing pdftotext) fails
// the attempt.
#pragma once

#include <string>

#include "blobs/blob_store.h"
#include "documents/text_extraction.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"
#include "storage/store.h"

namespace crm::documents {

inline constexpr const char* kDocumentTextJobKind = "document.extract_text";

class DocumentTextJob {
 public:
  DocumentTextJob(storage::Store& store, blobs::BlobStore& blobs, ExtractionOptions options)
      : store_(store), blobs_(blobs), options_(std::move(options)) {}

  // Queues the extraction of version `number` and records the job on the document.
  Result<std::string> Enqueue(jobs::JobQueue& queue, const std::string& firm_id,
                              const std::string& document_id, int64_t number);
  jobs::Handler Handler();

 private:
  Result<jobs::ResultWriter> Run(jobs::JobContext& ctx);
  storage::Store& store_;
  blobs::BlobStore& blobs_;
  ExtractionOptions options_;
};

}  // namespace crm::documents
