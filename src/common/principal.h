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
  std::string ip;

  bool is_platform_admin() const { return role == "platform_admin"; }
  bool is_admin() const { return role == "owner" || role == "admin"; }
};

}  // namespace crm
