#include "documents/services.h"

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

// Moves the upload under a temporary key; the store moves it to its final key with the row.
Result<std::string> Stage(DocumentServices& s, pipeline::UploadedFile& file) {
  std::string temp_key = blobs::NewTemporaryKey();
  CRM_TRY(s.blobs.Put(temp_key, file.path()));
  file.Release();
  return temp_key;
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
  CRM_ASSIGN_OR_RETURN(std::string temp_key, Stage(s, file));
  auto created = s.documents.Create(who, owner, name, f, temp_key);
  if (!created.ok()) {
    (void)s.blobs.Delete(temp_key);
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
  CRM_ASSIGN_OR_RETURN(std::string temp_key, Stage(s, file));
  auto updated = s.documents.AddVersion(who, document_id, f, temp_key, expected_version);
  if (!updated.ok()) {
    (void)s.blobs.Delete(temp_key);
    return updated.take_error();
  }
  QueueText(s, who.firm_id, *updated);
  auto out = s.documents.Get(who.firm_id, document_id);
  return out.ok() ? out : updated;
}

}  // namespace crm::documents
