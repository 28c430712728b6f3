// The Redis probe's pure parts and its behaviour on a loop against sockets that refuse or
// never answer; against a real server in tests/integration/redis_probe_test.cpp.

#include "probes/redis.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>

namespace covet::probes {
namespace {

TEST(ClassifyRedisError, ReplyErrors) {
  EXPECT_EQ(
      classify_redis_error("WRONGPASS invalid username-password pair or user is disabled.", false),
      "auth_failed");
  EXPECT_EQ(classify_redis_error("NOAUTH Authentication required.", false), "auth_failed");
  EXPECT_EQ(classify_redis_error("ERR invalid password", false), "auth_failed");
  EXPECT_EQ(classify_redis_error("ERR AUTH <password> called without any password configured "
                                 "for the default user. Are you sure your configuration is "
                                 "correct?",
                                 false),
            "auth_failed");
  EXPECT_EQ(classify_redis_error("LOADING Redis is loading the dataset in memory", false),
            "loading");
  EXPECT_EQ(classify_redis_error("ERR DB index is out of range", false), "query_error");
  EXPECT_EQ(classify_redis_error("NOPERM this user has no permissions", false), "query_error");
  // A code is only a code at the start.
  EXPECT_EQ(classify_redis_error("ERR unknown key LOADING", false), "query_error");
}

TEST(ClassifyRedisError, ConnectErrors) {
  EXPECT_EQ(classify_redis_error("Connection refused", true), "refused");
  EXPECT_EQ(classify_redis_error("No such file or directory", true), "refused");
  EXPECT_EQ(classify_redis_error("Connection reset by peer", true), "connect_failed");
  EXPECT_EQ(classify_redis_error("Server closed the connection", true), "connect_failed");
}

// A loopback TCP port: listening (a black hole that completes handshakes and never answers)
// or bound only (connects are refused).
class LoopbackSocket {
 public:
  explicit LoopbackSocket(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    if (listening) ::listen(fd_, 8);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~LoopbackSocket() { ::close(fd_); }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

config::RedisProbeConfig config_for_port(int port) {
  config::RedisProbeConfig config;
  config.address = "127.0.0.1:" + std::to_string(port);
  return config;
}

class RedisProbeLoop : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }
  void TearDown() override {
    // Every handle the probe opened is closed once it is gone: the loop closes cleanly.
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  // Stands in for the scheduler's timeout: cancels `probe` after `ms`.
  void cancel_after(Probe* probe, std::uint64_t ms) {
    uv_timer_init(&loop_, &timer_);
    timer_.data = probe;
    uv_timer_start(
        &timer_,
        [](uv_timer_t* t) {
          static_cast<Probe*>(t->data)->cancel();
          uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
        },
        ms, 0);
  }
  uv_loop_t loop_{};
  uv_timer_t timer_{};
};

TEST_F(RedisProbeLoop, RefusedConnectIsReportedOnceThenBacksOff) {
  LoopbackSocket closed_port(false);
  auto probe = std::make_unique<RedisProbe>(&loop_, config_for_port(closed_port.port()));
  int calls = 0;
  std::optional<ProbeResult> result;
  probe->start([&](ProbeResult r) {
    ++calls;
    result = std::move(r);
  });
  // Ends when nothing is open: the failed connect's poll handle is closed too. hiredis'
  // bundled libuv adapter would never get here (it drops the error and nothing reports).
  uv_run(&loop_, UV_RUN_DEFAULT);
  ASSERT_EQ(calls, 1);
  EXPECT_EQ(result->status, Status::failing);
  EXPECT_EQ(result->reason, "refused");
  EXPECT_EQ(result->error,
            "connect 127.0.0.1:" + std::to_string(closed_port.port()) + ": connection refused");
  ASSERT_EQ(result->readings.size(), 1u);
  EXPECT_EQ(result->readings[0].name, "redis_up");
  EXPECT_EQ(result->readings[0].value, 0);

  // Within the backoff: failed at once, before start() returns, with the last reason.
  probe->start([&](ProbeResult r) {
    ++calls;
    result = std::move(r);
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(result->reason, "refused");
  EXPECT_NE(result->error.find("connection refused; reconnecting in 1.0s"), std::string::npos)
      << result->error;
}

TEST_F(RedisProbeLoop, BackoffDoublesUpToItsCap) {
  LoopbackSocket closed_port(false);
  config::RedisProbeConfig config = config_for_port(closed_port.port());
  config.reconnect_backoff = std::chrono::milliseconds(10);
  config.reconnect_backoff_max = std::chrono::milliseconds(40);
  RedisProbe probe(&loop_, config);
  std::vector<std::string> errors;
  for (int i = 0; i < 4; ++i) {
    probe.start([&](ProbeResult r) { errors.push_back(r.error); });
    uv_run(&loop_, UV_RUN_DEFAULT);
    // Past the delay: the next start connects again.
    uv_sleep(50);
    uv_update_time(&loop_);
  }
  ASSERT_EQ(errors.size(), 4u);
  for (const std::string& error : errors) {
    EXPECT_EQ(error.find("reconnecting"), std::string::npos) << error;
  }
  std::optional<ProbeResult> result;
  probe.start([&](ProbeResult r) { result = std::move(r); });
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (result) {
    // Started within 40 ms of the last failure only if the cap were not applied.
    EXPECT_EQ(result->error.find("reconnecting"), std::string::npos) << result->error;
  }
}

TEST_F(RedisProbeLoop, UnixSocketWithoutServerIsRefused) {
  config::RedisProbeConfig config;
  config.unix_socket = "/nonexistent/covet-test/redis.sock";
  RedisProbe probe(&loop_, config);
  std::optional<ProbeResult> result;
  probe.start([&](ProbeResult r) { result = std::move(r); });
  uv_run(&loop_, UV_RUN_DEFAULT);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->reason, "refused");
  EXPECT_EQ(result->error, "connect /nonexistent/covet-test/redis.sock: no such file or directory");
}

TEST_F(RedisProbeLoop, CancelledCheckNeverCompletesAndClosesEverything) {
  LoopbackSocket black_hole(true);
  auto probe = std::make_unique<RedisProbe>(&loop_, config_for_port(black_hole.port()));
  int calls = 0;
  probe->start([&](ProbeResult) { ++calls; });
  cancel_after(probe.get(), 200);
  uv_run(&loop_, UV_RUN_DEFAULT);  // returns: cancel freed the connection and its handle
  EXPECT_EQ(calls, 0);

  // The next check, within the backoff, says why.
  std::optional<ProbeResult> result;
  probe->start([&](ProbeResult r) { result = std::move(r); });
  ASSERT_TRUE(result);
  EXPECT_EQ(result->reason, "timeout");
  EXPECT_NE(result->error.find("no answer within the timeout; reconnecting in"), std::string::npos)
      << result->error;
}

TEST_F(RedisProbeLoop, DestroyedWhileConnectingLeavesNoHandles) {
  LoopbackSocket black_hole(true);
  auto probe = std::make_unique<RedisProbe>(&loop_, config_for_port(black_hole.port()));
  int calls = 0;
  probe->start([&](ProbeResult) { ++calls; });
  uv_run(&loop_, UV_RUN_NOWAIT);
  probe.reset();  // TearDown runs the loop: the poll handle's close callback frees it
  EXPECT_EQ(calls, 0);
}

TEST_F(RedisProbeLoop, SentinelsThatRefuseFailWithTheLastOne) {
  LoopbackSocket first(false);
  LoopbackSocket second(false);
  config::RedisProbeConfig config;
  config.sentinels = {"127.0.0.1:" + std::to_string(first.port()),
                      "127.0.0.1:" + std::to_string(second.port())};
  config.master_name = "mymaster";
  RedisProbe probe(&loop_, config);
  int calls = 0;
  std::optional<ProbeResult> result;
  probe.start([&](ProbeResult r) {
    ++calls;
    result = std::move(r);
  });
  uv_run(&loop_, UV_RUN_DEFAULT);
  ASSERT_EQ(calls, 1);
  EXPECT_EQ(result->reason, "refused");
  EXPECT_NE(result->error.find("sentinels: none gave the address of master \"mymaster\""),
            std::string::npos)
      << result->error;
  EXPECT_NE(result->error.find(std::to_string(second.port()) + ": connection refused"),
            std::string::npos)
      << result->error;
}

TEST_F(RedisProbeLoop, UnreadablePasswordFileIsAuthFailedWithoutConnecting) {
  LoopbackSocket black_hole(true);
  config::RedisProbeConfig config = config_for_port(black_hole.port());
  config.password_file = "/nonexistent/covet-test/password";
  RedisProbe probe(&loop_, config);
  std::optional<ProbeResult> result;
  probe.start([&](ProbeResult r) { result = std::move(r); });
  ASSERT_TRUE(result);  // at once: no connection was opened
  EXPECT_EQ(result->reason, "auth_failed");
  EXPECT_NE(result->error.find("password_file"), std::string::npos) << result->error;
}

}  // namespace
}  // namespace covet::probes
