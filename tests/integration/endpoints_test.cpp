// The endpoints of the real binary, through a real HTTP client.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/config_snippets.h"
#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

class EndpointsIT : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(sidecar.start()) << sidecar.logs();
    ASSERT_TRUE(sidecar.wait_for_status("/health/ready", 200, 10s)) << sidecar.logs();
    // The memory check is report-only, so readiness does not wait for it: wait for every
    // check to have reported.
    for (int i = 0; i < 200; ++i) {
      if (client.get(sidecar.url("/health")).body.find("\"status\":\"healthy\"") !=
          std::string::npos)
        return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "never healthy: " << client.get(sidecar.url("/health")).body;
  }
  SidecarProcess sidecar{kPassingConfig};
  HttpClient client;
};

TEST_F(EndpointsIT, ProbeEndpointsAnswerOk) {
  for (const char* path : {"/health/live", "/health/ready", "/health/startup"}) {
    HttpResult r = client.get(sidecar.url(path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "ok\n") << path;
    EXPECT_EQ(r.headers["content-length"], "3") << path;
    EXPECT_FALSE(r.headers["date"].empty()) << path;
  }
}

TEST_F(EndpointsIT, VerboseListsEveryCheckOfTheRole) {
  HttpResult r = client.get(sidecar.url("/health/ready?verbose"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[+]data ok\nready check passed\n");  // memory is report-only
  r = client.get(sidecar.url("/health/ready?verbose&exclude=data"));
  EXPECT_EQ(r.body, "[+]data excluded: ok\nready check passed\n");
}

TEST_F(EndpointsIT, HealthJsonDescribesEveryCheck) {
  HttpResult r = client.get(sidecar.url("/health"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_NE(r.body.find("\"status\":\"healthy\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"data\":{\"type\":\"disk\",\"status\":\"passing\""), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"memory\":{\"type\":\"memory\",\"status\":\"passing\""),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"free_percent\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"uptime_seconds\""), std::string::npos);
  EXPECT_NE(r.body.find("\"version\""), std::string::npos);
  EXPECT_NE(r.body.find("\"latency_seconds\":0."), std::string::npos);
}

TEST_F(EndpointsIT, HeadHasLengthButNoBody) {
  HttpResult r = client.get(sidecar.url("/health/ready"), "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-length"], "3");
  EXPECT_TRUE(r.body.empty());
}

TEST_F(EndpointsIT, KeepAliveReusesTheConnection) {
  HttpClient fresh;
  HttpResult first = fresh.get(sidecar.url("/health/live"));
  HttpResult second = fresh.get(sidecar.url("/health/ready"));
  EXPECT_EQ(first.new_connections, 1);
  EXPECT_EQ(second.new_connections, 0);
  EXPECT_EQ(second.status, 200);
}

TEST_F(EndpointsIT, NotFoundAndMethodNotAllowed) {
  HttpResult r = client.get(sidecar.url("/nope"));
  EXPECT_EQ(r.status, 404);
  r = client.get(sidecar.url("/health/ready"), "POST");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["allow"], "GET, HEAD");
  r = client.get(sidecar.url("/health/ready"), "DELETE");
  EXPECT_EQ(r.status, 405);
}

TEST_F(EndpointsIT, MetricsHaveProbeDiskProcessAndBuildSeries) {
  HttpResult r = client.get(sidecar.url("/metrics"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  for (const char* needle : {
           "covet_sidecar_probe_up{probe=\"data\",type=\"disk\"} 1",
           "covet_sidecar_probe_state{probe=\"data\",state=\"passing\"} 1",
           "covet_sidecar_probe_state{probe=\"data\",state=\"failing\"} 0",
           "covet_sidecar_probe_duration_seconds_bucket{probe=\"data\",le=\"+Inf\"}",
           "node_filesystem_avail_bytes{probe=\"data\"",
           "node_filesystem_size_bytes{probe=\"data\"",
           "node_filesystem_files_free{probe=\"data\"",
           "covet_sidecar_memory_working_set_bytes{probe=\"memory\"",
           "covet_sidecar_memory_limit_bytes{probe=\"memory\"",
           "process_resident_memory_bytes ",
           "process_cpu_seconds_total ",
           "process_open_fds ",
           "process_start_time_seconds ",
           "covet_sidecar_build_info{",
           "covet_sidecar_http_requests_total ",
       }) {
    EXPECT_NE(r.body.find(needle), std::string::npos) << "missing: " << needle;
  }
}

TEST_F(EndpointsIT, PromtoolAcceptsMetrics) {
  HttpResult r = client.get(sidecar.url("/metrics"));
  ASSERT_EQ(r.status, 200);
  const std::string path = sidecar.dir() + "/metrics.txt";
  std::ofstream(path) << r.body;
  CommandResult check = run_shell("promtool check metrics < " + path + " 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.out;
  // Exit 0 still allows output; a clean page has none.
  EXPECT_EQ(check.out, "");
}

TEST_F(EndpointsIT, LogsAreJsonLinesWithStateChanges) {
  const std::string logs = sidecar.logs();
  EXPECT_NE(logs.find("\"msg\":\"covet-sidecar started\""), std::string::npos) << logs;
  EXPECT_NE(logs.find("\"msg\":\"probe state "
                      "changed\",\"probe\":\"data\",\"from\":\"unknown\",\"to\":\"passing\""),
            std::string::npos)
      << logs;
  std::istringstream lines(logs);
  for (std::string line; std::getline(lines, line);) {
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_EQ(line.back(), '}') << line;
  }
}

// A probe that fails must take readiness down and say why; one that only warns must not.
TEST(ProbeVerdictsIT, FailingDiskMakesNotReadyWithReason) {
  SidecarProcess sidecar(R"(
listen: 127.0.0.1:{PORT}
probes:
  - name: data
    type: disk
    path: {DIR}
    interval: 300ms
    timeout: 300ms
    failure_threshold: 2
    warn_free_percent: 100
    fail_free_percent: 100
)");
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  ASSERT_TRUE(sidecar.wait_for_status("/health/ready", 503, 10s));
  // Wait for the failure threshold, not just the initial unknown.
  HttpClient client;
  HttpResult r;
  for (int i = 0; i < 100; ++i) {
    r = client.get(sidecar.url("/health/ready?verbose"));
    if (r.body.find("[-]data failed:") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("[-]data failed: "), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("fail threshold"), std::string::npos) << r.body;
  EXPECT_EQ(client.get(sidecar.url("/health/live")).status, 200);  // liveness never follows disk
  EXPECT_EQ(client.get(sidecar.url("/health/startup")).status, 503);
  r = client.get(sidecar.url("/health"));
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("\"status\":\"unhealthy\""), std::string::npos);
  r = client.get(sidecar.url("/metrics"));
  EXPECT_NE(r.body.find("covet_sidecar_probe_failures_total{probe=\"data\",reason=\"threshold\"}"),
            std::string::npos);
  EXPECT_NE(r.body.find("covet_sidecar_probe_up{probe=\"data\",type=\"disk\"} 0"),
            std::string::npos);
}

TEST(ProbeVerdictsIT, WarningDiskStaysReadyButDegraded) {
  SidecarProcess sidecar(R"(
listen: 127.0.0.1:{PORT}
probes:
  - name: data
    type: disk
    path: {DIR}
    interval: 200ms
    warn_free_percent: 100
    fail_free_percent: 0
)");
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  ASSERT_TRUE(sidecar.wait_for_status("/health/ready", 200, 10s));
  HttpClient client;
  HttpResult r = client.get(sidecar.url("/health"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"status\":\"degraded\""), std::string::npos) << r.body;
  r = client.get(sidecar.url("/health/ready?verbose"));
  EXPECT_NE(r.body.find("[+]data ok (warning: "), std::string::npos) << r.body;
}

}  // namespace
}  // namespace covet::testing
