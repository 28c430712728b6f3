#include "probes/tcp.h"

#include <gtest/gtest.h>

#include "tests/support/test_http_server.h"

namespace covet::probes {
namespace {

class TcpProbeTest : public ::testing::Test {
 protected:
  void SetUp() override { uv_loop_init(&loop_); }
  void TearDown() override { EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open"; }

  ProbeResult run(const std::string& address) {
    TcpProbe probe(&loop_, config::TcpProbeConfig{address});
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

TEST_F(TcpProbeTest, PassesWhenSomethingAccepts) {
  covet::testing::TestHttpServer server;
  const ProbeResult result = run("127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(result.status, Status::passing) << result.error;
  EXPECT_EQ(result.reason, "");
}

TEST_F(TcpProbeTest, HostNamesAreResolved) {
  covet::testing::TestHttpServer server;
  // localhost may resolve to ::1 first, where nothing listens: either answer is a real one,
  // but it must be one of these two, through the resolver.
  const ProbeResult result = run("localhost:" + std::to_string(server.port()));
  EXPECT_TRUE(result.status == Status::passing || result.reason == "refused") << result.error;
}

TEST_F(TcpProbeTest, RefusedWhenNothingListens) {
  const ProbeResult result = run("127.0.0.1:1");
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "refused");
  EXPECT_EQ(result.error, "connect 127.0.0.1:1: ECONNREFUSED connection refused");
}

TEST_F(TcpProbeTest, CancelReportsNothingAndClosesTheHandle) {
  int completions = 0;
  {
    TcpProbe probe(&loop_, config::TcpProbeConfig{"127.0.0.1:1"});
    probe.start([&](ProbeResult) { ++completions; });
    probe.cancel();
    probe.start([&](ProbeResult) { ++completions; });
    // Destroyed with the second check in flight: its handle closes on the loop.
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(completions, 0);
}

TEST_F(TcpProbeTest, CancelDuringResolution) {
  int completions = 0;
  {
    TcpProbe probe(&loop_, config::TcpProbeConfig{"localhost:1"});
    probe.start([&](ProbeResult) { ++completions; });
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(completions, 0);
}

}  // namespace
}  // namespace covet::probes
