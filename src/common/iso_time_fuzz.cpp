// ParseIsoTime on arbitrary bytes: never throws or reads out of bounds; what it accepts has
// digits where the format has digits, and formatting an accepted time parses back to it.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  auto t = crm::ParseIsoTime(s);
  if (!t) return 0;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') std::abort();
  if (s.size() > 10)
    for (size_t i : {11, 12, 14, 15, 17, 18})
      if (s[i] < '0' || s[i] > '9') std::abort();
  // Years before 1 or after 9999 do not print as four digits once shifted by an offset.
  if (*t > -62135596800 + 86400 && *t < 253402300799 - 86400) {
    auto back = crm::ParseIsoTime(crm::FormatIsoUtc(*t));
    if (!back || *back != *t) std::abort();
  }
  return 0;
}
