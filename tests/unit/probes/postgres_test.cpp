// The PostgreSQL probe's pure parts; the probe itself is tested against a real server in
// tests/integration/postgres_probe_test.cpp.

#include "probes/postgres.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>

namespace covet::probes {
namespace {

TEST(ClassifyPostgresError, SqlstateWins) {
  EXPECT_EQ(classify_postgres_error("53300", "whatever", true), "too_many_connections");
  EXPECT_EQ(classify_postgres_error("28P01", "whatever", true), "auth_failed");
  EXPECT_EQ(classify_postgres_error("28000", "whatever", false), "auth_failed");
  EXPECT_EQ(classify_postgres_error("42P01", "relation \"x\" does not exist", false),
            "query_error");
  EXPECT_EQ(classify_postgres_error("57014", "canceling statement due to user request", false),
            "query_error");
}

TEST(ClassifyPostgresError, ConnectMessagesOfLibpq15) {
  EXPECT_EQ(
      classify_postgres_error(
          "", "connection to server at \"127.0.0.1\", port 5432 failed: Connection refused", true),
      "refused");
  EXPECT_EQ(
      classify_postgres_error(
          "", "could not translate host name \"nope\" to address: Name or service not known", true),
      "refused");
  EXPECT_EQ(classify_postgres_error("", "No route to host", true), "refused");
  EXPECT_EQ(classify_postgres_error("", "Network is unreachable", true), "refused");
  EXPECT_EQ(
      classify_postgres_error("", "FATAL:  password authentication failed for user \"app\"", true),
      "auth_failed");
  EXPECT_EQ(classify_postgres_error(
                "", "FATAL:  no pg_hba.conf entry for host \"127.0.0.1\", user \"x\"", true),
            "auth_failed");
  EXPECT_EQ(classify_postgres_error("", "fe_sendauth: no password supplied", true), "auth_failed");
  EXPECT_EQ(classify_postgres_error("", "FATAL:  sorry, too many clients already", true),
            "too_many_connections");
  EXPECT_EQ(classify_postgres_error("",
                                    "FATAL:  remaining connection slots are reserved for "
                                    "non-replication superuser connections",
                                    true),
            "too_many_connections");
  EXPECT_EQ(classify_postgres_error("", "FATAL:  database \"nope\" does not exist", true),
            "connect_failed");
  EXPECT_EQ(classify_postgres_error("", "server closed the connection unexpectedly", false),
            "query_error");
}

TEST(CleanLibpqMessage, KeepsTheReasonOnly) {
  EXPECT_EQ(clean_libpq_message("connection to server at \"127.0.0.1\", port 5432 failed: "
                                "Connection refused\n\tIs the server running on that host and "
                                "accepting TCP/IP connections?\n"),
            "connection refused");
  EXPECT_EQ(clean_libpq_message("connection to server at \"127.0.0.1\", port 5432 failed: "
                                "FATAL:  password authentication failed for user \"app\"\n"),
            "password authentication failed for user \"app\"");
  EXPECT_EQ(clean_libpq_message("ERROR:  division by zero\n"), "division by zero");
  EXPECT_EQ(clean_libpq_message("  \n"), "");
  // An all-caps word stays as written.
  EXPECT_EQ(clean_libpq_message("SSL SYSCALL error: EOF detected"),
            "SSL SYSCALL error: EOF detected");
}

// A loopback TCP socket: listening (a black hole that never answers) or merely bound (a
// port where connects are refused).
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
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

config::PostgresProbeConfig config_for_port(int port) {
  config::PostgresProbeConfig config;
  config.dsn = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=x user=x";
  return config;
}

class PostgresProbeLoop : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }
  void TearDown() override {
    // Every handle the probe opened is closed once it is gone: the loop closes cleanly.
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }
  uv_loop_t loop_{};
};

TEST_F(PostgresProbeLoop, RefusedConnectCompletesOnceThenBacksOff) {
  LoopbackSocket closed_port(false);
  auto probe = std::make_unique<PostgresProbe>(&loop_, config_for_port(closed_port.port()));
  int calls = 0;
  std::optional<ProbeResult> result;
  probe->start([&](ProbeResult r) {
    ++calls;
    result = std::move(r);
  });
  uv_run(&loop_, UV_RUN_DEFAULT);  // ends when the probe has nothing open
  ASSERT_EQ(calls, 1);
  EXPECT_EQ(result->status, Status::failing);
  EXPECT_EQ(result->reason, "refused");
  EXPECT_EQ(result->error,
            "connect 127.0.0.1:" + std::to_string(closed_port.port()) + "/x: connection refused");
  ASSERT_EQ(result->readings.size(), 1u);
  EXPECT_EQ(result->readings[0].name, "pg_up");
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
  probe.reset();
}

TEST_F(PostgresProbeLoop, CancelledConnectNeverCompletesAndClosesEverything) {
  LoopbackSocket black_hole(true);
  auto probe = std::make_unique<PostgresProbe>(&loop_, config_for_port(black_hole.port()));
  int calls = 0;
  probe->start([&](ProbeResult) { ++calls; });
  // The scheduler's timeout, played by a timer.
  uv_timer_t timer{};
  uv_timer_init(&loop_, &timer);
  timer.data = probe.get();
  uv_timer_start(
      &timer,
      [](uv_timer_t* t) {
        static_cast<PostgresProbe*>(t->data)->cancel();
        uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
      },
      200, 0);
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(calls, 0);
  probe.reset();
}

TEST_F(PostgresProbeLoop, DestroyedWhileConnectingLeavesNoHandles) {
  LoopbackSocket black_hole(true);
  auto probe = std::make_unique<PostgresProbe>(&loop_, config_for_port(black_hole.port()));
  int calls = 0;
  probe->start([&](ProbeResult) { ++calls; });
  uv_run(&loop_, UV_RUN_NOWAIT);
  probe.reset();  // TearDown runs the loop: the poll handle's close callback frees it
  EXPECT_EQ(calls, 0);
}

TEST_F(PostgresProbeLoop, InvalidDsnFailsEveryCheckWithoutEchoingIt) {
  config::PostgresProbeConfig config;
  config.dsn = "host=x password='s3cret";  // unterminated quote
  PostgresProbe probe(&loop_, config);
  std::optional<ProbeResult> result;
  probe.start([&](ProbeResult r) { result = std::move(r); });
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->reason, "config");
  EXPECT_EQ(result->error.find("s3cret"), std::string::npos) << result->error;
}

}  // namespace
}  // namespace covet::probes
