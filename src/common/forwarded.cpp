#include "common/forwarded.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/text.h"

namespace crm {
namespace {

// An address without port or brackets.
std::optional<IpAddress> ParseBare(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  const std::string text(s);
  IpAddress a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) != 1) return std::nullopt;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
    return a;
  }
  a.v4 = false;
  return a;
}

bool PrefixMatches(const IpAddress& a, const IpAddress& b, int prefix) {
  const int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.bytes.data(), b.bytes.data(), full) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a.bytes[full] & mask) == (b.bytes[full] & mask);
}

Error NotABlock(std::string_view item) {
  return Error(ErrorCode::kInvalidArgument,
               "not an IP address or CIDR block: \"" + std::string(item) + "\"");
}

}  // namespace

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  const std::string trimmed = Trim(text);
  std::string_view s = trimmed;
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return ParseBare(s.substr(1, close - 1));
  }
  if (std::count(s.begin(), s.end(), ':') == 1) s = s.substr(0, s.find(':'));
  return ParseBare(s);
}

Result<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies out;
  for (const std::string& piece : Split(list, ',')) {
    const std::string trimmed = Trim(piece);
    const std::string_view item = trimmed;
    if (item.empty()) continue;
    std::string_view addr = item;
    int prefix = -1;
    if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
      addr = item.substr(0, slash);
      const std::string_view bits = item.substr(slash + 1);
      auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
      if (bits.empty() || ec != std::errc() || p != bits.data() + bits.size() || prefix < 0)
        return NotABlock(item);
    }
    auto a = ParseBare(addr);
    if (!a) return NotABlock(item);
    const int max_bits = a->v4 ? 32 : 128;
    if (prefix < 0) prefix = max_bits;
    if (prefix > max_bits)
      return Error(ErrorCode::kInvalidArgument,
                   "prefix longer than the address in \"" + std::string(item) + "\"");
    out.blocks_.push_back({*a, prefix});
  }
  return out;
}

bool TrustedProxies::Contains(const IpAddress& a) const {
  for (const Block& b : blocks_)
    if (a.v4 == b.network.v4 && PrefixMatches(a, b.network, b.prefix)) return true;
  return false;
}

bool TrustedProxies::Contains(std::string_view address) const {
  auto a = IpAddress::Parse(address);
  return a && Contains(*a);
}

std::string TrustedProxies::ClientAddress(const std::string& peer,
                                          std::string_view forwarded_for) const {
  if (blocks_.empty() || forwarded_for.empty() || !Contains(peer)) return peer;
  const std::vector<std::string> hops = Split(forwarded_for, ',');
  // A trusted proxy that sent a header it did not fill in readably does not make its own
  // address the client's (that would turn any client into a loopback one).
  std::string client = "unknown";
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    auto a = IpAddress::Parse(*it);
    if (!a) break;  // a hop we cannot read: believe nothing left of it
    client = a->ToString();
    if (!Contains(*a)) break;
  }
  return client;
}

}  // namespace crm
