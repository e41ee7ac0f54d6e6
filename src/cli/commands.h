// The sub-commands of crm-ai (one file each). Each takes the arguments after its name and
// returns the process exit code; failures print one clear line on stderr.
#pragma once

#include <string>
#include <vector>

#include "cli/engine_commands.h"

namespace crm::cli {

int RunServe(const std::vector<std::string>& args);     // serve_command.cpp
int RunWorker(const std::vector<std::string>& args);    // worker_command.cpp
int RunMigrate(const std::vector<std::string>& args);   // admin_commands.cpp
int RunSeed(const std::vector<std::string>& args);      // seed_command.cpp
int RunDoctor(const std::vector<std::string>& args);    // doctor_command.cpp
int RunBackup(const std::vector<std::string>& args);    // backup_command.cpp
int RunRestore(const std::vector<std::string>& args);   // backup_command.cpp
int RunFirm(const std::vector<std::string>& args);      // admin_commands.cpp
int RunUser(const std::vector<std::string>& args);      // admin_commands.cpp
int RunApiKey(const std::vector<std::string>& args);    // admin_commands.cpp
int RunHelp(const std::vector<std::string>& args);      // help_command.cpp
int Dispatch(int argc, char** argv);                    // help_command.cpp

}  // namespace crm::cli
