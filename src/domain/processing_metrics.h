// Figures of the installation's processing for /metrics, read from the database at scrape time
// so that every server of an installation reports the same values whichever worker did the work.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "storage/store.h"

namespace crm::domain {

struct ProcessingFigures {
  double transcribed_audio_seconds = 0;  // all stored transcripts
  int64_t recordings = 0;
  int64_t recording_bytes = 0;
  // Recording jobs that succeeded in the last hour: audio seconds and wall seconds spent on them
  // (from the claim to the end of the job); their ratio is the real-time factor.
  int64_t recent_jobs = 0;
  double recent_audio_seconds = 0;
  double recent_processing_seconds = 0;
};

// `job_kind`: the recording job's kind (pipeline::kTranscribeJobKind).
Result<ProcessingFigures> ReadProcessingFigures(storage::Store& store, const char* job_kind,
                                                int64_t now_ms);

}  // namespace crm::domain
