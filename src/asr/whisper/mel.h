// Whisper's log-mel spectrogram, computed as the reference implementation does: 16 kHz audio,
// 400-sample periodic Hann window, hop 160, centred frames with reflection at the edges, power
// spectrum (|X|^2 of the 201 bins), the model file's mel filterbank, log10 clamped at 1e-10,
// then everything below (global maximum - 8) raised to it and scaled as (x + 4) / 4.
//
// The reference computes the spectrogram of the audio followed by 30 s of silence and takes the
// maximum over all of it. To keep memory bounded on long recordings, MelSpectrogram computes
// any range of frames on demand, and GlobalMax() makes one streaming pass for the maximum; the
// frames of a window are then exactly the reference's, at any position in a long file.
//
// The same computations read from an audio::SampleSource take only the samples their frames
// need (a frame reaches 200 samples either side of its centre), so a recording of any length is
// never held in memory: the values are bit-identical to those of the in-memory overloads.
#pragma once

#include <cstddef>
#include <vector>

#include "audio/sample_source.h"
#include "common/progress.h"
#include "common/result.h"

namespace crm::asr::whisper {

inline constexpr int kSampleRate = 16000;
inline constexpr int kNfft = 400;
inline constexpr int kHop = 160;
inline constexpr int kChunkSeconds = 30;
inline constexpr int kChunkSamples = kSampleRate * kChunkSeconds;  // 480000
inline constexpr int kChunkFrames = kChunkSamples / kHop;          // 3000

class MelSpectrogram {
 public:
  // filters: [n_mels][n_fft/2 + 1] as stored in the model file.
  MelSpectrogram(int n_mels, std::vector<float> filters);

  int n_mels() const { return n_mels_; }

  // The signal is `pcm[0..n)` followed by `pad` zero samples (the reference pads 30 s).
  // Frames of the whole signal: (n + pad) / 160.
  static int64_t FrameCount(size_t n, size_t pad) { return static_cast<int64_t>((n + pad) / kHop); }

  // log10 of the mel power (clamped at 1e-10) of frames [first, first + count), written
  // mel-major: out[m * ld + f - first]. Frames past the end of the signal are computed as the
  // reference would compute them from its reflection padding.
  void Log10Mel(const float* pcm, size_t n, size_t pad, int64_t first, int64_t count, float* out,
                int64_t ld) const;

  // The maximum of Log10Mel over every frame of the signal. Streams; memory O(1).
  float GlobalMax(const float* pcm, size_t n, size_t pad) const;

  // Turns Log10Mel output into Whisper's input: max(x, global_max - 8), then (x + 4) / 4.
  static void Normalize(float* data, size_t count, float global_max);

  // Convenience for one window: the normalised [n_mels][3000] input for frames
  // [first, first + 3000), zero-padded (as pad_or_trim does) past the last frame.
  void Window(const float* pcm, size_t n, size_t pad, int64_t first, float global_max,
              std::vector<float>* out) const;

  // GlobalMax over `source` (its samples followed by `pad` zeros), read one block of frames at
  // a time. kCancelled when `progress` asks to stop between blocks; read errors are returned.
  Result<float> GlobalMax(const audio::SampleSource& source, size_t pad,
                          const ProgressSink& progress = {}) const;

  // Window over `source`, reading only the samples of frames [first, first + 3000) into
  // `samples` (a buffer the caller reuses between windows).
  Status Window(const audio::SampleSource& source, size_t pad, int64_t first, float global_max,
                std::vector<float>* out, std::vector<float>* samples) const;

 private:
  // Samples [origin, origin + size) of a signal made of n audio samples then pad zeros. Every
  // sample of [0, n) a computed frame reaches must lie inside the span.
  struct Span {
    const float* data;
    int64_t origin;
    int64_t size;
    size_t n;
    size_t pad;
  };
  // Reads the span that frames [first, first + count) need from `source` into `buffer`.
  static Result<Span> ReadSpan(const audio::SampleSource& source, size_t pad, int64_t first,
                               int64_t count, std::vector<float>* buffer);
  void FramePower(const Span& signal, int64_t frame, double* power) const;
  void Log10Mel(const Span& signal, int64_t first, int64_t count, float* out, int64_t ld) const;
  // Largest Log10Mel value of frames [first, first + count).
  float MaxOfFrames(const Span& signal, int64_t first, int64_t count) const;
  void NormalizedWindow(const Span& signal, int64_t first, float global_max,
                        std::vector<float>* out) const;

  int n_mels_;
  std::vector<float> filters_;                // [n_mels][201]
  std::vector<std::pair<int, int>> support_;  // per band, the bins [first, last) with weight
  std::vector<double> window_;                // periodic Hann, 400
  std::vector<double> cos_, sin_;             // twiddles exp(-2 pi i k / 400)
};

}  // namespace crm::asr::whisper
