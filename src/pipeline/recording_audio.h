// A recording's audio, decoded once for every stage of its job.
//
// Voice activity detection, native transcription and diarization all read the same 16 kHz
// samples. RecordingAudio decodes the file on first need into an audio::DecodedFile in the
// temporary directory (DATA_DIR/tmp) and finds its speech once; every stage then reads windows
// from it, so a two-hour recording costs one decode and bounded memory instead of one
// 460 MB vector per stage. The temporary file is released with the object, whatever way the job
// ends (done, failed, cancelled); DecodedFile has it unlinked from the start.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "audio/sample_source.h"
#include "blobs/blob_store.h"
#include "audio/vad.h"
#include "common/progress.h"
#include "common/result.h"

namespace crm::pipeline {

// A blob as FFmpeg's input: reads go through BlobReader::ReadAt, whatever the store.
Result<std::shared_ptr<audio::ByteSource>> OpenBlobSource(blobs::BlobStore& blobs,
                                                          std::string_view key);

class RecordingAudio {
 public:
  // `media_path`: the recording's file; `tmp_dir`: where the decoded samples are kept.
  RecordingAudio(std::string media_path, std::string tmp_dir, audio::VadOptions vad);
  // The recording read through `media` (a blob).
  RecordingAudio(std::shared_ptr<audio::ByteSource> media, std::string tmp_dir,
                 audio::VadOptions vad);
  ~RecordingAudio();
  RecordingAudio(const RecordingAudio&) = delete;
  RecordingAudio& operator=(const RecordingAudio&) = delete;

  // The decoded samples; the first call decodes (progress and cancellation of the decode).
  Result<const audio::SampleSource*> Samples(const ProgressSink& progress = {});
  // The speech found by the VAD options' detector; the first call detects it, decoding first
  // when needed (`progress` then covers both, the decode taking the first 70 %).
  Result<const std::vector<audio::SpeechSegment>*> Speech(const ProgressSink& progress = {});

  bool decoded() const { return file_ != nullptr; }
  // A path to the recording's bytes for an engine that sends the file itself: the file given,
  // or a copy of the blob in an anonymous file of the temporary directory (/proc/self/fd/N),
  // made on first call and gone with this object however the process ends.
  Result<std::string> MediaPath();

 private:
  std::string media_path_;
  std::shared_ptr<audio::ByteSource> media_;
  int copy_fd_ = -1;
  std::string tmp_dir_;
  audio::VadOptions vad_;
  std::unique_ptr<audio::DecodedFile> file_;
  bool have_speech_ = false;
  std::vector<audio::SpeechSegment> speech_;
};

}  // namespace crm::pipeline
