// Documents of a client's file (optionally of a meeting), their versions and the text of their
// pages (migration 0010).
//
// Contract:
// - Every call takes the caller's firm; a document of another firm is kNotFound, exactly like a
//   missing one, and so is a foreign client or meeting given as owner.
// - A version row and its file appear together or not at all: the caller stores the file at its
//   final key (DocumentUploadKey: documents/<firm>/<document>/<upload>) before the row exists,
//   and deletes it when Create()/AddVersion() fail — no copy of the file inside the database
//   transaction (blobs/README.md). Replacing a file adds a version; older versions stay
//   downloadable until the document is deleted.
// - Edits (rename, replace) take an optional expected version: a stale one is kConflict.
// - Every write is audited in its own transaction.
// - Delete() removes the rows (versions and pages follow), then every version's file.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "blobs/blob_store.h"
#include "common/principal.h"
#include "common/result.h"
#include "storage/pages.h"
#include "storage/store.h"

namespace crm::documents {

struct DocumentOwner {
  std::string client_id;
  std::optional<std::string> meeting_id;
};

// The facts of one stored file (one version).
struct DocumentFile {
  std::string original_name;
  std::string content_type;  // sniffed from the bytes
  int64_t size_bytes = 0;
  std::string sha256;
};

// One page of extracted text (page numbers from 1).
struct DocumentPage {
  int page = 1;
  std::string text;
};

// Why a document's text is not searchable; code is a stable machine name.
struct TextFailure {
  std::string code;     // "unsupported_type", "unreadable_pdf", "encrypted_pdf", "no_text", ...
  std::string message;  // French / English
};

// A name given by a user or taken from an upload: trimmed, 1..255 bytes of UTF-8 without control
// characters or path separators (a client's "../x" becomes "x"). kInvalidArgument naming `field`.
Result<std::string> CleanDocumentName(const std::string& raw, const std::string& field = "name");

// documents/<firm>/<document>/<a new id>: where one uploaded file of the document is stored.
std::string DocumentUploadKey(const std::string& firm_id, const std::string& document_id);

class DocumentStore {
 public:
  DocumentStore(storage::Store& store, blobs::BlobStore& blobs) : store_(store), blobs_(blobs) {}

  Result<DocumentOwner> OwnerOfClient(const std::string& firm_id, const std::string& client_id);
  Result<DocumentOwner> OwnerOfMeeting(const std::string& firm_id, const std::string& meeting_id);

  // Document `id` (a NewId()) with `file`, already stored at `blob_key`, as version 1.
  Result<nlohmann::json> Create(const Principal& who, const DocumentOwner& owner,
                                const std::string& name, const DocumentFile& file,
                                const std::string& id, const std::string& blob_key);
  // `file`, already stored at `blob_key`, becomes the next version and the current one; its
  // text is pending again.
  Result<nlohmann::json> AddVersion(const Principal& who, const std::string& id,
                                    const DocumentFile& file, const std::string& blob_key,
                                    std::optional<int64_t> expected_version);
  Result<nlohmann::json> Rename(const Principal& who, const std::string& id,
                                const std::string& name, std::optional<int64_t> expected_version);
  Status Delete(const Principal& who, const std::string& id);

  Result<nlohmann::json> Get(const std::string& firm_id, const std::string& id);
  Result<storage::Row> Row(const std::string& firm_id, const std::string& id);
  // Newest first, `limit` per page after `cursor`; filtered on client and/or meeting.
  Result<storage::Page> List(const std::string& firm_id, int limit, const std::string& cursor,
                             const std::optional<std::string>& client_id,
                             const std::optional<std::string>& meeting_id);
  Result<std::vector<nlohmann::json>> Versions(const std::string& firm_id, const std::string& id);
  Result<storage::Row> VersionRow(const std::string& firm_id, const std::string& id,
                                  int64_t number);
  Status SetJob(const std::string& firm_id, const std::string& id, const std::string& job_id);

  // Inside the extraction job's completing transaction: the pages of version `number` replace
  // the document's text (searchable), or the failure marks it not searchable. A document
  // deleted or replaced meanwhile is left alone (a newer job handles the new version).
  static Status WriteText(storage::Connection& c, const std::string& firm_id, const std::string& id,
                          int64_t number, const std::vector<DocumentPage>& pages);
  static Status WriteTextFailure(storage::Connection& c, const std::string& firm_id,
                                 const std::string& id, int64_t number, const TextFailure& failure);

 private:
  storage::Store& store_;
  blobs::BlobStore& blobs_;
};

nlohmann::json DocumentToJson(const storage::Row& row);

}  // namespace crm::documents
