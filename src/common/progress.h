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

  // A sink for a step that is [from, to] of this one's work: its fractions are mapped into that
  // range, its cancellation is this one's. It refers to *this, which must outlive it.
  ProgressSink Part(double from, double to) const {
    ProgressSink part;
    part.is_cancelled = is_cancelled;
    if (on_progress)
      part.on_progress = [this, from, to](double f) { Report(from + (to - from) * f); };
    return part;
  }
};

}  // namespace crm
