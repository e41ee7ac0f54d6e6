// A recording's waveform peaks (audio/peaks.h), kept as a blob beside its file:
// "<blob_key>.peaks" (recordings/<firm>/<id>.peaks), written once by the recording job right
// after it decodes, deleted with the recording.
//
// Recordings processed before peaks existed (or whose peaks blob was lost or damaged) get them
// on first request: LoadOrComputePeaks decodes the file as a stream (bounded memory, no
// temporary file), stores the result and returns it; concurrent requests for the same
// recording wait for the one computation instead of decoding the file once each.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <condition_variable>

#include "audio/peaks.h"
#include "audio/sample_source.h"
#include "blobs/blob_store.h"
#include "common/result.h"

namespace crm::pipeline {

// The peaks blob of a recording whose file is `recording_blob_key`.
std::string PeaksKey(const std::string& recording_blob_key);

// Computes and stores the peaks of decoded samples (the job's RecordingAudio).
Status SavePeaksOfSamples(blobs::BlobStore& blobs, const std::string& recording_blob_key,
                          const audio::SampleSource& samples);

// Computes and stores the peaks of the recording's file, decoding it as a stream.
Status SavePeaksOfFile(blobs::BlobStore& blobs, const std::string& recording_blob_key,
                       const ProgressSink& progress = {});

class WaveformPeaks {
 public:
  explicit WaveformPeaks(blobs::BlobStore& blobs) : blobs_(blobs) {}

  // The stored peaks, or computed now from the file when missing or unreadable. Errors: the
  // decoder's (kNotFound, kUndecodable) and kUnavailable when the file is not on local disk.
  Result<audio::Peaks> LoadOrCompute(const std::string& recording_blob_key);

 private:
  Result<std::optional<audio::Peaks>> Load(const std::string& key);

  blobs::BlobStore& blobs_;
  std::mutex mu_;
  std::condition_variable done_;
  std::set<std::string> computing_;  // recording blob keys being computed now
};

}  // namespace crm::pipeline
