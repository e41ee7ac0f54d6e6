// A bounded cache of response bodies whose validity is decided by a data version read from the
// database, never by time.
//
// Each entry is stored with the version of the data it was built from. Get(key, v) returns it only
// when the caller's freshly read version v is the same; a different version drops the entry. The
// caller must read the version BEFORE building a body to Put(): a write that lands in between
// makes the stored body newer than its version, which only costs a miss later, never a stale hit.
// Keys must hold everything the body depends on besides the version (who asks, what, how).
//
// Memory is bounded by Options::max_bytes (bodies + keys + bookkeeping); the least recently used
// entries go first. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace crm::http {

struct ResponseCacheOptions {
  size_t max_bytes = 32u << 20;     // 32 MiB for all entries together
  size_t max_entry_bytes = 1u << 20;  // larger bodies are not kept
};

struct CachedBody {
  std::shared_ptr<const std::string> body;
  std::string etag;  // weak validator: W/"<version>.<key hash>"
};

class ResponseCache {
 public:
  explicit ResponseCache(ResponseCacheOptions options = {});

  std::optional<CachedBody> Get(const std::string& key, int64_t version);
  // Stores body (unless too large) and returns it with its ETag either way.
  CachedBody Put(const std::string& key, int64_t version, std::string body);

  size_t bytes() const;
  size_t entries() const;
  size_t max_bytes() const { return options_.max_bytes; }
  // Get() calls that found a body of the right version, and those that did not.
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    std::string key;
    int64_t version;
    CachedBody value;
    size_t cost;
  };
  void EraseLocked(std::list<Entry>::iterator it);

  ResponseCacheOptions options_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // views into Entry::key
  size_t bytes_ = 0;
  std::atomic<uint64_t> hits_{0}, misses_{0};
};

// True when an If-None-Match header value names `etag` (weak comparison) or is "*".
bool IfNoneMatchHits(std::string_view if_none_match, std::string_view etag);

}  // namespace crm::http
