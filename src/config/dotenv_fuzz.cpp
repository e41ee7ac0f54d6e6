// `.env` parsing, then the whole configuration check, on arbitrary bytes: an error or a
// configuration, never an exception or a crash (every value is validated by Load).
#include <cstdint>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto env = crm::config::ParseDotEnv(text, ".env");
  if (!env.ok()) return 0;
  auto c = crm::config::Load({}, *env);
  (void)c;
  return 0;
}
