// A small command-line parser shared by the sub-commands: positional arguments, `--name value`,
// `--name=value` and boolean `--flag`s, with a clear error for anything unknown.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace crm::cli {

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  std::set<std::string> flags;

  bool Flag(const std::string& name) const { return flags.count(name) > 0; }
  std::optional<std::string> Value(const std::string& name) const {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

// `with_value` lists options that take a value, `flags` the boolean ones (names without "--").
Result<Args> ParseArgs(const std::vector<std::string>& argv, const std::set<std::string>& with_value,
                       const std::set<std::string>& flags);

// Prints "crm-ai: <message>" on stderr and returns 1 (or `code`).
int Fail(const std::string& message, int code = 1);

}  // namespace crm::cli
