#include "diarization/rttm.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace crm::diarization {
namespace {

double Millis(double t) { return std::round(t * 1000.0) / 1000.0; }

bool ParseNumber(const std::string& s, double* out) {
  try {
    size_t used = 0;
    *out = std::stod(s, &used);
    return used == s.size() && std::isfinite(*out);
  } catch (...) {
    return false;
  }
}

}  // namespace

std::vector<NamedTurn> NameTurns(const std::vector<Turn>& turns) {
  std::vector<NamedTurn> out;
  out.reserve(turns.size());
  for (const Turn& t : turns) out.push_back({t.start, t.end, SpeakerLabel(t.speaker)});
  return out;
}

std::string WriteRttm(const std::vector<NamedTurn>& turns, const std::string& uri) {
  std::string id = uri.empty() ? "audio" : uri;
  std::replace_if(id.begin(), id.end(), [](char c) { return c == ' ' || c == '\t'; }, '_');
  std::string out;
  char buf[64];
  for (const NamedTurn& t : turns) {
    out += "SPEAKER " + id + " 1 ";
    std::snprintf(buf, sizeof buf, "%.3f %.3f", Millis(t.start), Millis(t.end) - Millis(t.start));
    out += buf;
    out += " <NA> <NA> " + t.speaker + " <NA> <NA>\n";
  }
  return out;
}

Result<std::vector<NamedTurn>> ParseRttm(const std::string& text) {
  std::vector<NamedTurn> turns;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.empty() || f[0].rfind(";;", 0) == 0 || f[0][0] == '#') continue;
    if (f[0] != "SPEAKER") continue;
    double start = 0, duration = 0;
    if (f.size() < 8 || !ParseNumber(f[3], &start) || !ParseNumber(f[4], &duration) ||
        start < 0 || duration < 0) {
      return Error(ErrorCode::kCorrupt,
                   "RTTM line " + std::to_string(number) +
                       ": expected SPEAKER <uri> <channel> <start> <duration> <NA> <NA> <name>");
    }
    turns.push_back({start, start + duration, f[7]});
  }
  return turns;
}

nlohmann::json DiarizationToJson(const Diarization& d) {
  nlohmann::json speakers = nlohmann::json::array();
  for (int s = 0; s < d.num_speakers; ++s) speakers.push_back(SpeakerLabel(s));
  nlohmann::json turns = nlohmann::json::array();
  for (const Turn& t : d.turns) {
    turns.push_back({{"start", Millis(t.start)}, {"end", Millis(t.end)},
                     {"speaker", SpeakerLabel(t.speaker)}});
  }
  return {{"duration", Millis(d.duration)},
          {"num_speakers", d.num_speakers},
          {"speakers", speakers},
          {"turns", turns}};
}

}  // namespace crm::diarization
