// Random access to a recording's decoded samples (16 kHz mono float32), without holding them all
// in memory.
//
// Engines (VAD, transcription, diarization) read the windows they need from a SampleSource
// instead of taking one vector of the whole recording: two hours of audio are 460 MB of floats,
// and every engine that decoded on its own multiplied that. A DecodedFile decodes a recording
// once into a temporary float32 file and serves reads from it with pread(), so the page cache,
// not the process heap, holds the samples; a MemorySampleSource wraps samples already in memory
// (tests, short clips, tools). Reads are const and have no shared cursor: any number of threads
// may read one source at once. Knows nothing of firms or HTTP.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>

#include "audio/decoder.h"
#include "common/progress.h"
#include "common/result.h"

namespace crm::audio {

class SampleSource {
 public:
  virtual ~SampleSource() = default;
  // Number of samples.
  virtual size_t size() const = 0;
  // Samples per second (kSampleRate for decoded recordings).
  virtual int sample_rate() const = 0;
  // Copies samples [start, start + n), clipped to size(), into `out`; returns how many were
  // copied (0 when start >= size()). Thread-safe for concurrent readers.
  virtual Result<size_t> Read(size_t start, float* out, size_t n) const = 0;

  double duration_seconds() const {
    return sample_rate() > 0 ? static_cast<double>(size()) / sample_rate() : 0.0;
  }
};

// Samples already in memory. Does not own them: they must outlive the source. Header-only, so
// engines can take a SampleSource without linking the decoder.
class MemorySampleSource final : public SampleSource {
 public:
  MemorySampleSource(const float* pcm, size_t n, int sample_rate = kSampleRate)
      : pcm_(pcm), n_(n), sample_rate_(sample_rate) {}
  size_t size() const override { return n_; }
  int sample_rate() const override { return sample_rate_; }
  Result<size_t> Read(size_t start, float* out, size_t n) const override {
    if (start >= n_) return size_t{0};
    const size_t take = std::min(n, n_ - start);
    std::memcpy(out, pcm_ + start, take * sizeof(float));
    return take;
  }

 private:
  const float* pcm_;
  size_t n_;
  int sample_rate_;
};

// Temporary files of DecodedFile start with this prefix (then the process id and a random part).
inline constexpr const char* kDecodedFilePrefix = "crm-decoded-";

// A recording decoded once (PcmStream, so the same samples DecodeFile gives) into a temporary
// float32 file in a directory, read back with pread().
//
// The file is unlinked as soon as it is open: it has no name while it is used, so nothing is
// left behind when the process ends, even killed; the kernel frees the space when the
// descriptor closes (the object is destroyed, or a decode fails or is cancelled). Only a crash
// in the instant between creating and unlinking can leave a `crm-decoded-*` file, which
// RemoveStaleDecodedFiles() deletes at the next start. Removing such a file while another
// process still uses it is harmless, since that process reads through its open descriptor.
class DecodedFile final : public SampleSource {
 public:
  // Decodes `media_path` at `sample_rate` into a temporary file created in `dir` (created when
  // missing). Errors of PcmStream::Open are returned as they are (kNotFound, kUndecodable,
  // kUnsupportedMediaType); kCancelled when `progress` asks to stop; kIo when the directory or
  // the disk fails. Progress reports the fraction of the recording's duration decoded.
  static Result<std::unique_ptr<DecodedFile>> Decode(const std::string& media_path,
                                                     const std::string& dir,
                                                     const ProgressSink& progress = {},
                                                     int sample_rate = kSampleRate);
  // The same from a file read through `media` (a blob), never by path.
  static Result<std::unique_ptr<DecodedFile>> Decode(std::shared_ptr<ByteSource> media,
                                                     const std::string& dir,
                                                     const ProgressSink& progress = {},
                                                     int sample_rate = kSampleRate);
  ~DecodedFile() override;
  DecodedFile(const DecodedFile&) = delete;
  DecodedFile& operator=(const DecodedFile&) = delete;

  size_t size() const override { return size_; }
  int sample_rate() const override { return sample_rate_; }
  Result<size_t> Read(size_t start, float* out, size_t n) const override;

  // What the decoder found in the file (container, codec, duration, ...).
  const MediaInfo& info() const { return info_; }
  // Damaged frames skipped while decoding.
  int skipped_frames() const { return skipped_frames_; }

 private:
  DecodedFile() = default;
  static Result<std::unique_ptr<DecodedFile>> FromStream(PcmStream& stream, const std::string& dir,
                                                         const ProgressSink& progress,
                                                         int sample_rate);
  int fd_ = -1;
  size_t size_ = 0;
  int sample_rate_ = kSampleRate;
  MediaInfo info_;
  int skipped_frames_ = 0;
};

// Where a tool without a configured data directory keeps decoded samples: `preferred` when it
// is an existing directory (the data directory's tmp/), else the system's temporary directory
// ($TMPDIR, or /tmp).
std::string ScratchDirectory(const std::string& preferred);

// Deletes the `crm-decoded-*` files a crash left in `dir`; returns how many were removed.
// A missing directory is not an error.
Result<int> RemoveStaleDecodedFiles(const std::string& dir);

}  // namespace crm::audio
