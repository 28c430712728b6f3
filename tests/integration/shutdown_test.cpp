// SIGTERM as a sidecar gets it from the kubelet.

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kShutdownConfig = R"(
listen: 127.0.0.1:{PORT}
log: { format: json, level: info }
shutdown: { drain_delay: 1500ms, grace_period: 8s }
probes:
  - { name: data, type: disk, path: {DIR}, interval: 200ms, warn_free_percent: 0, fail_free_percent: 0, warn_free_inodes_percent: 0, fail_free_inodes_percent: 0 }
)";

TEST(ShutdownIT, SigtermFailsReadinessKeepsLivenessFinishesInFlightAndExitsZero) {
  SidecarProcess sidecar(kShutdownConfig);
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  ASSERT_TRUE(sidecar.wait_for_status("/health/ready", 200, 10s)) << sidecar.logs();
  {
    // What the endpoints answer is on /metrics too, for alerts on readiness itself.
    HttpClient client;
    const std::string page = client.get(sidecar.url("/metrics")).body;
    EXPECT_NE(page.find("\ncovet_sidecar_ready 1\n"), std::string::npos) << page;
    EXPECT_NE(page.find("\ncovet_sidecar_live 1\n"), std::string::npos) << page;
  }

  // A request in flight: headers started, not finished.
  RawConnection in_flight(sidecar.port());
  ASSERT_TRUE(in_flight.send("GET /health/live HTTP/1.1\r\nHost: x\r\n"));
  std::this_thread::sleep_for(100ms);

  const auto signalled = std::chrono::steady_clock::now();
  sidecar.signal(SIGTERM);
  std::this_thread::sleep_for(200ms);

  // During the drain delay: readiness fails at once, liveness stays up, and new
  // connections are still served (the endpoints controller has not caught up yet).
  HttpClient client;
  HttpResult ready = client.get(sidecar.url("/health/ready?verbose"));
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("[-]shutdown failed: draining"), std::string::npos) << ready.body;
  EXPECT_EQ(client.get(sidecar.url("/health/live")).status, 200);
  const std::string draining_page = client.get(sidecar.url("/metrics")).body;
  EXPECT_NE(draining_page.find("\ncovet_sidecar_draining 1\n"), std::string::npos);
  EXPECT_NE(draining_page.find("\ncovet_sidecar_ready 0\n"), std::string::npos);
  EXPECT_NE(draining_page.find("\ncovet_sidecar_live 1\n"), std::string::npos);

  // The in-flight request completes after the signal.
  ASSERT_TRUE(in_flight.send("\r\n"));
  std::string response = in_flight.read_responses(1, 5s);
  EXPECT_EQ(response.substr(0, response.find("\r\n")), "HTTP/1.1 200 OK") << response;

  std::optional<int> code = sidecar.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << "still running after SIGTERM\n" << sidecar.logs();
  EXPECT_EQ(*code, 0) << sidecar.logs();
  // It waited for the drain delay before leaving.
  EXPECT_GE(std::chrono::steady_clock::now() - signalled, 1400ms);
  const std::string logs = sidecar.logs();
  EXPECT_NE(logs.find("shutdown started"), std::string::npos) << logs;
  EXPECT_NE(logs.find("covet-sidecar stopped"), std::string::npos) << logs;
}

TEST(ShutdownIT, BusyConnectionPastGracePeriodIsCutAndExitIsStillZero) {
  SidecarProcess sidecar(R"(
listen: 127.0.0.1:{PORT}
shutdown: { drain_delay: 100ms, grace_period: 1s }
server: { request_timeout: 30s }
probes: []
)");
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  RawConnection stuck(sidecar.port());
  ASSERT_TRUE(stuck.send("GET /health/live HTTP/1.1\r\nHost: x\r\n"));  // never finished
  std::this_thread::sleep_for(100ms);
  sidecar.signal(SIGTERM);
  std::optional<int> code = sidecar.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << sidecar.logs();
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(stuck.wait_closed(1s));
  EXPECT_NE(sidecar.logs().find("grace period over"), std::string::npos) << sidecar.logs();
}

TEST(ShutdownIT, SigintWorksLikeSigterm) {
  SidecarProcess sidecar(R"(
listen: 127.0.0.1:{PORT}
shutdown: { drain_delay: 0s, grace_period: 2s }
probes: []
)");
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  sidecar.signal(SIGINT);
  std::optional<int> code = sidecar.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST(ShutdownIT, PortInUseIsAClearErrorAndExitOne) {
  SidecarProcess first(R"(
listen: 127.0.0.1:{PORT}
probes: []
)");
  ASSERT_TRUE(first.start());
  SidecarProcess second("listen: 127.0.0.1:" + std::to_string(first.port()) + "\nprobes: []\n");
  EXPECT_FALSE(second.start());
  std::optional<int> code = second.wait_exit(5s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  EXPECT_NE(second.logs().find("address already in use"), std::string::npos) << second.logs();
}

}  // namespace
}  // namespace covet::testing
