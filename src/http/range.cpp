#include "http/range.h"

#include <algorithm>
#include <string>

#include "common/text.h"

namespace crm::http {

namespace {

std::optional<int64_t> Number(const std::string& t) {
  if (t.empty() || t.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

std::optional<std::pair<int64_t, int64_t>> ParseRange(std::string_view header, int64_t size) {
  std::string h = Trim(header);
  if (h.rfind("bytes=", 0) != 0 || h.find(',') != std::string::npos || size <= 0)
    return std::nullopt;
  std::string spec = h.substr(6);
  auto dash = spec.find('-');
  if (dash == std::string::npos) return std::nullopt;
  std::string a = Trim(spec.substr(0, dash)), b = Trim(spec.substr(dash + 1));
  if (a.empty()) {  // suffix: the last N bytes
    auto n = Number(b);
    if (!n || *n == 0) return std::nullopt;
    return std::make_pair(std::max<int64_t>(0, size - *n), size - 1);
  }
  auto first = Number(a);
  if (!first || *first >= size) return std::nullopt;
  int64_t last = size - 1;
  if (!b.empty()) {
    auto l = Number(b);
    if (!l || *l < *first) return std::nullopt;
    last = std::min(*l, size - 1);
  }
  return std::make_pair(*first, last);
}

}  // namespace crm::http
