// Where the running executable lives: files the product ships (the Silero VAD model, the web
// UI) are found relative to it, never relative to the working directory.
#pragma once

#include <string>

namespace crm {

// Directory of /proc/self/exe, without a trailing slash; "." when it cannot be read.
std::string ExecutableDir();

}  // namespace crm
