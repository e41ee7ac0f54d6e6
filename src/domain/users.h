// A firm's users as its admins see and change them: the list, and role / name / disabled edits
// with the rules that protect owners and the caller's own account. Every statement is scoped by
// the caller's firm: another firm's user is kNotFound, exactly as a missing one.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/principal.h"
#include "common/result.h"
#include "storage/store.h"

namespace crm::domain {

// The firm's users by name: id, email, name, role, disabled, created_at.
Result<std::vector<nlohmann::json>> ListUsers(storage::Store& store, const std::string& firm_id);

// kNotFound unless `user_id` is a user of the firm (checked before the request body is read).
Status CheckUserInFirm(storage::Store& store, const std::string& firm_id,
                       const std::string& user_id);

// Applies `patch` ({"role": owner|admin|member, "name": ..., "disabled": bool}) to the firm's
// user `user_id`, audited in the same transaction; a disabled user's sessions end with it.
// kNotFound for another firm's user (checked first), kInvalidArgument naming bad or unknown
// fields, kForbidden when a non-owner touches an owner or the caller changes their own role or
// disables themselves. Returns the user as ListUsers shows it.
Result<nlohmann::json> UpdateUser(storage::Store& store, const Principal& who,
                                  const std::string& user_id, const nlohmann::json& patch);

}  // namespace crm::domain
