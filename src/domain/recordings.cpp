#include "domain/recordings.h"

#include <cmath>

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "domain/audit.h"

namespace crm::domain {

using nlohmann::json;

namespace {

constexpr const char* kSelect = "SELECT r.* FROM recordings r ";

Error RecordingNotFound() {
  return NotFound("Cet enregistrement est introuvable. / Recording not found.");
}

std::optional<bool> ParseBool(const std::string& raw) {
  std::string v = ToLowerAscii(Trim(raw));
  if (v == "true" || v == "1" || v == "oui" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "non" || v == "no") return false;
  return std::nullopt;
}

}  // namespace

std::string RecordingBlobKey(const std::string& firm_id, const std::string& id) {
  return "recordings/" + firm_id + "/" + id;
}

Result<UploadMetadata> ParseUploadMetadata(const std::map<std::string, std::string>& fields) {
  UploadMetadata m;
  json bad = json::object();
  auto it = fields.find("consent");
  if (it == fields.end()) {
    bad["consent"] = "required";
  } else if (auto b = ParseBool(it->second)) {
    m.consent = *b;
  } else {
    bad["consent"] = "invalid";
  }
  if (auto t = fields.find("title"); t != fields.end()) {
    m.title = Trim(t->second);
    if (m.title.size() > 200 || !IsValidUtf8(m.title)) bad["title"] = "invalid";
  }
  if (auto f = fields.find("filename"); f != fields.end()) {
    m.filename = Trim(f->second);
    if (m.filename.size() > 255 || !IsValidUtf8(m.filename)) bad["filename"] = "invalid";
  }
  if (auto l = fields.find("language"); l != fields.end() && !Trim(l->second).empty()) {
    std::string lang = ToLowerAscii(Trim(l->second));
    bool ok = lang == "auto" || (lang.size() >= 2 && lang.size() <= 3);
    for (char c : lang) ok = ok && std::isalpha(static_cast<unsigned char>(c));
    if (!ok) bad["language"] = "invalid";
    m.language = lang;
  }
  if (!bad.empty())
    return InvalidArgument(
        "Indiquez si les participants ont consenti à l'enregistrement (consent = true ou false) et "
        "vérifiez les champs. / State whether the participants consented (consent = true or "
        "false) and check the fields.",
        bad);
  return m;
}

json RecordingToJson(const storage::Row& row, const Processing* processing) {
  json j = {{"id", row.Text("id")},
            {"client_id", row.Text("client_id")},
            {"meeting_id", row.IsNull("meeting_id") ? json(nullptr) : json(row.Text("meeting_id"))},
            {"title", row.Text("title")},
            {"original_name", row.Text("original_name")},
            {"consent", row.Int("consent") != 0},
            {"size_bytes", row.Int("size_bytes")},
            {"sha256", row.Text("sha256")},
            {"media",
             {{"container", row.Text("container")},
              {"codec", row.Text("codec")},
              {"duration_seconds", row.Real("duration_seconds")},
              {"sample_rate", row.Int("sample_rate")},
              {"channels", row.Int("channels")},
              {"has_video", row.Int("has_video") != 0}}},
            {"language", row.IsNull("language") ? json(nullptr) : json(row.Text("language"))},
            {"job_id", row.IsNull("job_id") ? json(nullptr) : json(row.Text("job_id"))},
            {"created_at", row.Text("created_at")},
            {"updated_at", row.Text("updated_at")},
            {"version", row.Int("version")}};
  json status = {{"state", "pending"},
                 {"progress", 0},
                 {"stage", nullptr},
                 {"eta_seconds", nullptr},
                 {"error", nullptr}};
  if (processing) {
    status["state"] = processing->state;
    status["progress"] = std::round(processing->progress * 1000.0) / 10.0;
    if (processing->stage) status["stage"] = *processing->stage;
    if (processing->eta_seconds) status["eta_seconds"] = *processing->eta_seconds;
    if (processing->error_code)
      status["error"] = {{"code", *processing->error_code},
                         {"message", processing->error_message.value_or("")}};
  }
  j["status"] = status["state"];
  j["processing"] = status;
  return j;
}

Result<RecordingTarget> RecordingStore::TargetOfMeeting(const std::string& firm_id,
                                                        const std::string& meeting_id) {
  CRM_ASSIGN_OR_RETURN(
      auto row, store_.QueryOne("SELECT client_id FROM meetings WHERE firm_id = ? AND id = ?",
                                {firm_id, meeting_id}));
  if (!row) return NotFound("Ce rendez-vous est introuvable. / Meeting not found.");
  return RecordingTarget{row->Text("client_id"), meeting_id};
}

Result<RecordingTarget> RecordingStore::TargetOfClient(const std::string& firm_id,
                                                       const std::string& client_id) {
  CRM_ASSIGN_OR_RETURN(
      auto row,
      store_.QueryOne("SELECT id FROM clients WHERE firm_id = ? AND id = ?", {firm_id, client_id}));
  if (!row) return NotFound("Ce client est introuvable. / Client not found.");
  return RecordingTarget{client_id, std::nullopt};
}

Result<std::vector<std::string>> RecordingStore::Duplicates(storage::Connection& c,
                                                            const std::string& firm_id,
                                                            const std::string& client_id,
                                                            const std::string& sha256,
                                                            const std::string& except) {
  CRM_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT id FROM recordings WHERE firm_id = ? AND "
                                          "client_id = ? AND sha256 = ? AND id <> ? ORDER BY id",
                                          {firm_id, client_id, sha256, except}));
  std::vector<std::string> ids;
  for (auto& r : rows) ids.push_back(r.Text("id"));
  return ids;
}

Result<json> RecordingStore::Create(const Principal& who, const NewRecording& rec,
                                    const std::string& id) {
  const std::string& firm = who.firm_id;
  std::string key = RecordingBlobKey(firm, id);
  std::string now = NowIsoUtc();
  std::vector<std::string> duplicates;
  Status st = store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(duplicates, Duplicates(c, firm, rec.client_id, rec.media.sha256, id));
    CRM_TRY(c.Exec(
        "INSERT INTO recordings (id, firm_id, client_id, meeting_id, title, original_name, "
        "blob_key, size_bytes, sha256, container, codec, duration_seconds, sample_rate, channels, "
        "has_video, consent, language, created_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {id,
         firm,
         rec.client_id,
         storage::Opt(rec.meeting_id),
         rec.title,
         rec.original_name,
         key,
         rec.media.size_bytes,
         rec.media.sha256,
         rec.media.container,
         rec.media.codec,
         rec.media.duration_seconds,
         int64_t{rec.media.sample_rate},
         int64_t{rec.media.channels},
         int64_t{rec.media.has_video ? 1 : 0},
         int64_t{rec.consent ? 1 : 0},
         storage::Opt(rec.language),
         storage::Opt(who.user_id.empty() ? std::optional<std::string>()
                                          : std::optional<std::string>(who.user_id)),
         now,
         now}));
    CRM_TRY(AuditIn(c, who, "recording.created", "recording", id,
                    {{"size_bytes", rec.media.size_bytes},
                     {"sha256", rec.media.sha256},
                     {"consent", rec.consent},
                     {"duplicates", duplicates}}));
    return OkStatus();
  });
  if (!st.ok()) return st.take_error();
  CRM_ASSIGN_OR_RETURN(json out, Get(firm, id));
  out["duplicates"] = duplicates;
  return out;
}

Result<storage::Row> RecordingStore::Row(const std::string& firm_id, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(
      auto row,
      store_.QueryOne(std::string(kSelect) + "WHERE r.firm_id = ? AND r.id = ?", {firm_id, id}));
  if (!row) return RecordingNotFound();
  return *row;
}

Result<json> RecordingStore::Get(const std::string& firm_id, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(auto row, Row(firm_id, id));
  CRM_ASSIGN_OR_RETURN(auto out, WithProcessing(firm_id, {row}));
  return std::move(out.front());
}

Result<std::vector<json>> RecordingStore::WithProcessing(const std::string& firm_id,
                                                         const storage::Rows& rows) {
  std::vector<std::string> job_ids;
  for (const auto& r : rows)
    if (!r.IsNull("job_id")) job_ids.push_back(r.Text("job_id"));
  std::map<std::string, Processing> found;
  if (processing_ && !job_ids.empty()) {
    CRM_ASSIGN_OR_RETURN(found, processing_(firm_id, job_ids));
  }
  std::vector<json> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    auto it = r.IsNull("job_id") ? found.end() : found.find(r.Text("job_id"));
    out.push_back(RecordingToJson(r, it == found.end() ? nullptr : &it->second));
  }
  return out;
}

Result<std::pair<std::vector<json>, std::optional<std::string>>> RecordingStore::List(
    const std::string& firm_id, int limit, const std::string& cursor,
    const std::optional<std::string>& client_id, const std::optional<std::string>& meeting_id) {
  std::string sql = std::string(kSelect) + "WHERE r.firm_id = ?";
  storage::Params p = {firm_id};
  if (!cursor.empty()) {
    sql += " AND r.id < ?";
    p.push_back(cursor);
  }
  if (client_id) {
    sql += " AND r.client_id = ?";
    p.push_back(*client_id);
  }
  if (meeting_id) {
    sql += " AND r.meeting_id = ?";
    p.push_back(*meeting_id);
  }
  sql += " ORDER BY r.id DESC LIMIT ?";
  p.push_back(int64_t{limit + 1});
  CRM_ASSIGN_OR_RETURN(auto rows, store_.Query(sql, p));
  storage::Rows page(rows.begin(), rows.begin() + std::min<size_t>(rows.size(), limit));
  CRM_ASSIGN_OR_RETURN(std::vector<json> data, WithProcessing(firm_id, page));
  std::optional<std::string> next;
  if (static_cast<int>(rows.size()) > limit) next = data.back()["id"].get<std::string>();
  return std::make_pair(std::move(data), next);
}

Status RecordingStore::SetJob(const std::string& firm_id, const std::string& id,
                              const std::string& job_id) {
  CRM_ASSIGN_OR_RETURN(int64_t n, store_.Exec("UPDATE recordings SET job_id = ?, updated_at = ? "
                                              "WHERE firm_id = ? AND id = ?",
                                              {job_id, NowIsoUtc(), firm_id, id}));
  if (n == 0) return RecordingNotFound();
  return OkStatus();
}

Status RecordingStore::Delete(const Principal& who, const std::string& id) {
  std::string key;
  Status st = store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne("SELECT blob_key, sha256, size_bytes FROM recordings "
                                              "WHERE firm_id = ? AND id = ?",
                                              {who.firm_id, id}));
    if (!row) return RecordingNotFound();
    key = row->Text("blob_key");
    CRM_TRY(c.Exec("DELETE FROM recordings WHERE firm_id = ? AND id = ?", {who.firm_id, id}));
    return AuditIn(c, who, "recording.deleted", "recording", id,
                   {{"sha256", row->Text("sha256")}, {"size_bytes", row->Int("size_bytes")}});
  });
  CRM_TRY(st);
  (void)blobs_.Delete(key + ".peaks");  // its waveform (pipeline/waveform.h), when computed
  (void)blobs_.Delete(key + ".peaks-failed");  // or the mark that it could not be
  if (auto del = blobs_.Delete(key); !del.ok())
    log::Warn("recording file not deleted; delete it by hand",
              {{"recording_id", id}, {"key", key}, {"error", del.error().message}});
  return OkStatus();
}

}  // namespace crm::domain
