// HTTP Range requests (RFC 9110 §14): one `bytes=` range against a representation of known size.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace crm::http {

// One Range header against a file of `size` bytes: the inclusive [first, last] to send, or
// nullopt when it is malformed, unsatisfiable or asks for several ranges (only single ranges are
// served: the audio player asks for one). Numbers are ASCII digits only, at most 18 of them.
std::optional<std::pair<int64_t, int64_t>> ParseRange(std::string_view header, int64_t size);

}  // namespace crm::http
