// The platform admin acting inside a firm (the firm switcher). A platform admin belongs to no
// firm, so firm routes refuse it; to help a firm it starts acting in that firm: its session then
// authenticates as that firm's admin (Principal::acting_in_firm), every scoping check is the
// ordinary one for that firm, and another firm's data is still 404. The state lives on the
// session row (sessions.acting_firm_id), so it survives reloads and ends with the session.
// Starting and stopping are audited twice, in the firm's log and in the platform's.
#pragma once

#include <string>

#include "common/principal.h"
#include "common/result.h"
#include "storage/store.h"

namespace crm::domain {

// `who` must be the platform admin signed in with a session (an API key belongs to a firm
// already). An unknown firm is kNotFound. Acting in another firm already ends that first.
// Returns the principal as the next requests will see it.
Result<Principal> StartActingInFirm(storage::Store& store, const Principal& who,
                                    const std::string& firm_id);

// Back to the platform admin's own view; a no-op when not acting. Returns the principal as the
// next requests will see it.
Result<Principal> StopActingInFirm(storage::Store& store, const Principal& who);

}  // namespace crm::domain
