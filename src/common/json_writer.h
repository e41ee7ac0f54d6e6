// Writing JSON text directly into a string, for hot paths (API list pages) where building a
// nlohmann::json tree first would cost more than the query. Output is the same JSON nlohmann
// produces for the same values (UTF-8 passed through, control characters escaped).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace crm {

// Appends `s` as a quoted JSON string.
void AppendJsonString(std::string& out, std::string_view s);
// Appends `"key":` (key must not need escaping beyond what AppendJsonString does).
inline void AppendJsonKey(std::string& out, std::string_view key) {
  AppendJsonString(out, key);
  out.push_back(':');
}
inline void AppendJsonInt(std::string& out, int64_t v) { out += std::to_string(v); }

}  // namespace crm
