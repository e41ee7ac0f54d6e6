#include "common/metrics.h"

#include <gtest/gtest.h>

namespace crm::metrics {
namespace {

TEST(Metrics, CountersRenderWithEscapedLabelsAndOnlyGoUp) {
  CounterFamily c("crm_things_total", "Things", {"kind"});
  c.Inc({"a\"b\\c\nd"}, 2);
  c.Inc({"a\"b\\c\nd"});
  c.Inc({"x"}, -5);  // refused: counters never go down
  std::string out;
  c.Render(out);
  EXPECT_NE(out.find("# TYPE crm_things_total counter\n"), std::string::npos);
  EXPECT_NE(out.find("crm_things_total{kind=\"a\\\"b\\\\c\\nd\"} 3\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("kind=\"x\""), std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfEqualToCount) {
  HistogramFamily h("crm_latency_seconds", "Latency", {"route"}, {0.1, 1});
  h.Observe({"/a"}, 0.05);
  h.Observe({"/a"}, 0.1);  // on the bound: in the 0.1 bucket (le = less or equal)
  h.Observe({"/a"}, 0.5);
  h.Observe({"/a"}, 7);
  std::string out;
  h.Render(out);
  EXPECT_NE(out.find("crm_latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 2\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("crm_latency_seconds_bucket{route=\"/a\",le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("crm_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"),
            std::string::npos);
  EXPECT_NE(out.find("crm_latency_seconds_sum{route=\"/a\"} 7.65\n"), std::string::npos);
  EXPECT_NE(out.find("crm_latency_seconds_count{route=\"/a\"} 4\n"), std::string::npos);
  EXPECT_EQ(h.Count({"/a"}), 4u);
}

TEST(Metrics, ValuesAreWrittenAsPrometheusReadsThem) {
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  std::string out;
  AppendSample(out, "crm_x", {{"state", "in\"use"}}, 2);
  EXPECT_EQ(out, "crm_x{state=\"in\\\"use\"} 2\n");
}

}  // namespace
}  // namespace crm::metrics
