// Reading and writing speaker turns: RTTM (the NIST Rich Transcription Time Marked format that
// every diarization scorer reads) and the JSON the CLI prints.
//
// An RTTM SPEAKER line: `SPEAKER <uri> <channel> <start> <duration> <NA> <NA> <name> <NA> <NA>`,
// times in seconds. Lines of other types and comments (`;;`, `#`) are skipped when reading.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "diarization/diarization.h"

namespace crm::diarization {

// A turn with a speaker name, as read from a reference or written for a tool.
struct NamedTurn {
  double start = 0;
  double end = 0;
  std::string speaker;
};

std::vector<NamedTurn> NameTurns(const std::vector<Turn>& turns);

// One SPEAKER line per turn, times with millisecond precision. `uri` must not contain spaces
// (they are replaced by '_').
std::string WriteRttm(const std::vector<NamedTurn>& turns, const std::string& uri);

// Turns of all SPEAKER lines (of every uri). kCorrupt with the line number on a malformed line.
Result<std::vector<NamedTurn>> ParseRttm(const std::string& text);

// {"duration", "num_speakers", "speakers": [...], "turns": [{"start","end","speaker"}]}; times
// rounded to the millisecond.
nlohmann::json DiarizationToJson(const Diarization& diarization);

}  // namespace crm::diarization
