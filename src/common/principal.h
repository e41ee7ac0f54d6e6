// Who is calling: set by authentication, read by every handler. Firm-owned data is always
// scoped by firm_id from here, never by a firm id taken from the request.
#pragma once

#include <string>

namespace crm {

struct Principal {
  bool authenticated = false;
  std::string user_id;         // empty for API keys
  std::string api_key_id;      // empty for sessions
  std::string firm_id;         // empty for the platform admin
  std::string role;            // owner | admin | member | platform_admin
  std::string email;
  std::string name;
  std::string csrf_token;      // sessions only
  bool via_session = false;
  std::string session_hash;    // sessions only: SHA-256 of the cookie, the sessions row's key
  std::string ip;
  // A platform admin acting inside a firm (sessions.acting_firm_id): firm_id is that firm, role
  // is "admin", and every scoping check sees an ordinary firm admin. Audit entries written for
  // this principal say who really acted (domain/audit.cpp).
  bool acting_in_firm = false;
  std::string acting_firm_name;
  std::string acting_since;    // ISO-8601 UTC

  bool is_platform_admin() const { return role == "platform_admin"; }
  // The platform admin, whether or not acting inside a firm now.
  bool is_platform_user() const { return is_platform_admin() || acting_in_firm; }
  bool is_admin() const { return role == "owner" || role == "admin"; }
};

}  // namespace crm
