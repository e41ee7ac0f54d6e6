// Percent-decoding and query parsing on arbitrary bytes: no crash, never longer than the input,
// and the percent-encoding of any bytes decodes back to them.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  for (bool plus : {false, true}) {
    std::string d = crm::http::PercentDecode(s, plus);
    if (d.size() > s.size()) std::abort();
  }
  auto q = crm::http::ParseQuery(s);
  size_t total = 0;
  for (auto& [k, v] : q) total += k.size() + v.size();
  if (total > s.size()) std::abort();
  static const char* kHex = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : s) {
    encoded += '%';
    encoded += kHex[c >> 4];
    encoded += kHex[c & 15];
  }
  if (crm::http::PercentDecode(encoded, true) != s) std::abort();
  return 0;
}
