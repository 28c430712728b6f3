#include "exporters/metrics/probe_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "exporters/metrics/exposition.h"

namespace covet::metrics {
namespace {

using namespace std::chrono_literals;
using probes::Status;

class ProbeMetricsTest : public ::testing::Test {
 protected:
  ProbeMetricsTest() {
    exposition.add(registry);
    exposition.add(metrics.readings());
  }
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  ProbeMetrics metrics{*registry};
  Exposition exposition;
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(ProbeMetricsTest, NewProbeIsUnknownAndDown) {
  metrics.add_probe("db", "postgres");
  const std::string text = exposition.render();
  EXPECT_TRUE(contains(text, "covet_sidecar_probe_up{probe=\"db\",type=\"postgres\"} 0\n")) << text;
  EXPECT_TRUE(contains(text, "covet_sidecar_probe_state{probe=\"db\",state=\"unknown\"} 1\n"))
      << text;
  EXPECT_TRUE(contains(text, "covet_sidecar_probe_state{probe=\"db\",state=\"passing\"} 0\n"))
      << text;
  EXPECT_TRUE(contains(text, "# TYPE covet_sidecar_probe_duration_seconds histogram\n")) << text;
}

TEST_F(ProbeMetricsTest, StateAndUpFollowTheEffectiveState) {
  auto i = metrics.add_probe("db", "postgres");
  metrics.set_state(i, Status::warning);
  std::string text = exposition.render();
  EXPECT_TRUE(contains(text, "covet_sidecar_probe_up{probe=\"db\",type=\"postgres\"} 1\n"));
  EXPECT_TRUE(contains(text, "covet_sidecar_probe_state{probe=\"db\",state=\"warning\"} 1\n"));
  EXPECT_TRUE(contains(text, "covet_sidecar_probe_state{probe=\"db\",state=\"unknown\"} 0\n"));
  metrics.set_state(i, Status::failing);
  text = exposition.render();
  EXPECT_TRUE(contains(text, "covet_sidecar_probe_up{probe=\"db\",type=\"postgres\"} 0\n"));
  EXPECT_TRUE(contains(text, "covet_sidecar_probe_state{probe=\"db\",state=\"failing\"} 1\n"));
}

TEST_F(ProbeMetricsTest, RunsCountDurationAndFailuresByReason) {
  auto i = metrics.add_probe("db", "postgres");
  probes::ProbeResult ok;
  ok.status = Status::passing;
  ok.latency = 3ms;
  probes::ProbeResult timeout;
  timeout.status = Status::failing;
  timeout.reason = "timeout";
  timeout.latency = 2s;
  metrics.observe_run(i, ok);
  metrics.observe_run(i, timeout);
  metrics.observe_run(i, timeout);
  const std::string text = exposition.render();
  EXPECT_TRUE(contains(text, "covet_sidecar_probe_duration_seconds_count{probe=\"db\"} 3\n"))
      << text;
  EXPECT_TRUE(
      contains(text, "covet_sidecar_probe_duration_seconds_bucket{probe=\"db\",le=\"0.005\"} 1\n"))
      << text;
  EXPECT_TRUE(
      contains(text, "covet_sidecar_probe_failures_total{probe=\"db\",reason=\"timeout\"} 2\n"))
      << text;
}

TEST_F(ProbeMetricsTest, ReadingsBecomeFamiliesWithTheProbeLabel) {
  auto a = metrics.add_probe("root", "disk");
  auto b = metrics.add_probe("data", "disk");
  auto reading = [](std::string mount, double v) {
    probes::Reading r;
    r.name = "node_filesystem_avail_bytes";
    r.help = "Filesystem space available to non-root users in bytes.";
    r.labels = {{"mountpoint", std::move(mount)}};
    r.value = v;
    return r;
  };
  probes::ProbeResult ra;
  ra.status = Status::passing;
  ra.readings = {reading("/", 1024)};
  probes::ProbeResult rb;
  rb.status = Status::passing;
  rb.readings = {reading("/data", 2048)};
  probes::Reading oom;
  oom.name = "covet_sidecar_memory_oom_kills_total";
  oom.help = "OOM kills.";
  oom.counter = true;
  oom.value = 2;
  rb.readings.push_back(oom);
  metrics.observe_run(a, ra);
  metrics.observe_run(b, rb);
  const std::string text = exposition.render();
  // One family, one HELP/TYPE, both series.
  EXPECT_EQ(text.find("# TYPE node_filesystem_avail_bytes gauge"),
            text.rfind("# TYPE node_filesystem_avail_bytes gauge"));
  EXPECT_TRUE(contains(text, "node_filesystem_avail_bytes{probe=\"root\",mountpoint=\"/\"} 1024\n"))
      << text;
  EXPECT_TRUE(
      contains(text, "node_filesystem_avail_bytes{probe=\"data\",mountpoint=\"/data\"} 2048\n"))
      << text;
  EXPECT_TRUE(contains(text, "# TYPE covet_sidecar_memory_oom_kills_total counter\n")) << text;
  // A later run replaces the readings, it does not add to them.
  ra.readings = {reading("/", 512)};
  metrics.observe_run(a, ra);
  const std::string again = exposition.render();
  EXPECT_TRUE(
      contains(again, "node_filesystem_avail_bytes{probe=\"root\",mountpoint=\"/\"} 512\n"));
  EXPECT_FALSE(contains(again, "} 1024\n"));
}

TEST(CallbackCollector, RendersWhatTheCallbackReturns) {
  Exposition exposition;
  double value = 1;
  exposition.add(std::make_shared<CallbackCollector>(
      [&] { return std::vector<prometheus::MetricFamily>{gauge_family("x_bytes", "X.", value)}; }));
  EXPECT_TRUE(contains(exposition.render(), "x_bytes 1\n"));
  value = 7;
  EXPECT_TRUE(contains(exposition.render(), "x_bytes 7\n"));
}

}  // namespace
}  // namespace covet::metrics
