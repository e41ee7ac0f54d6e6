// The server's own figures for /metrics: requests by route and status with their latency, upload
// bytes, the database pool, the data directory's free space and the newest backup's age.
// Job and processing figures are added by the subsystems that own the queue (cli/subsystems.cpp).
#include <filesystem>

#include "api/app.h"
#include "common/metrics.h"

namespace crm::api {

namespace fs = std::filesystem;

namespace {

struct RequestFamilies {
  metrics::CounterFamily& requests;
  metrics::HistogramFamily& latency;
  metrics::CounterFamily& upload_bytes;
};

RequestFamilies& Families() {
  static RequestFamilies f{
      metrics::Registry::Global().Counter("crm_http_requests_total",
                                          "HTTP requests answered, by method, route and status",
                                          {"method", "route", "status"}),
      metrics::Registry::Global().Histogram(
          "crm_http_request_duration_seconds",
          "Time from the first header byte to the end of the answer, by route", {"route"},
          {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      metrics::Registry::Global().Counter(
          "crm_upload_bytes_total", "Body bytes received by streaming routes (uploads), by route",
          {"route"})};
  return f;
}

// The newest backup archive's modification time (0 when there is none).
int64_t NewestBackupUnix(const std::string& data_dir) {
  std::error_code ec;
  int64_t newest = 0;
  for (fs::directory_iterator it(fs::path(data_dir) / "backups", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().filename().string().rfind("crm-ai-", 0) != 0)
      continue;
    auto t = fs::last_write_time(it->path(), ec);
    if (ec) continue;
    auto sys = std::chrono::file_clock::to_sys(t);
    newest = std::max<int64_t>(
        newest, std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count());
  }
  return newest;
}

}  // namespace

void RecordFinishedRequest(const http::FinishedRequest& r) {
  RequestFamilies& f = Families();
  std::string route(r.route);
  f.requests.Inc({std::string(r.method), route, std::to_string(r.status)});
  f.latency.Observe({route}, r.seconds);
  if (r.streamed_bytes) f.upload_bytes.Inc({route}, static_cast<double>(r.streamed_bytes));
}

void AddCoreMetrics(App& app) {
  Families();  // registered at start, so a scrape lists them before the first request
  app.metrics.push_back([&app] {
    std::string out = metrics::Registry::Global().Render();
    storage::PoolStats pool = app.store->Pool();
    metrics::AppendHeader(out, "crm_db_pool_connections", "Database connections, by use", "gauge");
    metrics::AppendSample(out, "crm_db_pool_connections", {{"state", "open"}}, pool.open);
    metrics::AppendSample(out, "crm_db_pool_connections", {{"state", "in_use"}}, pool.in_use);
    metrics::AppendSample(out, "crm_db_pool_connections", {{"state", "max"}}, pool.max);
    metrics::AppendHeader(out, "crm_db_pool_waits_total",
                          "Times a query waited for a free database connection", "counter");
    metrics::AppendSample(out, "crm_db_pool_waits_total", {}, static_cast<double>(pool.waits));
    std::error_code ec;
    auto space = fs::space(app.config.data_dir, ec);
    if (!ec && space.capacity > 0) {
      metrics::AppendHeader(out, "crm_data_dir_free_bytes", "Free bytes in DATA_DIR's file system",
                            "gauge");
      metrics::AppendSample(out, "crm_data_dir_free_bytes", {},
                            static_cast<double>(space.available));
      metrics::AppendHeader(out, "crm_data_dir_free_ratio",
                            "Share of DATA_DIR's file system that is free (0 to 1)", "gauge");
      metrics::AppendSample(
          out, "crm_data_dir_free_ratio", {},
          static_cast<double>(space.available) / static_cast<double>(space.capacity));
    }
    metrics::AppendHeader(out, "crm_backup_last_timestamp_seconds",
                          "When the newest archive in DATA_DIR/backups was written (0: none)",
                          "gauge");
    metrics::AppendSample(out, "crm_backup_last_timestamp_seconds", {},
                          static_cast<double>(NewestBackupUnix(app.config.data_dir)));
    return out;
  });
}

}  // namespace crm::api
