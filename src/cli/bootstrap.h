// What every database-using sub-command does first: read the configuration, set up logging,
// prepare the data directory and open the application (applying migrations when asked).
#pragma once

#include <memory>

#include "api/app.h"

namespace crm::cli {

Result<config::Config> LoadConfigAndLogging();
Result<std::unique_ptr<api::App>> OpenFromEnvironment(bool migrate);

// Blocks SIGTERM and SIGINT in this thread and every thread started after it, so that one thread
// can wait for them with WaitForStopSignal(). Call before starting any thread.
void BlockStopSignals();
// Returns the signal received (SIGTERM or SIGINT).
int WaitForStopSignal();

}  // namespace crm::cli
