#include "common/metrics.h"

#include <cmath>
#include <cstdio>

namespace crm::metrics {

std::string EscapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

void AppendHeader(std::string& out, std::string_view name, std::string_view help,
                  std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

namespace {

void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out.append(names[i]).append("=\"").append(EscapeLabel(i < values.size() ? values[i] : ""));
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out.append(extra_name).append("=\"").append(extra_value).append("\"");
  }
  out += '}';
}

}  // namespace

void AppendSample(std::string& out, std::string_view name,
                  const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  out.append(name);
  if (!labels.empty()) {
    out += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out += ',';
      out.append(labels[i].first).append("=\"").append(EscapeLabel(labels[i].second)) += '"';
    }
    out += '}';
  }
  out.append(" ").append(FormatValue(value)).append("\n");
}

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

void CounterFamily::Inc(const std::vector<std::string>& values, double by) {
  if (!(by >= 0)) return;  // counters only go up
  std::lock_guard lock(mu_);
  series_[values] += by;
}

double CounterFamily::Value(const std::vector<std::string>& values) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second;
}

void CounterFamily::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "counter");
  std::lock_guard lock(mu_);
  if (series_.empty() && labels_.empty()) out.append(name_).append(" 0\n");
  for (const auto& [values, v] : series_) {
    out.append(name_);
    AppendLabels(out, labels_, values);
    out.append(" ").append(FormatValue(v)).append("\n");
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> labels, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      bounds_(std::move(bounds)) {}

void HistogramFamily::Observe(const std::vector<std::string>& values, double x) {
  if (std::isnan(x)) return;
  size_t b = 0;
  while (b < bounds_.size() && x > bounds_[b]) ++b;
  std::lock_guard lock(mu_);
  Series& s = series_[values];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size() + 1, 0);
  s.buckets[b]++;
  s.sum += x;
  s.count++;
}

uint64_t HistogramFamily::Count(const std::vector<std::string>& values) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second.count;
}

void HistogramFamily::Render(std::string& out) const {
  AppendHeader(out, name_, help_, "histogram");
  std::lock_guard lock(mu_);
  for (const auto& [values, s] : series_) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= bounds_.size(); ++b) {
      cumulative += s.buckets[b];
      out.append(name_).append("_bucket");
      AppendLabels(out, labels_, values, "le",
                   b < bounds_.size() ? FormatValue(bounds_[b]) : "+Inf");
      out.append(" ").append(std::to_string(cumulative)).append("\n");
    }
    out.append(name_).append("_sum");
    AppendLabels(out, labels_, values);
    out.append(" ").append(FormatValue(s.sum)).append("\n");
    out.append(name_).append("_count");
    AppendLabels(out, labels_, values);
    out.append(" ").append(std::to_string(s.count)).append("\n");
  }
}

Registry& Registry::Global() {
  static Registry* registry = new Registry();  // lives until exit, read by any thread
  return *registry;
}

CounterFamily& Registry::Counter(std::string name, std::string help,
                                 std::vector<std::string> labels) {
  auto f = std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(labels));
  CounterFamily& ref = *f;
  std::lock_guard lock(mu_);
  families_.push_back(std::move(f));
  return ref;
}

HistogramFamily& Registry::Histogram(std::string name, std::string help,
                                     std::vector<std::string> labels, std::vector<double> bounds) {
  auto f = std::make_unique<HistogramFamily>(std::move(name), std::move(help), std::move(labels),
                                             std::move(bounds));
  HistogramFamily& ref = *f;
  std::lock_guard lock(mu_);
  families_.push_back(std::move(f));
  return ref;
}

std::string Registry::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& f : families_) f->Render(out);
  return out;
}

}  // namespace crm::metrics
