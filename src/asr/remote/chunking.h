// Preparing audio for a server with an upload limit: re-encoding to compact Ogg/Opus and
// splitting at quiet moments with a small overlap, reading the recording as a stream so memory
// holds one chunk at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "audio/decoder.h"
#include "common/result.h"

namespace crm::asr::remote {

// An encoded upload and the MIME details to send it with.
struct EncodedAudio {
  std::string bytes;
  std::string filename;      // "chunk.ogg" or "chunk.wav"
  std::string content_type;  // "audio/ogg" or "audio/wav"
};

struct EncoderOptions {
  // Opus bit rate. 32 kbit/s mono keeps speech fully intelligible and fits ~1.8 hours in 25 MB.
  int opus_bitrate = 32000;
};

// Encodes 16 kHz mono float PCM as Ogg/Opus (constant bit rate, so size is predictable), or as
// 16-bit WAV when FFmpeg has no Opus encoder.
Result<EncodedAudio> EncodeChunk(const std::vector<float>& pcm, int sample_rate,
                                 const EncoderOptions& options);
// Bytes per second of audio that EncodeChunk produces, ogg/wav overhead included.
double EncodedBytesPerSecond(int sample_rate, const EncoderOptions& options);

// The quietest point of pcm[from, to) measured over 100 ms windows: where a cut between two
// chunks loses the least speech. Returns a sample index in [from, to].
size_t FindQuietCut(const float* pcm, size_t from, size_t to, int sample_rate);

struct AudioChunk {
  std::vector<float> pcm;
  int64_t first_sample = 0;  // position of pcm[0] in the whole recording
  // Where this chunk's transcript hands over to the neighbours' (samples, whole recording):
  // words before `keep_from` belong to the previous chunk, words from `keep_until` on to the
  // next. The middle of each overlap, so a word cut by a chunk edge is kept whole by one side.
  int64_t keep_from = 0;
  int64_t keep_until = INT64_MAX;
  bool last = false;
};

struct SplitOptions {
  double chunk_seconds = 600;    // longest chunk
  double overlap_seconds = 1.0;  // audio given to both neighbours
  double search_seconds = 10.0;  // how far before the limit a quiet cut is looked for
};

// Reads a PcmStream chunk by chunk.
class ChunkSplitter {
 public:
  ChunkSplitter(audio::PcmStream* stream, int sample_rate, const SplitOptions& options);
  // The next chunk; a chunk with `last` set ends the recording.
  Result<AudioChunk> Next();
  bool done() const { return done_; }

 private:
  Status Fill(size_t target);

  audio::PcmStream* stream_;
  int sample_rate_;
  SplitOptions options_;
  std::vector<float> buffer_;  // samples from buffer_start_ on, read but not yet handed out
  int64_t buffer_start_ = 0;
  int64_t keep_from_ = 0;
  bool eof_ = false;
  bool done_ = false;
};

}  // namespace crm::asr::remote
