// A recording's waveform peaks (audio/peaks.h), kept as a blob beside its file:
// "<blob_key>.peaks" (recordings/<firm>/<id>.peaks), written once by the recording job right
// after it decodes, deleted with the recording.
//
// Recordings processed before peaks existed (or whose peaks blob was lost or damaged) get them
// from a job of their own (kWaveformJobKind), queued by the first request that finds none: the
// request answers at once ("being prepared") and never decodes audio itself, since a two-hour
// file takes a handler tens of seconds. A file that cannot be decoded leaves a marker blob
// ("<key>.peaks-failed") so that later requests say so instead of queueing again.
#pragma once

#include <optional>
#include <string>

#include "audio/peaks.h"
#include "audio/sample_source.h"
#include "blobs/blob_store.h"
#include "common/result.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"
#include "storage/store.h"

namespace crm::pipeline {

// The peaks blob of a recording whose file is `recording_blob_key`.
std::string PeaksKey(const std::string& recording_blob_key);

// Computes and stores the peaks of decoded samples (the job's RecordingAudio).
Status SavePeaksOfSamples(blobs::BlobStore& blobs, const std::string& recording_blob_key,
                          const audio::SampleSource& samples);

// Computes and stores the peaks of the recording's file, decoding it as a stream.
Status SavePeaksOfFile(blobs::BlobStore& blobs, const std::string& recording_blob_key,
                       const ProgressSink& progress = {});

inline constexpr const char* kWaveformJobKind = "recording.waveform";

// The marker a waveform job leaves when the recording's file cannot be decoded.
std::string PeaksFailedKey(const std::string& recording_blob_key);

// The stored peaks; nullopt when there are none or the blob is damaged.
Result<std::optional<audio::Peaks>> LoadPeaks(blobs::BlobStore& blobs,
                                              const std::string& recording_blob_key);

// Queues (or finds the queued) waveform job of a recording; returns its id.
Result<std::string> EnqueueWaveform(jobs::JobQueue& queue, const std::string& firm_id,
                                    const std::string& recording_id);

// The handler of kWaveformJobKind: payload {"recording_id"}, firm from the job. Does nothing for
// a recording deleted since, or whose peaks exist by now.
class WaveformJob {
 public:
  WaveformJob(storage::Store& store, blobs::BlobStore& blobs) : store_(store), blobs_(blobs) {}
  jobs::Handler Handler();

 private:
  Result<jobs::ResultWriter> Run(jobs::JobContext& ctx);
  storage::Store& store_;
  blobs::BlobStore& blobs_;
};

}  // namespace crm::pipeline
