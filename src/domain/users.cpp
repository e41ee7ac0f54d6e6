#include "domain/users.h"

#include "common/text.h"
#include "domain/audit.h"

namespace crm::domain {

using nlohmann::json;

namespace {

constexpr const char* kUserColumns = "id, email, name, role, disabled, language, created_at";

json UserJson(const storage::Row& row) {
  json j = row.ToJson();
  j["disabled"] = row.Int("disabled") != 0;
  return j;
}

Error UserNotFound() { return NotFound("Utilisateur introuvable. / User not found."); }

}  // namespace

Result<std::vector<json>> ListUsers(storage::Store& store, const std::string& firm_id) {
  CRM_ASSIGN_OR_RETURN(auto rows, store.Query(std::string("SELECT ") + kUserColumns +
                                                  " FROM users WHERE firm_id = ? ORDER BY name, id",
                                              {firm_id}));
  std::vector<json> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(UserJson(row));
  return out;
}

Status CheckUserInFirm(storage::Store& store, const std::string& firm_id,
                       const std::string& user_id) {
  CRM_ASSIGN_OR_RETURN(auto row, store.QueryOne("SELECT id FROM users WHERE id = ? AND firm_id = ?",
                                                {user_id, firm_id}));
  if (!row) return UserNotFound();
  return OkStatus();
}

Result<json> UpdateUser(storage::Store& store, const Principal& who, const std::string& user_id,
                        const json& patch) {
  CRM_ASSIGN_OR_RETURN(auto existing,
                       store.QueryOne("SELECT id, role FROM users WHERE id = ? AND firm_id = ?",
                                      {user_id, who.firm_id}));
  if (!existing) return UserNotFound();
  if (!patch.is_object()) return InvalidArgument("Champs invalides.", {{"body", "object_expected"}});
  json problems = json::object();
  std::optional<std::string> role, name;
  std::optional<bool> disabled;
  std::optional<storage::Value> language;  // "fr", "en", or null (the firm's)
  for (const auto& [k, v] : patch.items()) {
    if (k == "role" && v.is_string() && (v == "owner" || v == "admin" || v == "member"))
      role = v.get<std::string>();
    else if (k == "name" && v.is_string() && v.get<std::string>().size() <= 200)
      name = Trim(v.get<std::string>());
    else if (k == "disabled" && v.is_boolean())
      disabled = v.get<bool>();
    else if (k == "language" && (v.is_null() || v == "fr" || v == "en"))
      language =
          v.is_null() ? storage::Value(storage::Null{}) : storage::Value(v.get<std::string>());
    else
      problems[k] = (k == "role" || k == "name" || k == "disabled") ? "invalid"
                    : k == "language"                               ? "must_be_fr_en_or_null"
                                                                    : "unknown_field";
  }
  if (!problems.empty()) return InvalidArgument("Champs invalides.", problems);
  bool touches_owner = existing->Text("role") == "owner" || (role && *role == "owner");
  if (touches_owner && who.role != "owner")
    return Error(ErrorCode::kForbidden, "Seul un propriétaire peut modifier un propriétaire.");
  if (user_id == who.user_id && (role || disabled))
    return Error(ErrorCode::kForbidden,
                 "Vous ne pouvez pas changer votre propre rôle ni vous désactiver.");
  std::string now = NowIsoUtc();
  const std::string& firm = who.firm_id;
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    if (role)
      CRM_TRY(c.Exec("UPDATE users SET role = ?, updated_at = ? WHERE id = ? AND firm_id = ?",
                     {*role, now, user_id, firm}));
    if (name)
      CRM_TRY(c.Exec("UPDATE users SET name = ?, updated_at = ? WHERE id = ? AND firm_id = ?",
                     {*name, now, user_id, firm}));
    if (language)
      CRM_TRY(c.Exec("UPDATE users SET language = ?, updated_at = ? WHERE id = ? AND firm_id = ?",
                     {*language, now, user_id, firm}));
    if (disabled) {
      CRM_TRY(c.Exec("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ? AND firm_id = ?",
                     {int64_t{*disabled}, now, user_id, firm}));
      if (*disabled) CRM_TRY(c.Exec("DELETE FROM sessions WHERE user_id = ?", {user_id}));
    }
    return AuditIn(c, who, "user.updated", "user", user_id, patch);
  }));
  CRM_ASSIGN_OR_RETURN(auto row, store.QueryOne(std::string("SELECT ") + kUserColumns +
                                                    " FROM users WHERE id = ? AND firm_id = ?",
                                                {user_id, firm}));
  if (!row) return UserNotFound();
  return UserJson(*row);
}

}  // namespace crm::domain
