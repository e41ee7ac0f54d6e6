// Runs an external converter (pdftotext, soffice) as a child process that cannot take the
// worker down with it: its own process group (killed as a whole on timeout or cancellation),
// an address-space limit, stdin from /dev/null, stdout and stderr to files, and a deadline.
// A crash or a hang of the child is an error for the job, never a crash of the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace crm::documents {

struct ProcessOptions {
  std::chrono::milliseconds timeout{30'000};
  std::string stdout_path = "/dev/null";
  std::string stderr_path = "/dev/null";
  std::string working_dir;                // empty: inherited
  std::vector<std::string> extra_env;     // "NAME=value", added to the inherited environment
  int64_t max_address_space_bytes = 0;    // RLIMIT_AS; 0 = unlimited
  std::function<bool()> cancelled;        // polled; true kills the child
};

struct ProcessOutcome {
  int exit_code = -1;   // when it exited
  int signal = 0;       // when a signal ended it (a crash)
};

// Runs argv[0] (a path, or a name looked up on PATH). kTimeout when the deadline passed (the
// process group is killed), kCancelled when `cancelled` said so, kUnavailable when the program
// cannot be started.
Result<ProcessOutcome> RunProcess(const std::vector<std::string>& argv,
                                  const ProcessOptions& options);

}  // namespace crm::documents
