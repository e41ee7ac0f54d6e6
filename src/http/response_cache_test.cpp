#include "http/response_cache.h"

#include <gtest/gtest.h>

namespace crm::http {
namespace {

TEST(ResponseCache, HitsOnlyAtTheVersionTheBodyWasBuiltFrom) {
  ResponseCache cache;
  EXPECT_FALSE(cache.Get("firm1|user1|clients|limit=50", 7));
  auto put = cache.Put("firm1|user1|clients|limit=50", 7, "{\"data\":[]}");
  auto hit = cache.Get("firm1|user1|clients|limit=50", 7);
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit->body, "{\"data\":[]}");
  EXPECT_EQ(hit->etag, put.etag);
  // A write bumped the version: the entry is gone, not served.
  EXPECT_FALSE(cache.Get("firm1|user1|clients|limit=50", 8));
  EXPECT_FALSE(cache.Get("firm1|user1|clients|limit=50", 7));
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(ResponseCache, KeysAreExactSoAnotherPrincipalNeverSeesAnEntry) {
  ResponseCache cache;
  cache.Put("firm1|user1|clients|limit=50", 3, "a");
  EXPECT_FALSE(cache.Get("firm1|user2|clients|limit=50", 3));
  EXPECT_FALSE(cache.Get("firm2|user1|clients|limit=50", 3));
  EXPECT_TRUE(cache.Get("firm1|user1|clients|limit=50", 3));
}

TEST(ResponseCache, EtagsDifferByVersionAndByKey) {
  ResponseCache cache;
  auto a = cache.Put("k1", 1, "x");
  auto b = cache.Put("k1", 2, "x");
  auto c = cache.Put("k2", 2, "x");
  EXPECT_NE(a.etag, b.etag);
  EXPECT_NE(b.etag, c.etag);
  EXPECT_EQ(a.etag.substr(0, 3), "W/\"");
}

TEST(ResponseCache, AnOlderBodyNeverReplacesANewerOne) {
  ResponseCache cache;
  cache.Put("k", 5, "new");
  cache.Put("k", 4, "old");
  auto hit = cache.Get("k", 5);
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit->body, "new");
}

TEST(ResponseCache, StaysUnderItsByteLimitDroppingTheLeastRecentlyUsed) {
  ResponseCache cache({.max_bytes = 10000, .max_entry_bytes = 5000});
  std::string body(2000, 'x');
  for (int i = 0; i < 4; ++i) cache.Put("k" + std::to_string(i), 1, body);
  ASSERT_TRUE(cache.Get("k0", 1));  // k0 becomes the most recently used
  cache.Put("k4", 1, body);
  EXPECT_LE(cache.bytes(), 10000u);
  EXPECT_TRUE(cache.Get("k0", 1));
  EXPECT_FALSE(cache.Get("k1", 1));  // the least recently used went first
  EXPECT_TRUE(cache.Get("k4", 1));
  // A body over the per-entry limit is returned but not kept.
  auto big = cache.Put("big", 1, std::string(6000, 'y'));
  EXPECT_EQ(big.body->size(), 6000u);
  EXPECT_FALSE(cache.Get("big", 1));
  EXPECT_LE(cache.bytes(), 10000u);
}

TEST(IfNoneMatch, WeakComparisonListsAndStar) {
  EXPECT_TRUE(IfNoneMatchHits("W/\"3.ab\"", "W/\"3.ab\""));
  EXPECT_TRUE(IfNoneMatchHits("\"3.ab\"", "W/\"3.ab\""));
  EXPECT_TRUE(IfNoneMatchHits("\"x\", W/\"3.ab\"", "W/\"3.ab\""));
  EXPECT_TRUE(IfNoneMatchHits("*", "W/\"3.ab\""));
  EXPECT_FALSE(IfNoneMatchHits("W/\"4.ab\"", "W/\"3.ab\""));
  EXPECT_FALSE(IfNoneMatchHits("", "W/\"3.ab\""));
}

}  // namespace
}  // namespace crm::http
