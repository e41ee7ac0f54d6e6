// What the recording routes, the /v1 routes and the workers share: the blob store, the job queue,
// the engine, the pipeline, the recording store and the resumable uploads. Built once by
// cli/subsystems.cpp; route modules and job handlers hold references to it.
#pragma once

#include <memory>
#include <string>

#include "blobs/blob_store.h"
#include "config/config.h"
#include "domain/recordings.h"
#include "jobs/job_queue.h"
#include "pipeline/engine.h"
#include "pipeline/recording_job.h"
#include "pipeline/resumable_uploads.h"
#include "pipeline/upload_sink.h"
#include "storage/store.h"

namespace crm::pipeline {

struct Services {
  const config::Config& config;
  storage::Store& store;
  blobs::BlobStore& blobs;
  jobs::JobQueue& queue;
  TranscriptionEngine& engine;
  RecordingPipeline& pipeline;
  domain::RecordingStore& recordings;
  ResumableUploads& uploads;

  UploadSinkOptions SinkOptions(bool multipart_only = false) const {
    return {config.data_dir + "/tmp", config.upload_max_bytes, multipart_only};
  }
};

// Probe errors as the API states them: not media → 415 unsupported_media_type; media that does
// not decode → 422 undecodable_audio; French first.
Error MediaError(const Error& probe_error);

// A finished upload becomes a recording: probe it (415/422, nothing kept), store it in the blob
// store at its final key, insert the row with its media facts and hash (the blob is deleted when
// the row cannot be), queue its transcription. The temporary file is gone afterwards whatever
// happens. A locked intake marker in DATA_DIR/tmp covers the steps between the blob and the job,
// for SweepAbandonedIntake. Returns the recording's JSON with "duplicates".
Result<nlohmann::json> AcceptRecording(Services& s, const Principal& who,
                                       const domain::RecordingTarget& target,
                                       const domain::UploadMetadata& meta, UploadedFile& file);

struct IntakeSweep {
  int uploads_removed = 0;  // bodies of uploads cut off by a crash
  int blobs_removed = 0;    // blobs stored for a row that was never inserted
  int jobs_queued = 0;      // rows inserted whose job was not queued
};

// What a killed process left of direct uploads in DATA_DIR/tmp (intake-*): files that no live
// process holds (flock) are finished or undone. Run at start; safe beside running servers.
Result<IntakeSweep> SweepAbandonedIntake(Services& s);

}  // namespace crm::pipeline
