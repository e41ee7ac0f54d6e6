#include "domain/acting.h"

#include "common/text.h"
#include "domain/audit.h"

namespace crm::domain {

namespace {

// The platform admin as itself: no firm, its own role.
Principal AsPlatformAdmin(Principal p) {
  p.firm_id.clear();
  p.role = "platform_admin";
  p.acting_in_firm = false;
  p.acting_firm_name.clear();
  p.acting_since.clear();
  return p;
}

// Ends the current acting inside `c`: the session row and both audit entries.
Status EndActingIn(storage::Connection& c, const Principal& who) {
  CRM_TRY(c.Exec("UPDATE sessions SET acting_firm_id = NULL, acting_since = NULL WHERE id_hash = ?",
                 {who.session_hash}));
  nlohmann::json details = {
      {"firm_id", who.firm_id}, {"firm_name", who.acting_firm_name}, {"since", who.acting_since}};
  CRM_TRY(AuditIn(c, who, "platform_admin.acting_stopped", "firm", who.firm_id, details));
  return AuditIn(c, AsPlatformAdmin(who), "platform_admin.acting_stopped", "firm", who.firm_id,
                 details);
}

Status RequirePlatformSession(const Principal& who) {
  if (!who.is_platform_user())
    return Error(ErrorCode::kForbidden,
                 "Réservé à l'administrateur de la plateforme. / Platform administrator only.");
  if (!who.via_session || who.session_hash.empty())
    return Error(ErrorCode::kForbidden,
                 "Agir dans un cabinet demande une session ouverte dans le navigateur. / Acting "
                 "in a firm needs a signed-in browser session.");
  return OkStatus();
}

}  // namespace

Result<Principal> StartActingInFirm(storage::Store& store, const Principal& who,
                                    const std::string& firm_id) {
  CRM_TRY(RequirePlatformSession(who));
  CRM_ASSIGN_OR_RETURN(auto firm,
                       store.QueryOne("SELECT id, name FROM firms WHERE id = ?", {firm_id}));
  if (!firm) return NotFound("Cabinet introuvable. / Firm not found.");
  Principal next = AsPlatformAdmin(who);
  next.acting_in_firm = true;
  next.firm_id = firm_id;
  next.role = "admin";
  next.acting_firm_name = firm->Text("name");
  next.acting_since = NowIsoUtc();
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    if (who.acting_in_firm) CRM_TRY(EndActingIn(c, who));
    CRM_TRY(c.Exec("UPDATE sessions SET acting_firm_id = ?, acting_since = ? WHERE id_hash = ?",
                   {firm_id, next.acting_since, who.session_hash}));
    nlohmann::json details = {{"firm_id", firm_id}, {"firm_name", next.acting_firm_name}};
    CRM_TRY(AuditIn(c, next, "platform_admin.acting_started", "firm", firm_id, details));
    return AuditIn(c, AsPlatformAdmin(who), "platform_admin.acting_started", "firm", firm_id,
                   details);
  }));
  return next;
}

Result<Principal> StopActingInFirm(storage::Store& store, const Principal& who) {
  CRM_TRY(RequirePlatformSession(who));
  if (!who.acting_in_firm) return who;
  CRM_TRY(store.Transaction([&](storage::Connection& c) { return EndActingIn(c, who); }));
  return AsPlatformAdmin(who);
}

}  // namespace crm::domain
