// Range parsing on arbitrary headers and sizes: an accepted range always lies inside the file.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "http/range.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  int64_t file_size;
  std::memcpy(&file_size, data, 8);
  std::string_view header(reinterpret_cast<const char*>(data + 8), size - 8);
  auto r = crm::http::ParseRange(header, file_size);
  if (!r) return 0;
  if (file_size <= 0 || r->first < 0 || r->first > r->second || r->second >= file_size) std::abort();
  return 0;
}
