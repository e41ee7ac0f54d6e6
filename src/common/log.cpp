#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace crm::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_format{isatty(2) ? static_cast<int>(Format::kText) : static_cast<int>(Format::kJson)};
std::mutex g_write_mu;

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace

void Configure(Level min_level, Format format) {
  g_min_level = static_cast<int>(min_level);
  g_format = static_cast<int>(format);
}

Level MinLevel() { return static_cast<Level>(g_min_level.load()); }

bool ParseLevel(std::string_view s, Level* out) {
  if (s == "debug") *out = Level::kDebug;
  else if (s == "info") *out = Level::kInfo;
  else if (s == "warn" || s == "warning") *out = Level::kWarn;
  else if (s == "error") *out = Level::kError;
  else return false;
  return true;
}

void Write(Level level, std::string_view message, const nlohmann::json& fields) {
  if (static_cast<int>(level) < g_min_level.load()) return;
  std::string line;
  if (static_cast<Format>(g_format.load()) == Format::kJson) {
    nlohmann::json j = {{"time", NowIso()}, {"level", LevelName(level)}, {"msg", message}};
    if (fields.is_object())
      for (auto& [k, v] : fields.items()) j[k] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = NowIso() + " " + LevelName(level) + " " + std::string(message);
    if (fields.is_object())
      for (auto& [k, v] : fields.items())
        line += " " + k + "=" + (v.is_string() ? v.get<std::string>()
                                 : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  line += '\n';
  std::lock_guard lock(g_write_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace crm::log
