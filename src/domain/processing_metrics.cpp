#include "domain/processing_metrics.h"

#include "common/text.h"

namespace crm::domain {

Result<ProcessingFigures> ReadProcessingFigures(storage::Store& store, const char* job_kind,
                                                int64_t now_ms) {
  ProcessingFigures f;
  CRM_ASSIGN_OR_RETURN(auto totals,
                       store.QueryOne("SELECT (SELECT COALESCE(SUM(duration), 0) FROM "
                                      "transcripts) AS audio, (SELECT COUNT(*) FROM recordings) "
                                      "AS n, (SELECT COALESCE(SUM(size_bytes), 0) FROM "
                                      "recordings) AS bytes"));
  if (totals) {
    f.transcribed_audio_seconds = totals->Real("audio");
    f.recordings = totals->Int("n");
    f.recording_bytes = totals->Int("bytes");
  }
  // Bounded: a scrape reads at most the last 2,000 jobs of the hour.
  CRM_ASSIGN_OR_RETURN(auto recent,
                       store.Query("SELECT j.started_at, j.finished_ms, r.duration_seconds FROM "
                                   "jobs j JOIN recordings r ON r.job_id = j.id WHERE j.kind = ? "
                                   "AND j.state = 'succeeded' AND j.finished_ms >= ? ORDER BY "
                                   "j.finished_ms DESC LIMIT 2000",
                                   {std::string(job_kind), now_ms - 3'600'000}));
  for (const auto& row : recent) {
    auto started = ParseIsoTime(row.Text("started_at"));
    double audio = row.Real("duration_seconds");
    if (!started || audio <= 0) continue;
    double wall =
        static_cast<double>(row.Int("finished_ms")) / 1000.0 - static_cast<double>(*started);
    if (wall < 0) continue;
    f.recent_jobs++;
    f.recent_audio_seconds += audio;
    f.recent_processing_seconds += wall;
  }
  return f;
}

}  // namespace crm::domain
