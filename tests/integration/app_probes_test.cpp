// The http and tcp probes in the real binary, against a real HTTP server started by the test
// (tests/support/test_http_server.h) that can answer 200 or 500, hang, or go away.

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <thread>

#include "tests/integration/sidecar_process.h"
#include "tests/support/test_http_server.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

std::string config_with(const std::string& probe) {
  return R"(
listen: 127.0.0.1:{PORT}
log: { format: json, level: debug }
shutdown: { drain_delay: 100ms, grace_period: 5s }
probes:
)" + probe;
}

std::string http_probe(const std::string& url, const std::string& extra = "") {
  return "  - name: app\n"
         "    type: http\n"
         "    url: " +
         url +
         "\n"
         "    interval: 300ms\n"
         "    timeout: 250ms\n"
         "    failure_threshold: 2\n" +
         extra;
}

class AppProbesIT : public ::testing::Test {
 protected:
  // Starts the sidecar; fails the test when it does not come up.
  void start(const std::string& probe) {
    sidecar = std::make_unique<SidecarProcess>(config_with(probe));
    ASSERT_TRUE(sidecar->start()) << sidecar->logs();
  }
  // Polls `path` for `status`, and records how long the reaction took in the test output.
  void expect_status(const std::string& path, long status, std::chrono::milliseconds within) {
    const auto begin = std::chrono::steady_clock::now();
    const bool reached = sidecar->wait_for_status(path, status, within);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - begin);
    RecordProperty(path + " -> " + std::to_string(status) + " ms", std::to_string(took.count()));
    EXPECT_TRUE(reached) << path << " never answered " << status << "\n"
                         << client.get(sidecar->url("/health?verbose")).body << sidecar->logs();
  }
  // Polls `path` until its body contains `needle`; returns the last body.
  std::string wait_for_text(const std::string& path, const std::string& needle,
                            std::chrono::milliseconds within) {
    const auto begin = std::chrono::steady_clock::now();
    std::string body;
    while (std::chrono::steady_clock::now() - begin < within) {
      body = client.get(sidecar->url(path)).body;
      if (body.find(needle) != std::string::npos) {
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - begin);
        RecordProperty(path + " shows " + needle + " ms", std::to_string(took.count()));
        return body;
      }
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << path << " never showed " << needle << ":\n" << body << sidecar->logs();
    return body;
  }
  std::string verbose_ready() { return client.get(sidecar->url("/health/ready?verbose")).body; }
  std::string metrics() { return client.get(sidecar->url("/metrics")).body; }

  TestHttpServer app;
  std::unique_ptr<SidecarProcess> sidecar;
  HttpClient client;
};

TEST_F(AppProbesIT, HttpPassingMakesReady) {
  start(http_probe(app.url("/health/live")));
  expect_status("/health/ready", 200, 5s);
  EXPECT_EQ(verbose_ready(), "[+]app ok\nready check passed\n");
  const std::string health = client.get(sidecar->url("/health")).body;
  EXPECT_NE(health.find("\"status_code\":\"200\""), std::string::npos) << health;
  EXPECT_NE(metrics().find("probe_http_status_code{probe=\"app\"} 200"), std::string::npos)
      << metrics();
  // Keep-alive: several checks, one connection.
  std::this_thread::sleep_for(1s);
  EXPECT_GE(app.requests(), 3);
  EXPECT_EQ(app.connections(), 1);
}

TEST_F(AppProbesIT, AppAnswering500IsNotReadyWithReasonStatus) {
  app.respond(500, "Internal Server Error", "oops");
  start(http_probe(app.url("/health/live")));
  wait_for_text("/health/ready?verbose",
                "[-]app failed: GET " + app.url("/health/live") +
                    ": 500 Internal Server Error, expected 200-399",
                5s);
  EXPECT_EQ(client.get(sidecar->url("/health/ready")).status, 503);
  EXPECT_NE(metrics().find("covet_sidecar_probe_failures_total{probe=\"app\",reason=\"status\"}"),
            std::string::npos)
      << metrics();
  // And back when the app recovers.
  app.respond(200, "OK", "ok");
  expect_status("/health/ready", 200, 5s);
}

TEST_F(AppProbesIT, HangingAppTimesOutWhileTheEndpointsKeepAnswering) {
  app.set_mode(TestHttpServer::Mode::hang);
  start(http_probe(app.url("/health/live"), "    roles: [liveness, readiness]\n"));
  // Liveness is the point: a hung app fails it after failure_threshold timeouts.
  expect_status("/health/live", 503, 5s);
  EXPECT_NE(verbose_ready().find("[-]app failed: check timed out after 250ms"), std::string::npos)
      << verbose_ready();
  EXPECT_NE(metrics().find("covet_sidecar_probe_failures_total{probe=\"app\",reason=\"timeout\"}"),
            std::string::npos);
  // Our own endpoints never wait on the hanging app.
  for (int i = 0; i < 5; ++i) {
    const auto begin = std::chrono::steady_clock::now();
    const HttpResult live = client.get(sidecar->url("/health/live"));
    const auto took = std::chrono::steady_clock::now() - begin;
    EXPECT_EQ(live.status, 503);
    EXPECT_LT(took, 500ms);  // generous for loaded CI machines; typically well under 10ms
    std::this_thread::sleep_for(100ms);
  }
  // A cancelled check drops its connection: the hung app does not collect them from us
  // beyond one per check.
  EXPECT_LE(app.connections(), app.requests() + 1);
}

TEST_F(AppProbesIT, AppDownIsRefused) {
  const std::uint16_t closed_port = free_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port) + "/health/live";
  start(http_probe(url));
  wait_for_text("/health/ready?verbose", "[-]app failed: GET " + url + ": ", 5s);
  EXPECT_EQ(client.get(sidecar->url("/health/ready")).status, 503);
  EXPECT_NE(metrics().find("covet_sidecar_probe_failures_total{probe=\"app\",reason=\"refused\"}"),
            std::string::npos)
      << metrics();
  EXPECT_EQ(client.get(sidecar->url("/health/live")).status, 200) << "app is readiness only";
}

TEST_F(AppProbesIT, BodyMismatchFailsWithReasonBody) {
  app.respond(200, "OK", "{\"status\":\"DOWN\"}");
  start(http_probe(app.url("/health"), "    body_contains: UP\n"));
  wait_for_text("/health/ready?verbose", "does not contain \"UP\"", 5s);
  EXPECT_EQ(client.get(sidecar->url("/health/ready")).status, 503);
  EXPECT_NE(metrics().find("covet_sidecar_probe_failures_total{probe=\"app\",reason=\"body\"}"),
            std::string::npos)
      << metrics();
}

TEST_F(AppProbesIT, ShutdownWithChecksInFlightIsClean) {
  app.set_mode(TestHttpServer::Mode::hang);
  start("  - { name: app, type: http, url: \"" + app.url("/") +
        "\", interval: 5s, timeout: 5s }\n"
        "  - { name: port, type: tcp, address: \"localhost:" +
        std::to_string(app.port()) + "\" }\n");
  // The http check is waiting on the hanging app when SIGTERM arrives.
  for (int i = 0; i < 100 && app.requests() == 0; ++i) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(app.requests(), 1);
  sidecar->signal(SIGTERM);
  const std::optional<int> code = sidecar->wait_exit(5s);
  ASSERT_TRUE(code.has_value()) << sidecar->logs();
  EXPECT_EQ(*code, 0) << sidecar->logs();
  // Under the sanitizer build a leaked handle or a use after free shows up here.
  EXPECT_EQ(sidecar->logs().find("Sanitizer"), std::string::npos) << sidecar->logs();
  EXPECT_EQ(sidecar->logs().find("runtime error"), std::string::npos) << sidecar->logs();
}

TEST_F(AppProbesIT, TcpOpenPortPassesClosedPortIsRefused) {
  start("  - { name: open, type: tcp, address: \"127.0.0.1:" + std::to_string(app.port()) +
        "\", interval: 300ms, timeout: 250ms }\n"
        "  - { name: closed, type: tcp, address: \"127.0.0.1:" +
        std::to_string(free_port()) +
        "\", interval: 300ms, timeout: 250ms, failure_threshold: 1 }\n");
  expect_status("/health/ready", 503, 5s);
  for (int i = 0; i < 50; ++i) {
    const std::string body = verbose_ready();
    if (body.find("[+]open ok") != std::string::npos &&
        body.find("[-]closed failed: connect 127.0.0.1:") != std::string::npos)
      break;
    std::this_thread::sleep_for(100ms);
  }
  const std::string body = verbose_ready();
  EXPECT_NE(body.find("[+]open ok"), std::string::npos) << body;
  EXPECT_NE(body.find("ECONNREFUSED connection refused"), std::string::npos) << body;
  EXPECT_NE(
      metrics().find("covet_sidecar_probe_failures_total{probe=\"closed\",reason=\"refused\"}"),
      std::string::npos);
}

}  // namespace
}  // namespace covet::testing
