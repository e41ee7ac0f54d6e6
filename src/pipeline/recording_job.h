// The recording pipeline as a durable job: decode → transcribe → diarize (when enabled) →
// assign speakers to words → index → done.
//
// The recording is decoded once per job (RecordingAudio: a temporary file of samples under the
// temporary directory, released however the job ends) and its speech found once; the native
// engine and the diarizer both read from it, in memory independent of the recording's length.
// The remote engine sends the file itself and needs no decode unless diarization runs.
//
// One job (kind kTranscribeJobKind, dedupe key "transcribe:<recording id>") per recording. Its
// progress (fraction, stage, ETA) lives on the job row, which the API and the SSE stream read.
// Stages are checkpointed: the transcription and the diarization are kept as blobs under
// work/<firm>/<recording>/ as soon as they are computed, so a retried job (worker killed,
// diarization failed, lease lost) skips what was already done. The results reach the database
// only through the completing transaction (SaveEngineTranscript inside JobQueue::Complete), so a
// job that runs twice never writes its segments twice.
#pragma once

#include <functional>
#include <string>

#include "asr/transcript.h"
#include "blobs/blob_store.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"
#include "pipeline/engine.h"
#include "pipeline/recording_audio.h"
#include "storage/store.h"

namespace crm::pipeline {

inline constexpr const char* kTranscribeJobKind = "recording.transcribe";

// Writes a finished transcript inside the job's completing transaction.
using TranscriptWriter =
    std::function<Status(storage::Connection&, const std::string& firm_id,
                         const std::string& recording_id, const asr::Transcript&)>;

struct PipelineOptions {
  bool diarization = true;              // DIARIZATION
  std::string default_language = "fr";  // TRANSCRIPTION_LANGUAGE
  std::string vad = "silero";           // VAD
  std::string vad_model;                // VAD_MODEL
  int queue_timeout = 300;              // QUEUE_TIMEOUT, scaled with the audio's length
  int diarization_threads = 1;          // the job's share of the cores (as WHISPER_THREADS)
  // Where a job keeps its decoded samples (DATA_DIR/tmp). Empty: the system's temporary
  // directory.
  std::string tmp_dir;
};

class RecordingPipeline {
 public:
  RecordingPipeline(storage::Store& store, blobs::BlobStore& blobs, TranscriptionEngine& engine,
                    TranscriptWriter writer, PipelineOptions options)
      : store_(store),
        blobs_(blobs),
        engine_(engine),
        writer_(std::move(writer)),
        options_(std::move(options)) {}

  // The handler to register on a WorkerPool for kTranscribeJobKind. Removes the decoded-sample
  // files a crashed worker may have left in the temporary directory.
  jobs::Handler Handler();

  // The directory decoded samples go to (see PipelineOptions::tmp_dir).
  std::string TemporaryDir() const;

  // Queues (or finds the active) job of a recording and links it to the row.
  Result<std::string> Enqueue(jobs::JobQueue& queue, const std::string& firm_id,
                              const std::string& recording_id, double duration_seconds);

  // The initial prompt: the client's, its contacts' and the meeting participants' names, then
  // the firm's custom terms (firm settings "vocabulary": a list or a comma-separated text).
  Result<std::string> VocabularyPrompt(const std::string& firm_id, const std::string& recording_id);
  // The most speakers the diarizer may find in a recording: its meeting's participants plus one
  // (a voice the list leaves out, often the firm's own), 0 (no bound) without participants. A
  // hint, never the count: fewer speakers are found when fewer speak.
  Result<int> SpeakerBound(const std::string& firm_id, const std::string& recording_id);

 private:
  Result<jobs::ResultWriter> Run(jobs::JobContext& ctx);
  // Whether a stage still to run reads decoded samples (no usable checkpoint yet).
  Result<bool> NeedsSamples(const std::string& firm, const std::string& id);
  Result<asr::Transcript> TranscribeStage(jobs::JobContext& ctx, const std::string& firm,
                                          const std::string& id, RecordingAudio& audio,
                                          const std::string& language);
  Status DiarizeStage(jobs::JobContext& ctx, const std::string& firm, const std::string& id,
                      RecordingAudio& audio, asr::Transcript* transcript);

  storage::Store& store_;
  blobs::BlobStore& blobs_;
  TranscriptionEngine& engine_;
  TranscriptWriter writer_;
  PipelineOptions options_;
};

// Stage checkpoints: work/<firm>/<recording>/<name>.json
std::string CheckpointKey(const std::string& firm_id, const std::string& recording_id,
                          const std::string& name);
// Removes a recording's checkpoints (after completion or deletion). Best effort.
void DeleteCheckpoints(blobs::BlobStore& blobs, const std::string& firm_id,
                       const std::string& recording_id);

// Lossless JSON of a transcript (segments, words, speakers, tokens, scores) for checkpoints.
nlohmann::json TranscriptToJson(const asr::Transcript& t);
Result<asr::Transcript> TranscriptFromJson(const nlohmann::json& j);

}  // namespace crm::pipeline
