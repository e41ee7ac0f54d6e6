#include "common/forwarded.h"

#include <gtest/gtest.h>

namespace crm {
namespace {

TrustedProxies Trusted(std::string_view list) {
  auto t = TrustedProxies::Parse(list);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : TrustedProxies();
}

TEST(TrustedProxies, ParsesAddressesAndBlocks) {
  TrustedProxies t = Trusted(" 127.0.0.1, 10.0.0.0/8 ,fd00::/8,, 192.168.1.7/32");
  EXPECT_TRUE(t.Contains("127.0.0.1"));
  EXPECT_FALSE(t.Contains("127.0.0.2"));
  EXPECT_TRUE(t.Contains("10.200.3.4"));
  EXPECT_FALSE(t.Contains("11.0.0.1"));
  EXPECT_TRUE(t.Contains("fd12:3456::1"));
  EXPECT_FALSE(t.Contains("fe80::1"));
  EXPECT_TRUE(t.Contains("192.168.1.7"));
  EXPECT_FALSE(t.Contains("192.168.1.8"));
  // An IPv4-mapped IPv6 peer (dual-stack socket) is its IPv4 address.
  EXPECT_TRUE(t.Contains("::ffff:10.1.2.3"));
  EXPECT_FALSE(t.Contains("not an address"));
}

TEST(TrustedProxies, PrefixesThatAreNotByteAligned) {
  TrustedProxies t = Trusted("172.16.0.0/12");
  EXPECT_TRUE(t.Contains("172.16.0.1"));
  EXPECT_TRUE(t.Contains("172.31.255.254"));
  EXPECT_FALSE(t.Contains("172.32.0.1"));
  EXPECT_FALSE(t.Contains("172.15.255.255"));
  TrustedProxies all = Trusted("0.0.0.0/0");
  EXPECT_TRUE(all.Contains("203.0.113.9"));
  EXPECT_FALSE(all.Contains("2001:db8::1"));  // an IPv4 block never matches IPv6
}

TEST(TrustedProxies, RefusesWhatIsNotAnAddressOrBlock) {
  for (const char* bad : {"localhost", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x", "::1/129",
                          "300.1.1.1", "10.0.0.0/-1"}) {
    auto t = TrustedProxies::Parse(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_NE(t.error().message.find(bad), std::string::npos) << t.error().message;
  }
  auto empty = TrustedProxies::Parse("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(TrustedProxies, ClientIsTheRightMostHopNotTrusted) {
  TrustedProxies t = Trusted("127.0.0.1,10.0.0.0/8");
  // nginx on loopback appended the client's address.
  EXPECT_EQ(t.ClientAddress("127.0.0.1", "203.0.113.7"), "203.0.113.7");
  // The client sent its own X-Forwarded-For: what it wrote is left of what nginx appended.
  EXPECT_EQ(t.ClientAddress("127.0.0.1", "127.0.0.1, 203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(t.ClientAddress("127.0.0.1", "1.2.3.4, 198.51.100.2, 10.0.0.5"), "198.51.100.2");
  // Two trusted hops (HAProxy then nginx), ports and brackets as some proxies write them.
  EXPECT_EQ(t.ClientAddress("10.0.0.2", "198.51.100.2:5123, 10.0.0.9"), "198.51.100.2");
  EXPECT_EQ(t.ClientAddress("127.0.0.1", "[2001:db8::1]:443"), "2001:db8::1");
  // A peer that is not a trusted proxy is the client, whatever it claims.
  EXPECT_EQ(t.ClientAddress("203.0.113.7", "127.0.0.1"), "203.0.113.7");
  // No header, or no proxy trusted: the peer.
  EXPECT_EQ(t.ClientAddress("127.0.0.1", ""), "127.0.0.1");
  EXPECT_EQ(TrustedProxies().ClientAddress("127.0.0.1", "203.0.113.7"), "127.0.0.1");
  // An unreadable hop: nothing left of it is believed; the last readable hop stands.
  EXPECT_EQ(t.ClientAddress("127.0.0.1", "203.0.113.7, garbage"), "unknown");
  EXPECT_EQ(t.ClientAddress("127.0.0.1", " "), "unknown");
  EXPECT_EQ(t.ClientAddress("127.0.0.1", "garbage, 10.0.0.3"), "10.0.0.3");
  // Every hop trusted: the left-most one.
  EXPECT_EQ(t.ClientAddress("127.0.0.1", "10.0.0.4, 10.0.0.3"), "10.0.0.4");
}

}  // namespace
}  // namespace crm
