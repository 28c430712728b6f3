#pragma once
// Tells the service manager how the agent is doing when it runs as a systemd service
// (Type=notify), through sd_notify(3): READY=1 once the listeners are up, STATUS= as readiness
// changes, STOPPING=1 when shutdown begins, and WATCHDOG=1 from a timer on the loop at half
// of WatchdogSec. The pings come from the loop itself, so a wedged loop stops them and
// systemd restarts the agent: on a VM, what a failing liveness probe does in a pod.
//
// Without NOTIFY_SOCKET (not under systemd, or in a container) every call is a no-op and no
// timer exists. NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read from the environment
// (the one input not injected: it is how systemd passes them), once, at construction.
//
// Ownership: the notifier owns its watchdog timer. close() stops it and calls `closed` after
// the close callback; the destructor asserts it was closed.

#include <uv.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "agent/logging.h"

namespace covet {

class ServiceNotifier {
 public:
  ServiceNotifier(uv_loop_t* loop, Logger& log);
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // READY=1 with a STATUS line, and the watchdog pings from then on when systemd asked for
  // them. Called once, when the agent serves.
  void ready(std::string_view status);
  void status(std::string_view status);
  void stopping(std::string_view status);
  void close(std::function<void()> closed);

 private:
  // Sends one notification; the first failure is logged, later ones are not (a service
  // manager that went away does not deserve a line per ping).
  void send(const std::string& message);
  void on_watchdog_timer();

  uv_loop_t* loop_;
  Logger& log_;
  bool under_service_manager_ = false;
  bool failure_logged_ = false;
  std::chrono::microseconds watchdog_interval_{0};  // zero: no watchdog asked for
  uv_timer_t watchdog_timer_{};
  bool timer_open_ = false;
  bool closing_ = false;
  std::function<void()> closed_;
};

}  // namespace covet
