// Engine sub-commands of crm-ai. Each takes the arguments after its name and returns the
// process exit code. They need no database and no data directory: results go to stdout,
// logs to stderr.
#pragma once

#include <string>
#include <vector>

namespace crm::cli {

int RunTranscribe(const std::vector<std::string>& args);  // cli/transcribe_command.cpp
int RunDiarize(const std::vector<std::string>& args);     // cli/diarize_command.cpp
int RunModels(const std::vector<std::string>& args);      // cli/models_command.cpp

}  // namespace crm::cli
