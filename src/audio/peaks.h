// Waveform peaks: a recording summarised as (min, max) pairs at a fixed rate, so a browser draws
// its waveform from a few hundred kilobytes instead of decoding the whole file (a 200 MB
// recording decoded in a tab is what crashes other tools' players).
//
// PeakBuilder takes decoded samples in any chunks and keeps, for every bucket of
// sample_rate / peaks_per_second samples, the smallest and the largest sample, quantised to
// int8 (-127..127, rounded outward so a quiet bucket never draws flat). At the default 50 per
// second two hours are 360,000 pairs: 720 KB. Encode/Decode give the blob kept beside the
// recording: an 8-byte magic "CRMPEAK1", then little-endian uint32 peaks_per_second, uint32
// sample_rate, float64 duration_seconds, uint64 pair count, and the pairs (int8 min, int8 max).
// Knows nothing of firms or HTTP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audio/decoder.h"
#include "audio/sample_source.h"
#include "common/progress.h"
#include "common/result.h"

namespace crm::audio {

struct Peaks {
  int peaks_per_second = 50;
  int sample_rate = kSampleRate;  // of the samples they were computed from
  double duration_seconds = 0;
  std::vector<int8_t> pairs;  // min0, max0, min1, max1, ...

  size_t size() const { return pairs.size() / 2; }
};

struct PeakOptions {
  int peaks_per_second = 50;  // 1..1000; the last bucket may hold fewer samples
};

class PeakBuilder {
 public:
  explicit PeakBuilder(int sample_rate = kSampleRate, PeakOptions options = {});
  void Add(const float* samples, size_t n);
  // The pairs so far, the partial last bucket included.
  Peaks Finish();

 private:
  void Flush();
  int sample_rate_;
  int per_second_;
  size_t bucket_;       // samples per pair
  size_t in_bucket_ = 0;
  size_t total_ = 0;
  float lo_ = 0, hi_ = 0;
  std::vector<int8_t> pairs_;
};

// Peaks of samples already decoded (the pipeline's DecodedFile), read in blocks.
Result<Peaks> ComputePeaks(const SampleSource& samples, PeakOptions options = {});
// Peaks of a media file, decoded as a stream (bounded memory, nothing written): for recordings
// processed before peaks existed. Errors of PcmStream::Open; kCancelled when `progress` asks.
Result<Peaks> ComputePeaksOfFile(const std::string& path, PeakOptions options = {},
                                 const ProgressSink& progress = {});
// The same through `source` (a blob read by FFmpeg over an AVIOContext).
Result<Peaks> ComputePeaksOfSource(std::shared_ptr<ByteSource> source, PeakOptions options = {},
                                   const ProgressSink& progress = {});

std::string EncodePeaks(const Peaks& peaks);
// kCorrupt when `bytes` is not a peaks blob (wrong magic, truncated, absurd header).
Result<Peaks> DecodePeaks(std::string_view bytes);

// At most `max_pairs` pairs: neighbouring pairs merged (min of mins, max of maxes) by the
// smallest whole factor that fits; peaks_per_second is divided by the same factor (rounded
// down, at least 1 — the exact rate is size() / duration_seconds).
Peaks Downsample(const Peaks& peaks, size_t max_pairs);

}  // namespace crm::audio
