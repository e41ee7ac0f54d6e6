// Structured logging to stderr: one line per event, JSON (for machines) or text (on a TTY).
//
// Logs never go to files of their own. Secrets must never be passed in fields: the config module
// hands out redacted descriptions of secret variables only.
//
// Lines are never split or interleaved. Write() puts its line on stderr before it returns.
// Frequent lines (the HTTP access log) use Line::Queue() instead: they are appended to a buffer
// that one background thread writes with a single write(2) every few milliseconds, so a busy
// server does not pay one system call per request. Flush() writes whatever is queued; it runs at
// process exit and at the end of a graceful shutdown, so no queued line is lost.
#pragma once

#include <cstdint>
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

// A line built field by field without a JSON tree, for hot paths. Does nothing (and costs
// nothing beyond the level check) when `level` is below the configured minimum.
//   log::Line(log::Level::kInfo, "request").Str("path", p).Int("status", 200).Queue();
class Line {
 public:
  Line(Level level, std::string_view message);
  bool enabled() const { return enabled_; }
  Line& Str(std::string_view key, std::string_view value);
  Line& Int(std::string_view key, int64_t value);
  Line& Fixed2(std::string_view key, double value);  // two decimals (durations in ms)
  // Appends the line to the buffer written by the background flusher (see above).
  void Queue();
  // Writes the line (and anything queued before it) now.
  void WriteNow();

 private:
  void Key(std::string_view key);  // the separator and the key, in the line's format

  bool enabled_;
  bool json_;
  std::string text_;
};

// Writes every queued line to stderr before returning.
void Flush();

}  // namespace crm::log
