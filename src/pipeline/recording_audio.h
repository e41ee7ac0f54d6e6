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
#include "audio/vad.h"
#include "common/progress.h"
#include "common/result.h"

namespace crm::pipeline {

class RecordingAudio {
 public:
  // `media_path`: the recording's file; `tmp_dir`: where the decoded samples are kept.
  RecordingAudio(std::string media_path, std::string tmp_dir, audio::VadOptions vad);

  // The decoded samples; the first call decodes (progress and cancellation of the decode).
  Result<const audio::SampleSource*> Samples(const ProgressSink& progress = {});
  // The speech found by the VAD options' detector; the first call detects it, decoding first
  // when needed (`progress` then covers both, the decode taking the first 70 %).
  Result<const std::vector<audio::SpeechSegment>*> Speech(const ProgressSink& progress = {});

  bool decoded() const { return file_ != nullptr; }
  const std::string& media_path() const { return media_path_; }

 private:
  std::string media_path_;
  std::string tmp_dir_;
  audio::VadOptions vad_;
  std::unique_ptr<audio::DecodedFile> file_;
  bool have_speech_ = false;
  std::vector<audio::SpeechSegment> speech_;
};

}  // namespace crm::pipeline
