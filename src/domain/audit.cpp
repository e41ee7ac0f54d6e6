#include "domain/audit.h"

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"

namespace crm::domain {

namespace {
storage::Params AuditParams(const Principal& who, const std::string& action, const std::string& type,
                            const std::string& id, const nlohmann::json& details) {
  auto opt = [](const std::string& s) { return s.empty() ? storage::Value(storage::Null{}) : storage::Value(s); };
  return {NewId(), opt(who.firm_id), opt(who.user_id), opt(who.api_key_id), action, opt(type), opt(id),
          details.dump(), opt(who.ip), NowIsoUtc()};
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

}  // namespace crm::domain
