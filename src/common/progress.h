// Progress reporting and cancellation for long-running engine work (decoding, VAD, ASR,
// diarization). Engines call Report() now and then and stop early with ErrorCode::kCancelled
// when Cancelled() turns true.
#pragma once

#include <functional>

namespace crm {

struct ProgressSink {
  // fraction in [0, 1] of the work of the current call; may be empty.
  std::function<void(double fraction)> on_progress;
  // returns true when the caller wants the work stopped; may be empty.
  std::function<bool()> is_cancelled;

  void Report(double fraction) const {
    if (on_progress) on_progress(fraction);
  }
  bool Cancelled() const { return is_cancelled && is_cancelled(); }
};

}  // namespace crm
