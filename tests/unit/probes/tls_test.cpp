// The TLS probe's loop behaviour against servers that are not TLS servers: what it reports,
// that it reports once, and that cancel() leaves nothing open. The handshakes with real
// certificates are in tests/integration/tls_probe_test.cpp.

#include "probes/tls.h"

#include <gtest/gtest.h>

#include "tests/support/test_http_server.h"

namespace covet::probes {
namespace {

using covet::testing::TestHttpServer;

class TlsProbeTest : public ::testing::Test {
 protected:
  void SetUp() override { uv_loop_init(&loop_); }
  void TearDown() override { EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open"; }

  static config::TlsProbeConfig settings(const std::string& address) {
    config::TlsProbeConfig tls;
    tls.address = address;
    tls.server_name = "localhost";
    return tls;
  }

  ProbeResult run(const config::TlsProbeConfig& tls) {
    TlsProbe probe(&loop_, tls);
    int completions = 0;
    ProbeResult result;
    probe.start([&](ProbeResult r) {
      ++completions;
      result = std::move(r);
    });
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(completions, 1);
    return result;
  }

  uv_loop_t loop_{};
};

TEST_F(TlsProbeTest, RefusedWhenNothingListens) {
  const ProbeResult result = run(settings("127.0.0.1:1"));
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "refused");
  EXPECT_TRUE(result.readings.empty());
}

TEST_F(TlsProbeTest, ServerClosingDuringTheHandshakeIsHandshakeFailed) {
  TestHttpServer server;
  server.set_mode(TestHttpServer::Mode::close);
  const ProbeResult result = run(settings("127.0.0.1:" + std::to_string(server.port())));
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "handshake_failed") << result.error;
}

TEST_F(TlsProbeTest, MissingCaFileFailsTheCheck) {
  TestHttpServer server;
  config::TlsProbeConfig tls = settings("127.0.0.1:" + std::to_string(server.port()));
  tls.ca_file = "/nonexistent/ca.pem";
  const ProbeResult result = run(tls);
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_NE(result.error.find("ca_file /nonexistent/ca.pem"), std::string::npos) << result.error;
}

TEST_F(TlsProbeTest, CancelDuringTheHandshakeReportsNothingAndClosesTheHandle) {
  TestHttpServer server;
  server.set_mode(TestHttpServer::Mode::hang);
  int completions = 0;
  {
    TlsProbe probe(&loop_, settings("127.0.0.1:" + std::to_string(server.port())));
    probe.start([&](ProbeResult) { ++completions; });
    // Let the connect finish and the ClientHello go out, then give up as a timeout would.
    for (int i = 0; i < 20; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    probe.cancel();
    probe.start([&](ProbeResult) { ++completions; });
    // Destroyed with the second check in flight: its handle closes on the loop.
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(completions, 0);
}

TEST_F(TlsProbeTest, CancelDuringResolution) {
  int completions = 0;
  {
    TlsProbe probe(&loop_, settings("localhost:1"));
    probe.start([&](ProbeResult) { ++completions; });
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(completions, 0);
}

}  // namespace
}  // namespace covet::probes
