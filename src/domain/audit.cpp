#include "domain/audit.h"

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"

namespace crm::domain {

namespace {
storage::Params AuditParams(const Principal& who, const std::string& action, const std::string& type,
                            const std::string& id, const nlohmann::json& details) {
  auto opt = [](const std::string& s) { return s.empty() ? storage::Value(storage::Null{}) : storage::Value(s); };
  // What the platform admin does inside a firm says so in that firm's log: its users read who
  // acted even though the actor is none of theirs.
  nlohmann::json d = details;
  if (who.acting_in_firm && d.is_object())
    d["acting_platform_admin"] = {{"user_id", who.user_id}, {"email", who.email}};
  return {NewId(), opt(who.firm_id), opt(who.user_id), opt(who.api_key_id), action, opt(type), opt(id),
          d.dump(), opt(who.ip), NowIsoUtc()};
}
const char* kInsert =
    "INSERT INTO audit_log (id, firm_id, actor_user_id, actor_api_key_id, action, object_type, object_id, "
    "details, ip, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
}  // namespace

void Audit(storage::Store& store, const Principal& who, const std::string& action,
           const std::string& object_type, const std::string& object_id, const nlohmann::json& details) {
  auto r = store.Exec(kInsert, AuditParams(who, action, object_type, object_id, details));
  if (!r.ok()) log::Warn("audit write failed", {{"action", action}, {"error", r.error().message}});
}

Status AuditIn(storage::Connection& c, const Principal& who, const std::string& action,
               const std::string& object_type, const std::string& object_id, const nlohmann::json& details) {
  CRM_TRY(c.Exec(kInsert, AuditParams(who, action, object_type, object_id, details)));
  return OkStatus();
}

namespace {

Result<AuditPage> ListAuditWhere(storage::Store& store, std::string sql, storage::Params params,
                                 int limit, const std::string& cursor) {
  if (!cursor.empty()) {
    sql += " AND id < ?";
    params.push_back(cursor);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.push_back(int64_t{limit + 1});
  CRM_ASSIGN_OR_RETURN(auto rows, store.Query(sql, params));
  AuditPage page;
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i) {
    nlohmann::json j = rows[i].ToJson();
    j["details"] = nlohmann::json::parse(rows[i].Text("details"), nullptr, false);
    page.entries.push_back(std::move(j));
  }
  if (static_cast<int>(rows.size()) > limit) page.next_cursor = rows[limit - 1].Text("id");
  return page;
}

constexpr const char* kAuditColumns =
    "SELECT id, actor_user_id, actor_api_key_id, action, object_type, object_id, details, ip, "
    "created_at FROM audit_log ";

}  // namespace

Result<AuditPage> ListAudit(storage::Store& store, const std::string& firm_id, int limit,
                            const std::string& cursor) {
  if (firm_id.empty()) return AuditPage{};  // never the platform's entries by accident
  return ListAuditWhere(store, std::string(kAuditColumns) + "WHERE firm_id = ?", {firm_id}, limit,
                        cursor);
}

Result<AuditPage> ListPlatformAudit(storage::Store& store, int limit, const std::string& cursor) {
  return ListAuditWhere(store, std::string(kAuditColumns) + "WHERE firm_id IS NULL", {}, limit,
                        cursor);
}

}  // namespace crm::domain
