// Structured logging to stderr: one line per event, JSON (for machines) or text (on a TTY).
//
// Logs never go to files of their own. Secrets must never be passed in fields: the config module
// hands out redacted descriptions of secret variables only.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace crm::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

// Set once at start-up (main / config); safe to read from any thread afterwards.
void Configure(Level min_level, Format format);
Level MinLevel();
// Parses "debug|info|warn|warning|error"; false when unknown.
bool ParseLevel(std::string_view s, Level* out);

void Write(Level level, std::string_view message, const nlohmann::json& fields = nullptr);

inline void Debug(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, const nlohmann::json& f = nullptr) { Write(Level::kError, m, f); }

}  // namespace crm::log
