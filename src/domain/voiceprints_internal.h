// Helpers shared by voiceprints.cpp and voiceprint_speakers.cpp (not a public interface).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "storage/store.h"

namespace crm::domain::voiceprints_internal {

inline constexpr size_t kMaxNameChars = 100;  // as transcript speaker names

size_t CountCodePoints(std::string_view s);
Error RecordingNotFound();
// 422 naming the fields of `problems` (field → reason), French first.
Error Invalid(const nlohmann::json& problems);
// 409 with the current version; `what_fr` starts the French sentence ("Cette empreinte vocale").
Error Stale(int64_t current_version, const std::string& what_fr);
// nullptr when `raw` is a usable name (trimmed, 1..100 characters, UTF-8), else the reason.
const char* NameProblem(const std::string& raw);
// New version (and updated_at) for the transcripts of these recordings.
Status BumpTranscripts(storage::Connection& c, const std::string& firm_id,
                       const std::set<std::string>& recordings);

}  // namespace crm::domain::voiceprints_internal
