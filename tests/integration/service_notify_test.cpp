// The agent as a systemd Type=notify service with WatchdogSec: the service manager is played
// by a datagram socket the test binds and names in NOTIFY_SOCKET, so the test reads exactly
// what systemd would receive, in order.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/config_snippets.h"
#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

// A bound AF_UNIX datagram socket: what sd_notify(3) sends to.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof(address.sun_path) - 1);
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }

  // Every datagram that arrives within `window`, in order.
  std::vector<std::string> receive_for(std::chrono::milliseconds window) {
    std::vector<std::string> messages;
    const auto deadline = std::chrono::steady_clock::now() + window;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return messages;
      pollfd readable{fd_, POLLIN, 0};
      if (::poll(&readable, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      const ssize_t size = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (size > 0) messages.emplace_back(buffer, static_cast<std::size_t>(size));
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

bool has_line(const std::string& message, const std::string& line) {
  return ("\n" + message + "\n").find("\n" + line + "\n") != std::string::npos;
}

std::size_t count_with(const std::vector<std::string>& messages, const std::string& line) {
  return static_cast<std::size_t>(std::count_if(messages.begin(), messages.end(),
                                                [&](const auto& m) { return has_line(m, line); }));
}

std::string joined(const std::vector<std::string>& messages) {
  std::string text;
  for (const auto& m : messages) text += "[" + m + "] ";
  return text;
}

TEST(ServiceNotifyIT, ReadyThenStatusAndWatchdogPingsFromTheLoopThenStopping) {
  SidecarProcess sidecar(kPassingConfig);
  NotifySocket manager(sidecar.dir() + "/notify");
  ASSERT_TRUE(manager.bound());
  // 400 ms: the agent pings every 200 ms.
  sidecar.set_environment({"NOTIFY_SOCKET=" + manager.path(), "WATCHDOG_USEC=400000"});
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();

  std::vector<std::string> messages = manager.receive_for(2s);
  ASSERT_FALSE(messages.empty()) << sidecar.logs();
  EXPECT_TRUE(has_line(messages.front(), "READY=1")) << joined(messages);
  EXPECT_EQ(count_with(messages, "READY=1"), 1u) << joined(messages);
  // About ten in two seconds; three is what any machine, however loaded, manages.
  EXPECT_GE(count_with(messages, "WATCHDOG=1"), 3u) << joined(messages);
  // Both probes pass: readiness turned to ready, and systemctl status says so.
  EXPECT_EQ(count_with(messages, "STATUS=ready"), 1u) << joined(messages);

  sidecar.signal(SIGTERM);
  std::vector<std::string> after = manager.receive_for(1500ms);
  EXPECT_GE(count_with(after, "STOPPING=1"), 1u) << joined(after);
  // The drain lasts 500 ms: the loop is alive and keeps pinging through it.
  EXPECT_GE(count_with(after, "WATCHDOG=1"), 1u) << joined(after);
  const std::optional<int> code = sidecar.wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << sidecar.logs();
  EXPECT_EQ(*code, 0) << sidecar.logs();
  // Pings went on while the agent drained (its loop was alive), then stopped with it.
  after = manager.receive_for(600ms);
  EXPECT_EQ(count_with(after, "WATCHDOG=1"), 0u) << joined(after);
}

TEST(ServiceNotifyIT, AWatchdogMeantForAnotherProcessIsNotPinged) {
  SidecarProcess sidecar(kPassingConfig);
  NotifySocket manager(sidecar.dir() + "/notify");
  ASSERT_TRUE(manager.bound());
  // WATCHDOG_PID names the process systemd watches; pid 1 is not the agent.
  sidecar.set_environment(
      {"NOTIFY_SOCKET=" + manager.path(), "WATCHDOG_USEC=400000", "WATCHDOG_PID=1"});
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  const std::vector<std::string> messages = manager.receive_for(1500ms);
  EXPECT_EQ(count_with(messages, "READY=1"), 1u) << joined(messages);
  EXPECT_EQ(count_with(messages, "WATCHDOG=1"), 0u) << joined(messages);
}

TEST(ServiceNotifyIT, AServiceManagerThatIsGoneIsLoggedOnceAndBlocksNothing) {
  SidecarProcess sidecar(kPassingConfig);
  sidecar.set_environment(
      {"NOTIFY_SOCKET=" + sidecar.dir() + "/nobody-listens", "WATCHDOG_USEC=200000"});
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  ASSERT_TRUE(sidecar.wait_for_status("/health/ready", 200, 10s)) << sidecar.logs();
  std::this_thread::sleep_for(1s);  // about ten failed pings
  HttpClient client;
  EXPECT_EQ(client.get(sidecar.url("/health/live")).status, 200);
  const std::string logs = sidecar.logs();
  std::size_t warnings = 0;
  for (std::size_t at = logs.find("service manager notification failed"); at != std::string::npos;
       at = logs.find("service manager notification failed", at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u) << logs;
}

}  // namespace
}  // namespace covet::testing
