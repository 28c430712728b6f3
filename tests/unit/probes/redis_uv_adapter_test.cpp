// The hiredis <-> libuv adapter on its own: callbacks counted, every handle closed (the
// loop closes cleanly in TearDown).

#include "probes/redis_uv_adapter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace covet::probes::redis_uv {
namespace {

// A loopback port: listening (completes handshakes, never answers) or bound only (refuses).
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

// What the callbacks saw, reached through redisAsyncContext::data.
struct Seen {
  AsyncConnection* connection = nullptr;
  int connect_ok = 0;
  int connect_failed = 0;
  int disconnects = 0;
  int replies = 0;
  int replies_after_detach = 0;  // data was null: must never reach an owner
  std::string error;
};

void on_connect(const redisAsyncContext* context, int status) {
  auto* seen = static_cast<Seen*>(context->data);
  if (seen == nullptr) return;
  if (status == REDIS_OK) {
    ++seen->connect_ok;
    return;
  }
  ++seen->connect_failed;
  seen->error = context->c.errstr;
  seen->connection->forget();  // hiredis frees it after this returns
}

void on_disconnect(const redisAsyncContext* context, int) {
  if (auto* seen = static_cast<Seen*>(context->data)) ++seen->disconnects;
}

void on_reply(redisAsyncContext* context, void*, void* privdata) {
  auto* counter = static_cast<Seen*>(privdata);
  if (context->data == nullptr) {
    ++counter->replies_after_detach;
    return;
  }
  ++counter->replies;
}

class RedisUvAdapter : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }
  void TearDown() override {
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);  // every poll handle closed and freed
  }
  uv_loop_t loop_{};
};

TEST_F(RedisUvAdapter, RefusedConnectReachesTheConnectCallbackOnce) {
  LoopbackSocket closed_port(false);
  AsyncConnection connection;
  Seen seen;
  seen.connection = &connection;
  std::string error;
  ASSERT_TRUE(connection.connect_tcp(&loop_, "127.0.0.1", closed_port.port(),
                                     {on_connect, on_disconnect, &seen}, error))
      << error;
  ASSERT_EQ(redisAsyncCommand(connection.get(), on_reply, &seen, "PING"), REDIS_OK);
  // Returns once hiredis has freed the context and its poll handle is closed: nothing else
  // keeps the loop alive. (hiredis' bundled adapter never gets here: it drops the error.)
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(seen.connect_failed, 1);
  EXPECT_EQ(seen.connect_ok, 0);
  EXPECT_EQ(seen.error, "Connection refused");
  EXPECT_EQ(seen.disconnects, 0);  // never connected
  EXPECT_EQ(seen.replies, 0);
  EXPECT_EQ(seen.replies_after_detach, 1);  // the queued PING, told with a NULL reply
  EXPECT_FALSE(connection);
}

TEST_F(RedisUvAdapter, ResetFreesAtOnceAndPendingRepliesSeeNoOwner) {
  LoopbackSocket black_hole(true);
  AsyncConnection connection;
  Seen seen;
  seen.connection = &connection;
  std::string error;
  ASSERT_TRUE(connection.connect_tcp(&loop_, "127.0.0.1", black_hole.port(),
                                     {on_connect, on_disconnect, &seen}, error));
  ASSERT_EQ(redisAsyncCommand(connection.get(), on_reply, &seen, "PING"), REDIS_OK);
  // Connected (the kernel completed the handshake) and the PING written, never answered.
  for (int i = 0; i < 100 && seen.connect_ok == 0; ++i) uv_run(&loop_, UV_RUN_ONCE);
  ASSERT_EQ(seen.connect_ok, 1);
  uv_run(&loop_, UV_RUN_NOWAIT);
  connection.reset();
  EXPECT_FALSE(connection);
  EXPECT_EQ(seen.replies, 0);
  EXPECT_EQ(seen.replies_after_detach, 1);
  EXPECT_EQ(seen.disconnects, 0);  // detached before the free: the owner hears nothing
}

TEST_F(RedisUvAdapter, ImmediateFailureLeavesNothingBehind) {
  AsyncConnection connection;
  Seen seen;
  std::string error;
  EXPECT_FALSE(connection.connect_unix(&loop_, "/nonexistent/covet-test/redis.sock",
                                       {on_connect, on_disconnect, &seen}, error));
  EXPECT_EQ(error, "No such file or directory");
  EXPECT_FALSE(connection);
  EXPECT_EQ(seen.connect_failed, 0);  // reported by the return value, not the callback
}

TEST_F(RedisUvAdapter, MovedConnectionIsOwnedOnce) {
  LoopbackSocket black_hole(true);
  AsyncConnection first;
  Seen seen;
  std::string error;
  ASSERT_TRUE(first.connect_tcp(&loop_, "127.0.0.1", black_hole.port(),
                                {on_connect, on_disconnect, &seen}, error));
  AsyncConnection second = std::move(first);
  EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(second);
  // Destructors: `second` frees the context once; TearDown's loop closes its handle.
}

}  // namespace
}  // namespace covet::probes::redis_uv
