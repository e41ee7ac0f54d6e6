// Process-wide counters and histograms, rendered in the Prometheus text exposition format
// (version 0.0.4) by GET /metrics.
//
// A family has a name, a help line and label names; each distinct list of label values is one
// series. Families are created once (usually as function-local statics) and live as long as the
// process. Updates take a short lock per family; label values are escaped when rendered
// (backslash, double quote, newline), so a request path or a job kind cannot break the format.
// Values that live in the database (jobs, recordings) are not kept here: /metrics reads them at
// scrape time, so that every server of an installation reports the same figures.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace crm::metrics {

class Family {
 public:
  virtual ~Family() = default;
  virtual void Render(std::string& out) const = 0;
};

class CounterFamily final : public Family {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> labels);
  void Inc(const std::vector<std::string>& values, double by = 1);
  double Value(const std::vector<std::string>& values) const;
  void Render(std::string& out) const override;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, double> series_;
};

class HistogramFamily final : public Family {
 public:
  // `bounds`: the upper bounds of the buckets, increasing; +Inf is added.
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                  std::vector<double> bounds);
  void Observe(const std::vector<std::string>& values, double x);
  uint64_t Count(const std::vector<std::string>& values) const;
  void Render(std::string& out) const override;

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // non-cumulative; the last is +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, Series> series_;
};

// The families of this process, in the order they were registered.
class Registry {
 public:
  static Registry& Global();
  CounterFamily& Counter(std::string name, std::string help, std::vector<std::string> labels);
  HistogramFamily& Histogram(std::string name, std::string help, std::vector<std::string> labels,
                             std::vector<double> bounds);
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

// Helpers for gauges read at scrape time: "# HELP/# TYPE" lines and one sample.
void AppendHeader(std::string& out, std::string_view name, std::string_view help,
                  std::string_view type);
void AppendSample(std::string& out, std::string_view name,
                  const std::vector<std::pair<std::string, std::string>>& labels, double value);
// A label value escaped for the text format.
std::string EscapeLabel(std::string_view v);
// A number as Prometheus writes it ("+Inf", integers without a decimal point).
std::string FormatValue(double v);

}  // namespace crm::metrics
