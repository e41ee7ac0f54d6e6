// Audio decoding: any file FFmpeg's libraries read (wav, mp3, m4a/aac, ogg/opus, flac, webm,
// mp4/mov, amr, ...) becomes 16 kHz (or the asked rate) mono float32 in [-1, 1].
//
// PcmStream decodes incrementally so a consumer that streams needs bounded memory whatever the
// file's length. Channels are downmixed to their mean (one voice on one side of a stereo file
// keeps half its amplitude, nothing clips). Corrupt frames are skipped (counted, logged once as a
// warning); where the container's timestamps show audio was lost, the hole becomes silence so
// later speech keeps its time. Errors: a missing file is kNotFound; a file that is not media at
// all (text, image, unknown bytes) is kUnsupportedMediaType; media without decodable audio
// (empty, truncated before any audio, video-only, corrupt) is kUndecodable. Messages say what to
// do and never contain the file's path. Only the file itself is read: playlists and lists that
// name other files are refused, no network protocol is allowed, a path is never taken for a
// protocol ("concat:..."). FFmpeg's own log lines go to crm::log at debug level.
// Knows nothing of firms or HTTP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/result.h"

namespace crm::audio {

inline constexpr int kSampleRate = 16000;

struct MediaInfo {
  std::string container;  // e.g. "wav", "mp3", "mov,mp4,m4a,3gp,3g2,mj2"
  std::string codec;      // e.g. "pcm_s16le", "aac", "opus"
  double duration_seconds = 0;
  int sample_rate = 0;
  int channels = 0;
  int64_t bit_rate = 0;
  bool has_video = false;
  int64_t size_bytes = 0;  // of the file on disk
};

// A file read through random-access reads instead of by path: a blob in the blob store (an
// S3 object as well as a local file), so that FFmpeg never needs the file on local disk.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual int64_t size() const = 0;
  // Up to `n` bytes at `offset` into `out`; the number read, 0 at the end.
  virtual Result<size_t> ReadAt(int64_t offset, void* out, size_t n) = 0;
};

// Opens the file, finds its best audio stream and checks that at least one frame decodes.
Result<MediaInfo> Probe(const std::string& path);
Result<MediaInfo> Probe(std::shared_ptr<ByteSource> source);

class PcmStream {
 public:
  virtual ~PcmStream() = default;
  // Opens `path` for decoding to mono float32 at `sample_rate` Hz.
  static Result<std::unique_ptr<PcmStream>> Open(const std::string& path,
                                                 int sample_rate = kSampleRate);
  // The same through `source` (FFmpeg reads it via an AVIOContext); the stream keeps it.
  static Result<std::unique_ptr<PcmStream>> Open(std::shared_ptr<ByteSource> source,
                                                 int sample_rate = kSampleRate);
  // Reads up to `n` samples into `out`; returns the number read, 0 at the end of the stream.
  virtual Result<size_t> Read(float* out, size_t n) = 0;
  virtual const MediaInfo& info() const = 0;
  // Frames that failed to decode and were skipped so far.
  virtual int skipped_frames() const = 0;
};

// Decodes a whole file to memory (for short files and for tools).
Result<std::vector<float>> DecodeFile(const std::string& path, int sample_rate = kSampleRate,
                                      const ProgressSink& progress = {});

// The other way: a 16-bit PCM mono WAV file's bytes of samples in [-1, 1] (clamped, rounded to
// the nearest step), for remote transcription chunks and for tools.
std::string EncodeWav(const std::vector<float>& pcm, int sample_rate = kSampleRate);

}  // namespace crm::audio
