#include "documents/document_store.h"

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "domain/audit.h"
#include "storage/pages.h"

namespace crm::documents {

using nlohmann::json;

namespace {

constexpr size_t kMaxNameBytes = 255;
constexpr const char* kDocumentsTable = "documents";

Error DocumentNotFound() { return NotFound("Ce document est introuvable. / Document not found."); }

Error StaleVersion(int64_t current) {
  return Error(ErrorCode::kConflict,
               "Ce document a été modifié entre-temps ; rechargez-le puis recommencez. / The "
               "document was changed meanwhile; reload it and try again.",
               {{"version", current}}, "conflict");
}

storage::Value CreatedBy(const Principal& who) {
  return who.user_id.empty() ? storage::Value(storage::Null{}) : storage::Value(who.user_id);
}

}  // namespace

std::string DocumentUploadKey(const std::string& firm_id, const std::string& document_id) {
  return "documents/" + firm_id + "/" + document_id + "/" + NewId();
}

Result<std::string> CleanDocumentName(const std::string& raw, const std::string& field) {
  std::string name = raw;
  // Browsers may send a whole path ("C:\\Users\\x\\contrat.pdf"): keep the last part.
  if (auto cut = name.find_last_of("/\\"); cut != std::string::npos) name = name.substr(cut + 1);
  name = Trim(name);
  bool ok = !name.empty() && name.size() <= kMaxNameBytes && IsValidUtf8(name) && name != "." &&
            name != "..";
  for (unsigned char c : name) ok = ok && c >= 0x20 && c != 0x7F;
  if (!ok)
    return InvalidArgument(
        "Donnez au document un nom de 1 à 255 caractères, sans caractère de contrôle. / Give the "
        "document a name of 1 to 255 characters without control characters.",
        {{field, "invalid"}});
  return name;
}

json DocumentToJson(const storage::Row& row) {
  json text = {{"state", row.Text("text_state")},
               {"searchable", row.Text("text_state") == "searchable"},
               {"pages", row.IsNull("page_count") ? json(nullptr) : json(row.Int("page_count"))},
               {"error", nullptr}};
  if (!row.IsNull("text_error_code"))
    text["error"] = {{"code", row.Text("text_error_code")}, {"message", row.Text("text_error")}};
  return {{"id", row.Text("id")},
          {"client_id", row.Text("client_id")},
          {"meeting_id", row.IsNull("meeting_id") ? json(nullptr) : json(row.Text("meeting_id"))},
          {"name", row.Text("name")},
          {"content_type", row.Text("content_type")},
          {"size_bytes", row.Int("size_bytes")},
          {"sha256", row.Text("sha256")},
          {"current_version", row.Int("current_version")},
          {"text", text},
          {"job_id", row.IsNull("job_id") ? json(nullptr) : json(row.Text("job_id"))},
          {"download_url", "/api/documents/" + row.Text("id") + "/download"},
          {"created_at", row.Text("created_at")},
          {"updated_at", row.Text("updated_at")},
          {"version", row.Int("version")}};
}

Result<DocumentOwner> DocumentStore::OwnerOfClient(const std::string& firm_id,
                                                   const std::string& client_id) {
  CRM_ASSIGN_OR_RETURN(
      auto row,
      store_.QueryOne("SELECT id FROM clients WHERE firm_id = ? AND id = ?", {firm_id, client_id}));
  if (!row) return NotFound("Ce client est introuvable. / Client not found.");
  return DocumentOwner{client_id, std::nullopt};
}

Result<DocumentOwner> DocumentStore::OwnerOfMeeting(const std::string& firm_id,
                                                    const std::string& meeting_id) {
  CRM_ASSIGN_OR_RETURN(
      auto row, store_.QueryOne("SELECT client_id FROM meetings WHERE firm_id = ? AND id = ?",
                                {firm_id, meeting_id}));
  if (!row) return NotFound("Ce rendez-vous est introuvable. / Meeting not found.");
  return DocumentOwner{row->Text("client_id"), meeting_id};
}

Result<json> DocumentStore::Create(const Principal& who, const DocumentOwner& owner,
                                   const std::string& name, const DocumentFile& file,
                                   const std::string& id, const std::string& key) {
  const std::string& firm = who.firm_id;
  std::string now = NowIsoUtc();
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_TRY(
        c.Exec("INSERT INTO documents (id, firm_id, client_id, meeting_id, name, current_version, "
               "content_type, size_bytes, sha256, blob_key, created_by, created_at, updated_at) "
               "VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
               {id, firm, owner.client_id, storage::Opt(owner.meeting_id), name, file.content_type,
                file.size_bytes, file.sha256, key, CreatedBy(who), now, now}));
    CRM_TRY(
        c.Exec("INSERT INTO document_versions (document_id, number, firm_id, original_name, "
               "content_type, size_bytes, sha256, blob_key, created_by, created_at) "
               "VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
               {id, firm, file.original_name, file.content_type, file.size_bytes, file.sha256, key,
                CreatedBy(who), now}));
    CRM_TRY(domain::AuditIn(c, who, "document.created", "document", id,
                            {{"client_id", owner.client_id},
                             {"content_type", file.content_type},
                             {"size_bytes", file.size_bytes},
                             {"sha256", file.sha256}}));
    return OkStatus();
  }));
  return Get(firm, id);
}

Result<json> DocumentStore::AddVersion(const Principal& who, const std::string& id,
                                       const DocumentFile& file, const std::string& key,
                                       std::optional<int64_t> expected_version) {
  const std::string& firm = who.firm_id;
  std::string now = NowIsoUtc();
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto row,
                         c.QueryOne("SELECT current_version, version FROM documents WHERE "
                                    "firm_id = ? AND id = ?",
                                    {firm, id}));
    if (!row) return DocumentNotFound();
    if (expected_version && *expected_version != row->Int("version"))
      return StaleVersion(row->Int("version"));
    int64_t number = row->Int("current_version") + 1;
    CRM_TRY(
        c.Exec("INSERT INTO document_versions (document_id, number, firm_id, original_name, "
               "content_type, size_bytes, sha256, blob_key, created_by, created_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               {id, number, firm, file.original_name, file.content_type, file.size_bytes,
                file.sha256, key, CreatedBy(who), now}));
    // The old version's pages describe a file that is no longer current.
    CRM_TRY(c.Exec("DELETE FROM document_pages WHERE firm_id = ? AND document_id = ?", {firm, id}));
    CRM_TRY(c.Exec(
        "UPDATE documents SET current_version = ?, content_type = ?, size_bytes = ?, sha256 = ?, "
        "blob_key = ?, text_state = 'pending', text_error_code = NULL, text_error = NULL, "
        "page_count = NULL, job_id = NULL, updated_at = ?, version = version + 1 "
        "WHERE firm_id = ? AND id = ?",
        {number, file.content_type, file.size_bytes, file.sha256, key, now, firm, id}));
    CRM_TRY(domain::AuditIn(c, who, "document.version_added", "document", id,
                            {{"number", number},
                             {"content_type", file.content_type},
                             {"size_bytes", file.size_bytes},
                             {"sha256", file.sha256}}));
    return OkStatus();
  }));
  return Get(firm, id);
}

Result<json> DocumentStore::Rename(const Principal& who, const std::string& id,
                                   const std::string& name,
                                   std::optional<int64_t> expected_version) {
  const std::string& firm = who.firm_id;
  Status st = store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(
        auto row,
        c.QueryOne("SELECT name, version FROM documents WHERE firm_id = ? AND id = ?", {firm, id}));
    if (!row) return DocumentNotFound();
    if (expected_version && *expected_version != row->Int("version"))
      return StaleVersion(row->Int("version"));
    CRM_TRY(
        c.Exec("UPDATE documents SET name = ?, updated_at = ?, version = version + 1 "
               "WHERE firm_id = ? AND id = ?",
               {name, NowIsoUtc(), firm, id}));
    return domain::AuditIn(c, who, "document.renamed", "document", id,
                           {{"from", row->Text("name")}, {"to", name}});
  });
  CRM_TRY(st);
  return Get(firm, id);
}

Status DocumentStore::Delete(const Principal& who, const std::string& id) {
  std::vector<std::string> keys;
  Status st = store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne("SELECT name, sha256 FROM documents WHERE "
                                              "firm_id = ? AND id = ?",
                                              {who.firm_id, id}));
    if (!row) return DocumentNotFound();
    CRM_ASSIGN_OR_RETURN(auto versions,
                         c.Query("SELECT blob_key FROM document_versions WHERE firm_id = ? AND "
                                 "document_id = ?",
                                 {who.firm_id, id}));
    for (const auto& v : versions) keys.push_back(v.Text("blob_key"));
    CRM_TRY(c.Exec("DELETE FROM document_pages WHERE firm_id = ? AND document_id = ?",
                   {who.firm_id, id}));
    CRM_TRY(c.Exec("DELETE FROM document_versions WHERE firm_id = ? AND document_id = ?",
                   {who.firm_id, id}));
    CRM_TRY(c.Exec("DELETE FROM documents WHERE firm_id = ? AND id = ?", {who.firm_id, id}));
    return domain::AuditIn(c, who, "document.deleted", "document", id,
                           {{"name", row->Text("name")},
                            {"sha256", row->Text("sha256")},
                            {"versions", static_cast<int64_t>(keys.size())}});
  });
  CRM_TRY(st);
  for (const auto& key : keys)
    if (auto del = blobs_.Delete(key); !del.ok())
      log::Warn("document file not deleted; delete it by hand",
                {{"document_id", id}, {"key", key}, {"error", del.error().message}});
  return OkStatus();
}

Result<storage::Row> DocumentStore::Row(const std::string& firm_id, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(auto row, storage::FirmRow(store_, kDocumentsTable, firm_id, id));
  if (!row) return DocumentNotFound();
  return *row;
}

Result<json> DocumentStore::Get(const std::string& firm_id, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(auto row, Row(firm_id, id));
  return DocumentToJson(row);
}

Result<storage::Page> DocumentStore::List(const std::string& firm_id, int limit,
                                          const std::string& cursor,
                                          const std::optional<std::string>& client_id,
                                          const std::optional<std::string>& meeting_id) {
  return storage::FirmPage(store_,
                           {kDocumentsTable,
                            firm_id,
                            {{"client_id", client_id}, {"meeting_id", meeting_id}},
                            limit,
                            cursor},
                           DocumentToJson);
}

Result<std::vector<json>> DocumentStore::Versions(const std::string& firm_id,
                                                  const std::string& id) {
  CRM_TRY(Row(firm_id, id));
  CRM_ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT * FROM document_versions WHERE firm_id = ? "
                                               "AND document_id = ? ORDER BY number DESC",
                                               {firm_id, id}));
  std::vector<json> out;
  for (const auto& r : rows)
    out.push_back(
        {{"number", r.Int("number")},
         {"original_name", r.Text("original_name")},
         {"content_type", r.Text("content_type")},
         {"size_bytes", r.Int("size_bytes")},
         {"sha256", r.Text("sha256")},
         {"created_by", r.IsNull("created_by") ? json(nullptr) : json(r.Text("created_by"))},
         {"created_at", r.Text("created_at")},
         {"download_url",
          "/api/documents/" + id + "/versions/" + std::to_string(r.Int("number")) + "/download"}});
  return out;
}

Result<storage::Row> DocumentStore::VersionRow(const std::string& firm_id, const std::string& id,
                                               int64_t number) {
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne("SELECT v.*, d.name FROM document_versions v "
                                                 "JOIN documents d ON d.id = v.document_id "
                                                 "WHERE v.firm_id = ? AND v.document_id = ? AND "
                                                 "v.number = ?",
                                                 {firm_id, id, number}));
  if (!row) return NotFound("Cette version du document est introuvable. / Version not found.");
  return *row;
}

Status DocumentStore::SetJob(const std::string& firm_id, const std::string& id,
                             const std::string& job_id) {
  CRM_TRY(store_.Exec("UPDATE documents SET job_id = ? WHERE firm_id = ? AND id = ?",
                      {job_id, firm_id, id}));
  return OkStatus();
}

Status DocumentStore::WriteText(storage::Connection& c, const std::string& firm_id,
                                const std::string& id, int64_t number,
                                const std::vector<DocumentPage>& pages) {
  CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne("SELECT current_version FROM documents WHERE "
                                            "firm_id = ? AND id = ?",
                                            {firm_id, id}));
  if (!row || row->Int("current_version") != number) return OkStatus();
  CRM_TRY(
      c.Exec("DELETE FROM document_pages WHERE firm_id = ? AND document_id = ?", {firm_id, id}));
  for (const auto& p : pages)
    CRM_TRY(
        c.Exec("INSERT INTO document_pages (firm_id, document_id, page, text, search_text) "
               "VALUES (?, ?, ?, ?, ?)",
               {firm_id, id, int64_t{p.page}, p.text, FoldForSearch(p.text)}));
  CRM_TRY(c.Exec(
      "UPDATE documents SET text_state = 'searchable', text_error_code = NULL, text_error = NULL, "
      "page_count = ?, updated_at = ? WHERE firm_id = ? AND id = ?",
      {static_cast<int64_t>(pages.size()), NowIsoUtc(), firm_id, id}));
  return OkStatus();
}

Status DocumentStore::WriteTextFailure(storage::Connection& c, const std::string& firm_id,
                                       const std::string& id, int64_t number,
                                       const TextFailure& failure) {
  CRM_TRY(c.Exec(
      "UPDATE documents SET text_state = 'not_searchable', text_error_code = ?, text_error = ?, "
      "page_count = NULL, updated_at = ? WHERE firm_id = ? AND id = ? AND current_version = ?",
      {failure.code, failure.message, NowIsoUtc(), firm_id, id, number}));
  return OkStatus();
}

}  // namespace crm::documents
