// The client's address behind reverse proxies (nginx, HAProxy). A request's peer is the proxy;
// the proxy appends the address it saw to X-Forwarded-For. Only proxies listed in
// TRUSTED_PROXIES are believed: the client is the right-most X-Forwarded-For hop that is not a
// trusted proxy, so a client cannot choose its address by sending the header itself (its own
// hops are left of the one the first trusted proxy appended). A peer that is not trusted is the
// client, whatever it sends.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace crm {

// An IPv4 or IPv6 address; IPv4-mapped IPv6 (::ffff:10.0.0.1, from a dual-stack socket) is
// read as IPv4.
struct IpAddress {
  bool v4 = true;
  std::array<unsigned char, 16> bytes{};  // the first 4 for IPv4
  std::string ToString() const;
  // "10.0.0.1", "2001:db8::1", and with a port as proxies sometimes write them:
  // "203.0.113.7:5123", "[2001:db8::1]:443".
  static std::optional<IpAddress> Parse(std::string_view text);
};

class TrustedProxies {
 public:
  // A comma-separated list of addresses and CIDR blocks ("127.0.0.1, 10.0.0.0/8, fd00::/8");
  // empty: no proxy trusted. An entry that is neither is an error naming it.
  static Result<TrustedProxies> Parse(std::string_view list);

  bool empty() const { return blocks_.empty(); }
  bool Contains(const IpAddress& a) const;
  bool Contains(std::string_view address) const;

  // The client's address for a request from `peer` carrying `forwarded_for` (the header's
  // value, "" when absent); "unknown" when a trusted peer's last hop cannot be read.
  std::string ClientAddress(const std::string& peer, std::string_view forwarded_for) const;

 private:
  struct Block {
    IpAddress network;
    int prefix = 0;  // bits
  };
  std::vector<Block> blocks_;
};

}  // namespace crm
