// The Prometheus harness itself, against the real server: how it reads values Prometheus
// writes in special forms, and that failures come back as errors that say why.

#include "tests/integration/prometheus_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <string>

#include "tests/integration/waiting.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

TEST(PrometheusServerIT, ScalarsAndSpecialValues) {
  PrometheusServer prometheus({});
  ASSERT_EQ(prometheus.start(), "");
  EXPECT_EQ(prometheus.query_value("1.5"), 1.5);
  EXPECT_EQ(prometheus.query_value("1/0"), INFINITY);
  EXPECT_EQ(prometheus.query_value("-1/0"), -INFINITY);
  const std::optional<double> nan = prometheus.query_value("0/0");
  ASSERT_TRUE(nan.has_value());
  EXPECT_TRUE(std::isnan(*nan));
  // A vector with labels made up on the spot; the value keeps every digit.
  const PromQueryResult vector =
      prometheus.query(R"(label_replace(vector(1795568253.595), "a", "x\"y", "", ""))");
  ASSERT_EQ(vector.error, "");
  ASSERT_EQ(vector.samples.size(), 1u);
  EXPECT_EQ(vector.samples[0].labels, (PromLabels{{"a", "x\"y"}}));
  EXPECT_EQ(vector.samples[0].value, 1795568253.595);
  EXPECT_GT(vector.samples[0].timestamp, 1.6e9);
  EXPECT_EQ(prometheus.query(R"(vector(1) == 2)").samples.size(), 0u);
}

TEST(PrometheusServerIT, ErrorsSayWhy) {
  PrometheusServer prometheus({});
  ASSERT_EQ(prometheus.start(), "");
  const PromQueryResult bad = prometheus.query("sum(");
  EXPECT_TRUE(bad.samples.empty());
  EXPECT_TRUE(contains(bad.error, "query sum(: HTTP 400, bad_data:")) << bad.error;
  EXPECT_TRUE(contains(bad.error, "parse error")) << bad.error;
  EXPECT_TRUE(contains(prometheus.query("up[1m]").error, "resultType \"matrix\""));
  EXPECT_EQ(prometheus.query_value("vector(1) == 2"), std::nullopt);
  EXPECT_TRUE(contains(prometheus.series("{").error, "bad_data"));
  EXPECT_TRUE(contains(prometheus.wait_for_scrapes(1, 1s), "no target"));
  const PromTargetsResult targets = prometheus.targets();
  EXPECT_EQ(targets.error, "");
  EXPECT_TRUE(targets.targets.empty());
}

TEST(PrometheusServerIT, ARefusedConfigFailsStartWithPrometheusLog) {
  // A timeout longer than the interval: Prometheus refuses the config and exits.
  PrometheusServer prometheus(
      {{.name = "x", .targets = {"127.0.0.1:1"}, .interval = 1s, .timeout = 2s}});
  const std::string error = prometheus.start();
  EXPECT_TRUE(contains(error, "prometheus exited")) << error;
  EXPECT_TRUE(contains(error, "scrape timeout greater than scrape interval")) << error;
  EXPECT_TRUE(contains(error, "job_name: \"x\"")) << error;  // the config is shown
}

TEST(PrometheusServerIT, DownTargetsAreScrapedAndReported) {
  // Two jobs, one with a target nobody listens on: it is down, its `up` is 0, and its failed
  // scrapes count for wait_for_scrapes.
  const std::string closed = "127.0.0.1:" + std::to_string(free_port());
  std::string dir;
  {
    PrometheusServer prometheus({{.name = "closed", .targets = {closed}},
                                 {.name = "self", .targets = {}, .metrics_path = "/metrics"}});
    ASSERT_EQ(prometheus.start(), "");
    dir = prometheus.dir();
    ASSERT_EQ(prometheus.wait_for_scrapes(2, 30s, "closed"), "");
    EXPECT_EQ(prometheus.query_value("up{job=\"closed\"}"), 0.0);
    const PromTargetsResult result = prometheus.targets();
    ASSERT_EQ(result.error, "");
    ASSERT_EQ(result.targets.size(), 1u);
    EXPECT_EQ(result.targets[0].job, "closed");
    EXPECT_EQ(result.targets[0].instance, closed);
    EXPECT_EQ(result.targets[0].health, "down");
    EXPECT_TRUE(contains(result.targets[0].last_error, "connection refused"))
        << result.targets[0].last_error;
    EXPECT_TRUE(contains(prometheus.wait_for_scrapes(1, 1s, "self"), "no target"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir)) << "left behind: " << dir;
}

}  // namespace
}  // namespace covet::testing
