#include "documents/services.h"

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "documents/sniff.h"

namespace crm::documents {

namespace {

Result<DocumentFile> Examine(DocumentServices& s, pipeline::UploadedFile& file) {
  if (file.size() == 0)
    return InvalidArgument("Le fichier est vide. / The file is empty.", {{"file", "empty"}});
  CRM_ASSIGN_OR_RETURN(Sniffed type, SniffFile(file.path(), s.zip_limits));
  DocumentFile f;
  f.original_name = file.filename;
  f.content_type = type.content_type;
  f.size_bytes = file.size();
  f.sha256 = file.sha256();
  return f;
}

// Stores the upload at its final key, before its row exists; the caller deletes it when the row
// cannot be written.
Result<std::string> Store(DocumentServices& s, pipeline::UploadedFile& file,
                          const std::string& firm, const std::string& document_id) {
  std::string key = DocumentUploadKey(firm, document_id);
  if (Status put = s.blobs.Put(key, file.path()); !put.ok()) {
    (void)s.blobs.Delete(key);
    return put.take_error();
  }
  file.Release();
  return key;
}

void QueueText(DocumentServices& s, const std::string& firm, const nlohmann::json& doc) {
  std::string id = doc["id"].get<std::string>();
  auto job = s.text_job.Enqueue(s.queue, firm, id, doc["current_version"].get<int64_t>());
  if (!job.ok())
    log::Error("document text extraction not queued",
               {{"document_id", id}, {"error", job.error().message}});
}

}  // namespace

Result<nlohmann::json> AcceptDocument(DocumentServices& s, const Principal& who,
                                      const DocumentOwner& owner, pipeline::UploadedFile& file) {
  std::string raw_name = file.fields.count("name") ? file.fields.at("name") : file.filename;
  if (Trim(raw_name).empty()) raw_name = "document";
  CRM_ASSIGN_OR_RETURN(std::string name,
                       CleanDocumentName(raw_name, file.fields.count("name") ? "name" : "file"));
  CRM_ASSIGN_OR_RETURN(DocumentFile f, Examine(s, file));
  const std::string id = NewId();
  CRM_ASSIGN_OR_RETURN(std::string key, Store(s, file, who.firm_id, id));
  auto created = s.documents.Create(who, owner, name, f, id, key);
  if (!created.ok()) {
    (void)s.blobs.Delete(key);
    return created.take_error();
  }
  QueueText(s, who.firm_id, *created);
  auto out = s.documents.Get(who.firm_id, (*created)["id"].get<std::string>());
  return out.ok() ? out : created;
}

Result<nlohmann::json> AcceptDocumentVersion(DocumentServices& s, const Principal& who,
                                             const std::string& document_id,
                                             pipeline::UploadedFile& file,
                                             std::optional<int64_t> expected_version) {
  CRM_TRY(s.documents.Row(who.firm_id, document_id));
  CRM_ASSIGN_OR_RETURN(DocumentFile f, Examine(s, file));
  CRM_ASSIGN_OR_RETURN(std::string key, Store(s, file, who.firm_id, document_id));
  auto updated = s.documents.AddVersion(who, document_id, f, key, expected_version);
  if (!updated.ok()) {
    (void)s.blobs.Delete(key);
    return updated.take_error();
  }
  QueueText(s, who.firm_id, *updated);
  auto out = s.documents.Get(who.firm_id, document_id);
  return out.ok() ? out : updated;
}

}  // namespace crm::documents
