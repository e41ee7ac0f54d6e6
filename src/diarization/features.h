// Frame-level acoustic features for diarization: MFCCs every 10 ms.
//
// 25 ms Hamming windows every 10 ms, pre-emphasis 0.97, 512-point FFT, a mel filterbank of
// `mel_bands` triangles between 20 Hz and 7.6 kHz, log, DCT-II. Cepstrum c0 (log energy) is kept
// in column 0 but the speaker models use c1.. only: loudness says where someone sits, not who
// they are. The features of a two-hour recording (720 000 frames x 20 floats, 58 MB) are the
// largest buffer of the diarizer; no other buffer grows faster than linearly with the audio.
#pragma once

#include <cstddef>
#include <vector>

#include "common/progress.h"
#include "common/result.h"
#include "diarization/matrix.h"

namespace crm::diarization {

inline constexpr double kFrameSeconds = 0.01;  // hop between feature frames

struct FeatureOptions {
  int mel_bands = 40;         // triangular filters between 20 Hz and 7.6 kHz
  int cepstra = 20;           // c0..c19
};

// MFCCs of 16 kHz mono audio: frame i is centred at i * 10 ms + 12.5 ms. Audio shorter than one
// window gives zero frames. Reports progress and stops with kCancelled when asked.
// One row per frame, `cepstra` columns.
Result<Matrix> ComputeMfcc(const float* pcm, size_t n, const FeatureOptions& options = {},
                                  const ProgressSink& progress = {});

// Frame index holding time t (seconds), clamped to [0, frames].
size_t FrameAt(double seconds, size_t frames);

}  // namespace crm::diarization
