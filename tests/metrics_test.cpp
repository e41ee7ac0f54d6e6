// GET /metrics against the real server: the Prometheus text format parsed strictly, requests
// counted by route and status with latency histograms, upload bytes, jobs by kind and state,
// the processing figures of a recording processed through the OpenAI-compatible stand-in, the
// database pool; and every metric that deploy/'s alert rules and Grafana dashboard name exists.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "test_server.h"

namespace crm::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Scrape {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // family → counter/gauge/histogram
  std::vector<std::string> errors;

  double Sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    double total = 0;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) {
        auto it = s.labels.find(k);
        ok &= it != s.labels.end() && it->second == v;
      }
      if (ok) total += s.value;
    }
    return total;
  }
  bool Has(const std::string& name) const {
    for (const auto& s : samples)
      if (s.name == name || s.name == name + "_bucket" || s.name == name + "_count") return true;
    return false;
  }
};

// The text exposition format, version 0.0.4: comments, then `name{label="value",...} number`.
Scrape Parse(const std::string& text) {
  Scrape out;
  std::istringstream in(text);
  std::string line;
  static const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream c(line);
      std::string hash, kind, name, type;
      c >> hash >> kind >> name >> type;
      if (kind == "TYPE") out.types[name] = type;
      continue;
    }
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, name_re)) {
      out.errors.push_back("bad name: " + line);
      continue;
    }
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          out.errors.push_back("bad label: " + line);
          break;
        }
        std::string key = line.substr(i, eq - i), value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      out.errors.push_back("no value: " + line);
      continue;
    }
    std::string v = line.substr(i + 1);
    char* end = nullptr;
    s.value = v == "+Inf" ? 1e308 : std::strtod(v.c_str(), &end);
    if (v != "+Inf" && (end == v.c_str() || *end != '\0'))
      out.errors.push_back("bad value: " + line);
    out.samples.push_back(s);
  }
  return out;
}

Scrape GetMetrics(const TestServer& s) {
  auto r = s.Get("/metrics");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("content-type").find("text/plain"), std::string::npos);
  Scrape m = Parse(r.body);
  EXPECT_TRUE(m.errors.empty()) << m.errors.front();
  return m;
}

TEST(Metrics, RequestsJobsUploadsAndProcessingAreCountedInThePrometheusFormat) {
  StandIn stand_in;
  TestServer s({{"TRANSCRIPTION_MODE", "openai"},
                {"OPENAI_BASE_URL", stand_in.url()},
                {"OPENAI_API_KEY", "sk-stand-in"},
                {"VAD", "energy"},
                {"DIARIZATION", "off"}});
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet Métriques");
  auto h = Bearer(f.api_key);

  Scrape before = GetMetrics(s);
  // Registered from the start, before any request of theirs.
  EXPECT_EQ(before.types["crm_http_requests_total"], "counter");
  EXPECT_EQ(before.types["crm_http_request_duration_seconds"], "histogram");
  EXPECT_EQ(before.types["crm_upload_bytes_total"], "counter");
  const std::map<std::string, std::string> clients_ok = {
      {"method", "GET"}, {"route", "/api/clients"}, {"status", "200"}};
  double listed_before = before.Sum("crm_http_requests_total", clients_ok);

  for (int i = 0; i < 7; ++i) ASSERT_EQ(s.Get("/api/clients", h).status, 200);
  EXPECT_EQ(s.Get("/api/clients/does-not-exist", h).status, 404);
  EXPECT_EQ(s.Get("/api/clients").status, 401);
  EXPECT_EQ(s.Get("/api/no-such-route", h).status, 404);

  std::string client = s.Call("POST", "/api/clients", {{"name", "Mme Roux"}}, h).json()["id"];
  std::string meeting =
      s.Call("POST", "/api/meetings",
             {{"client_id", client}, {"title", "Bilan"}, {"starts_at", "2026-12-01T09:00:00Z"}}, h)
          .json()["id"];
  std::string wav = ReadFile(SourceDir() + "/tests/data/asr/jfk.wav");
  auto up =
      Send(s.port(), {"POST",
                      "/api/meetings/" + meeting + "/recordings?consent=true",
                      wav,
                      {{"Authorization", "Bearer " + f.api_key}, {"Content-Type", "audio/wav"}}});
  ASSERT_EQ(up.status, 201) << up.body;
  std::string job = up.json()["job_id"];
  json j;
  for (auto deadline = Clock::now() + std::chrono::seconds(60); Clock::now() < deadline;) {
    j = s.Get("/api/jobs/" + job, h).json();
    if (j["state"] == "succeeded" || j["state"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(j["state"], "succeeded") << j << s.log();

  Scrape m = GetMetrics(s);
  // Requests by route pattern (never the raw path) and status.
  EXPECT_EQ(m.Sum("crm_http_requests_total", clients_ok) - listed_before, 7);
  EXPECT_GE(m.Sum("crm_http_requests_total",
                  {{"method", "GET"}, {"route", "/api/clients/{id}"}, {"status", "404"}}),
            1);
  EXPECT_GE(m.Sum("crm_http_requests_total", {{"route", "/api/clients"}, {"status", "401"}}), 1);
  EXPECT_GE(m.Sum("crm_http_requests_total", {{"route", "unmatched"}, {"status", "404"}}), 1);
  for (const auto& sample : m.samples)
    if (sample.name == "crm_http_requests_total")
      EXPECT_EQ(sample.labels.at("route").find("does-not-exist"), std::string::npos);
  // The histogram: cumulative buckets ending at +Inf = _count, for the clients list.
  std::vector<double> buckets;
  for (const auto& sample : m.samples)
    if (sample.name == "crm_http_request_duration_seconds_bucket" &&
        sample.labels.at("route") == "/api/clients")
      buckets.push_back(sample.value);
  ASSERT_GE(buckets.size(), 2u);
  for (size_t i = 1; i < buckets.size(); ++i) EXPECT_GE(buckets[i], buckets[i - 1]);
  EXPECT_EQ(buckets.back(),
            m.Sum("crm_http_request_duration_seconds_count", {{"route", "/api/clients"}}));
  EXPECT_GE(buckets.back(), 8);  // 7 now, one or more before
  // The upload's bytes, on its route.
  EXPECT_EQ(m.Sum("crm_upload_bytes_total", {{"route", "/api/meetings/{id}/recordings"}}),
            static_cast<double>(wav.size()));
  // Jobs by kind and state; the queue is empty again.
  EXPECT_EQ(m.Sum("crm_jobs", {{"kind", "recording.transcribe"}, {"state", "succeeded"}}), 1);
  EXPECT_EQ(m.Sum("crm_queue_depth"), 0);
  // Processing figures: jfk.wav is 11 s; its job ran within the last hour.
  EXPECT_NEAR(m.Sum("crm_transcribed_audio_seconds"), 11.0, 0.1);
  EXPECT_EQ(m.Sum("crm_recordings"), 1);
  EXPECT_EQ(m.Sum("crm_recording_bytes"), static_cast<double>(wav.size()));
  EXPECT_EQ(m.Sum("crm_recordings_processed_last_hour"), 1);
  double rtf = m.Sum("crm_processing_realtime_factor");
  EXPECT_GT(rtf, 0);
  EXPECT_LT(rtf, 10);
  // The pool and the disk.
  EXPECT_GE(m.Sum("crm_db_pool_connections", {{"state", "open"}}), 1);
  EXPECT_EQ(m.Sum("crm_db_pool_connections", {{"state", "max"}}), 8);
  double free_ratio = m.Sum("crm_data_dir_free_ratio");
  EXPECT_GT(free_ratio, 0);
  EXPECT_LE(free_ratio, 1);
  EXPECT_EQ(m.Sum("crm_backup_last_timestamp_seconds"), 0);  // no backup yet
  // Every sample's family was declared.
  for (const auto& sample : m.samples) {
    std::string family = std::regex_replace(sample.name, std::regex("_(bucket|sum|count)$"), "");
    EXPECT_TRUE(m.types.count(sample.name) || m.types.count(family))
        << sample.name << " has no # TYPE";
  }
  // Nothing of the caller's key reaches the metrics.
  EXPECT_EQ(s.Get("/metrics").body.find(f.api_key), std::string::npos);
}

TEST(Metrics, EveryMetricTheAlertRulesAndTheDashboardUseIsServed) {
  TestServer s;
  ASSERT_TRUE(s.Start()) << s.log();
  Scrape m = GetMetrics(s);
  // Families that only have samples once something happened still declare their type.
  std::set<std::string> served;
  for (const auto& [name, type] : m.types) served.insert(name);
  for (const auto& sample : m.samples) served.insert(sample.name);

  // The alert rules parse as Prometheus rule groups (YAML, with the fields Prometheus requires).
  std::string rules_path = SourceDir() + "/deploy/prometheus/alerts.yml";
  std::string check =
      "/usr/bin/python3 -c \"import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); "
      "rules = [r for g in d['groups'] for r in g['rules']]; "
      "assert rules and all(r['alert'] and r['expr'] and r['labels']['severity'] and "
      "r['annotations']['summary'] for r in rules), 'incomplete rule'; print(len(rules))\" " +
      rules_path;
  ASSERT_EQ(std::system(check.c_str()), 0) << rules_path;

  static const std::regex metric_re("crm_[a-z_]+");
  for (std::string path : {rules_path, SourceDir() + "/deploy/grafana/crm-ai.json"}) {
    std::string text = ReadFile(path);
    std::set<std::string> used;
    for (std::sregex_iterator it(text.begin(), text.end(), metric_re), end; it != end; ++it)
      used.insert(it->str());
    EXPECT_GE(used.size(), 5u) << path;
    for (std::string name : used) {
      std::string family = std::regex_replace(name, std::regex("_(bucket|sum|count)$"), "");
      EXPECT_TRUE(served.count(name) || served.count(family))
          << path << " uses " << name << ", which /metrics does not serve";
    }
  }
  ASSERT_NO_THROW((void)json::parse(ReadFile(SourceDir() + "/deploy/grafana/crm-ai.json")));

  // The backup-age alert reads the newest archive that `crm-ai backup` wrote.
  EXPECT_EQ(m.Sum("crm_backup_last_timestamp_seconds"), 0);
  auto backup = s.Run({"backup"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  double written = GetMetrics(s).Sum("crm_backup_last_timestamp_seconds");
  double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(written, now - 120);
  EXPECT_LE(written, now + 1);
}

// Behind a reverse proxy on the same machine every request arrives from loopback: the
// loopback-only /metrics must judge the client the proxy names, and only a proxy listed in
// TRUSTED_PROXIES is believed.
TEST(Metrics, LoopbackOnlyMetricsJudgeTheClientATrustedProxyNames) {
  TestServer behind(Env{{{"TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"}}});
  ASSERT_TRUE(behind.Start()) << behind.log();
  EXPECT_EQ(behind.Get("/metrics").status, 200);  // the proxy's own scrape, no header
  EXPECT_EQ(behind.Get("/metrics", {{"X-Forwarded-For", "127.0.0.1"}}).status, 200);
  HttpResult outside = behind.Get("/metrics", {{"X-Forwarded-For", "203.0.113.7"}});
  EXPECT_EQ(outside.status, 403) << outside.body;
  EXPECT_EQ(outside.json()["error"]["code"], "forbidden") << outside.body;
  // A client that writes its own header cannot pass for loopback: nginx appends its address.
  EXPECT_EQ(behind.Get("/metrics", {{"X-Forwarded-For", "127.0.0.1, 203.0.113.7"}}).status, 403);
  EXPECT_EQ(behind.Get("/metrics", {{"X-Forwarded-For", "not-an-address"}}).status, 403);
  // The access log names the client, not the proxy.
  for (int i = 0; i < 50 && behind.log().find("203.0.113.7") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(behind.log().find("203.0.113.7"), std::string::npos);

  // Without TRUSTED_PROXIES the header is nobody's word: the loopback peer is the client.
  TestServer direct;
  ASSERT_TRUE(direct.Start()) << direct.log();
  EXPECT_EQ(direct.Get("/metrics", {{"X-Forwarded-For", "203.0.113.7"}}).status, 200);

  // A list that is not one is refused (doctor, serve), naming the variable and the entry.
  TestServer bad(Env{{{"TRUSTED_PROXIES", "127.0.0.1, proxy.local"}}});
  CommandResult doctor = bad.Run({"doctor"});
  EXPECT_NE(doctor.exit_code, 0);
  const std::string said = doctor.out + doctor.err;
  EXPECT_NE(said.find("TRUSTED_PROXIES"), std::string::npos) << said;
  EXPECT_NE(said.find("proxy.local"), std::string::npos) << said;
}

}  // namespace
}  // namespace crm::testing
