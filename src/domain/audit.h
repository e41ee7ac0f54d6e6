// The audit log: who did what to which object, and when. Written for logins, exports, deletions,
// API-key use and administration; readable by the firm's admins.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/principal.h"
#include "common/result.h"
#include "storage/store.h"

namespace crm::domain {

// Best effort: a failure is logged, never fails the action it records.
void Audit(storage::Store& store, const Principal& who, const std::string& action,
           const std::string& object_type = {}, const std::string& object_id = {},
           const nlohmann::json& details = nlohmann::json::object());
// Inside a transaction, so the record and the action land together.
Status AuditIn(storage::Connection& c, const Principal& who, const std::string& action,
               const std::string& object_type, const std::string& object_id,
               const nlohmann::json& details = nlohmann::json::object());

// One page of the firm's audit log, newest first: `limit` entries after `cursor` (the previous
// page's next cursor; empty: the first page), each with its details parsed as JSON.
struct AuditPage {
  std::vector<nlohmann::json> entries;
  std::optional<std::string> next_cursor;
};
Result<AuditPage> ListAudit(storage::Store& store, const std::string& firm_id, int limit,
                            const std::string& cursor);
// The platform's own log (entries of no firm: firms created, acting inside a firm started and
// stopped), for the platform admin.
Result<AuditPage> ListPlatformAudit(storage::Store& store, int limit, const std::string& cursor);

}  // namespace crm::domain
