#pragma once
// A third-party server the tests run beside the sidecar (postgres_exporter, redis_exporter):
// started with its own environment, its output kept in a log file, and stopped (SIGTERM,
// then SIGKILL) when the object goes away. The child is also SIGKILLed if the test process
// dies first (PR_SET_PDEATHSIG), so a crashed or killed test run leaves no server behind;
// that signal follows the thread that forked, so start() belongs on the test's own thread.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace covet::testing {

class ExternalProcess {
 public:
  // `argv[0]` is an absolute path. `env` entries are "NAME=value", added to this process's
  // environment (secrets go here, never into argv where `ps` shows them). Its stdout and
  // stderr go to `log_path` when given (the caller owns that file), else to a temp file
  // removed with this object.
  ExternalProcess(std::vector<std::string> argv, std::vector<std::string> env,
                  std::string log_path = {});
  ~ExternalProcess();
  ExternalProcess(const ExternalProcess&) = delete;
  ExternalProcess& operator=(const ExternalProcess&) = delete;

  // False when the fork failed or the process exited at once; logs() says why.
  bool start();
  // True once 127.0.0.1:`port` accepts connections, false if it did not within `timeout`
  // or the process exited.
  bool wait_listening(std::uint16_t port, std::chrono::milliseconds timeout);
  // False once the process has exited (it is reaped then).
  bool running() { return pid_ > 0 && !exited(); }
  std::string logs() const;
  pid_t pid() const { return pid_; }

 private:
  bool exited();

  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::string log_path_;
  bool owns_log_ = false;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

}  // namespace covet::testing
