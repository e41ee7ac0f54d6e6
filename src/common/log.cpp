#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>

#include "common/json_writer.h"
#include "common/text.h"

namespace crm::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_format{isatty(2) ? static_cast<int>(Format::kText)
                                    : static_cast<int>(Format::kJson)};

// Queued lines wait here until the flusher (or a Write/Flush) writes them to stderr.
constexpr std::chrono::milliseconds kFlushInterval{20};
constexpr size_t kWakeFlusherBytes = 32 * 1024;    // flush early when this much is queued
constexpr size_t kWriteInlineBytes = 1024 * 1024;  // a producer flushes itself past this

struct Sink {
  std::mutex write_mu;  // held while writing to fd 2: chunks reach stderr in queue order
  std::mutex mu;        // guards pending
  std::condition_variable cv;
  std::string pending;
  std::once_flag flusher_once;
};

// Never destroyed: the flusher thread and atexit(Flush) may still use it while the process exits.
Sink& TheSink() {
  static Sink* sink = new Sink;
  return *sink;
}

void WriteAll(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(2, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // stderr closed or broken: nothing sensible to do with log lines
    }
    off += static_cast<size_t>(n);
  }
}

// Takes everything queued (plus `extra`) and writes it in one system call.
void FlushWith(std::string_view extra) {
  Sink& s = TheSink();
  std::lock_guard write_lock(s.write_mu);
  std::string chunk;
  {
    std::lock_guard lock(s.mu);
    chunk.swap(s.pending);
  }
  chunk.append(extra);
  if (!chunk.empty()) WriteAll(chunk);
}

void StartFlusher() {
  std::thread([] {
    Sink& s = TheSink();
    for (;;) {
      {
        std::unique_lock lock(s.mu);
        s.cv.wait_for(lock, kFlushInterval, [&] { return s.pending.size() >= kWakeFlusherBytes; });
        if (s.pending.empty()) continue;
      }
      FlushWith({});
    }
  }).detach();
  std::atexit([] { Flush(); });
}

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

// "2026-01-31T12:34:56.789Z"; the part up to the seconds is formatted once per second per thread.
void AppendNowIso(std::string& out) {
  thread_local int64_t cached_second = -1;
  thread_local char cached[32];
  auto now = std::chrono::system_clock::now();
  int64_t ms_total =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  int64_t sec = ms_total / 1000;
  int ms = static_cast<int>(ms_total % 1000);
  if (sec != cached_second) {
    std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second = sec;
  }
  out += cached;
  char frac[8] = {'.',
                  static_cast<char>('0' + ms / 100),
                  static_cast<char>('0' + ms / 10 % 10),
                  static_cast<char>('0' + ms % 10),
                  'Z',
                  0};
  out += frac;
}

std::string NowIso() {
  std::string s;
  AppendNowIso(s);
  return s;
}

// JSON string of arbitrary bytes: invalid UTF-8 (e.g. a percent-decoded path) becomes '?'.
void AppendLogString(std::string& out, std::string_view s) {
  if (IsValidUtf8(s)) return AppendJsonString(out, s);
  std::string clean(s);
  for (char& c : clean)
    if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  AppendJsonString(out, clean);
}

}  // namespace

void Configure(Level min_level, Format format) {
  g_min_level = static_cast<int>(min_level);
  g_format = static_cast<int>(format);
}

Level MinLevel() { return static_cast<Level>(g_min_level.load()); }

bool ParseLevel(std::string_view s, Level* out) {
  if (s == "debug")
    *out = Level::kDebug;
  else if (s == "info")
    *out = Level::kInfo;
  else if (s == "warn" || s == "warning")
    *out = Level::kWarn;
  else if (s == "error")
    *out = Level::kError;
  else
    return false;
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
        line += " " + k + "=" +
                (v.is_string() ? v.get<std::string>()
                               : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  line += '\n';
  FlushWith(line);
}

Line::Line(Level level, std::string_view message)
    : enabled_(static_cast<int>(level) >= g_min_level.load()),
      json_(static_cast<Format>(g_format.load()) == Format::kJson) {
  if (!enabled_) return;
  text_.reserve(256);
  if (json_) {
    text_ += "{\"time\":\"";
    AppendNowIso(text_);
    text_ += "\",\"level\":\"";
    text_ += LevelName(level);
    text_ += "\",\"msg\":";
    AppendLogString(text_, message);
  } else {
    AppendNowIso(text_);
    text_ += ' ';
    text_ += LevelName(level);
    text_ += ' ';
    text_ += message;
  }
}

Line& Line::Str(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  Key(key);
  if (json_)
    AppendLogString(text_, value);
  else
    text_ += value;
  return *this;
}

void Line::Key(std::string_view key) {
  if (json_) {
    text_ += ',';
    AppendJsonKey(text_, key);
  } else {
    text_ += ' ';
    text_ += key;
    text_ += '=';
  }
}

Line& Line::Int(std::string_view key, int64_t value) {
  if (!enabled_) return *this;
  Key(key);
  AppendJsonInt(text_, value);
  return *this;
}

Line& Line::Fixed2(std::string_view key, double value) {
  if (!enabled_) return *this;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", value);
  Key(key);
  text_ += buf;
  return *this;
}

void Line::Queue() {
  if (!enabled_) return;
  if (json_) text_ += '}';
  text_ += '\n';
  Sink& s = TheSink();
  std::call_once(s.flusher_once, StartFlusher);
  size_t queued;
  {
    std::lock_guard lock(s.mu);
    s.pending += text_;
    queued = s.pending.size();
  }
  if (queued >= kWriteInlineBytes)
    FlushWith({});
  else if (queued >= kWakeFlusherBytes)
    s.cv.notify_one();
  enabled_ = false;
}

void Line::WriteNow() {
  if (!enabled_) return;
  if (json_) text_ += '}';
  text_ += '\n';
  FlushWith(text_);
  enabled_ = false;
}

void Flush() { FlushWith({}); }

}  // namespace crm::log
