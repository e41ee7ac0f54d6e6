// Engine sub-commands for a build without the speech engines (their libraries provide the real
// ones; CMake links this file only when they are absent).
#include "cli/args.h"
#include "cli/engine_commands.h"

namespace crm::cli {
#ifndef CRM_HAVE_ASR_CLI
int RunTranscribe(const std::vector<std::string>&) { return Fail("transcription is not part of this build"); }
int RunModels(const std::vector<std::string>&) { return Fail("speech models are not part of this build"); }
#endif
#ifndef CRM_HAVE_DIARIZE_CLI
int RunDiarize(const std::vector<std::string>&) { return Fail("diarization is not part of this build"); }
#endif
}  // namespace crm::cli
