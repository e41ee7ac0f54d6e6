#include "http/response_cache.h"

#include <cstdio>

namespace crm::http {
namespace {

constexpr size_t kEntryOverhead = 160;  // list node, index slot, strings' headers

std::string MakeEtag(const std::string& key, int64_t version) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "W/\"%lld.%016zx\"", static_cast<long long>(version), std::hash<std::string>{}(key));
  return buf;
}

std::string_view StripWeak(std::string_view tag) {
  if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  return tag;
}

}  // namespace

ResponseCache::ResponseCache(ResponseCacheOptions options) : options_(options) {}

std::optional<CachedBody> ResponseCache::Get(const std::string& key, int64_t version) {
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  if (it->second->version != version) {
    EraseLocked(it->second);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->value;
}

CachedBody ResponseCache::Put(const std::string& key, int64_t version, std::string body) {
  CachedBody value{std::make_shared<const std::string>(std::move(body)), MakeEtag(key, version)};
  size_t cost = value.body->size() + 2 * key.size() + value.etag.size() + kEntryOverhead;
  if (value.body->size() > options_.max_entry_bytes || cost > options_.max_bytes) return value;
  std::lock_guard lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    // Another request filled it meanwhile; keep the newer version.
    if (it->second->version > version) return value;
    EraseLocked(it->second);
  }
  while (bytes_ + cost > options_.max_bytes && !lru_.empty()) EraseLocked(std::prev(lru_.end()));
  lru_.push_front(Entry{key, version, value, cost});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += cost;
  return value;
}

void ResponseCache::EraseLocked(std::list<Entry>::iterator it) {
  bytes_ -= it->cost;
  index_.erase(it->key);
  lru_.erase(it);
}

size_t ResponseCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t ResponseCache::entries() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

bool IfNoneMatchHits(std::string_view header, std::string_view etag) {
  std::string_view want = StripWeak(etag);
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view tag = header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag == "*" || (!tag.empty() && StripWeak(tag) == want)) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

}  // namespace crm::http
