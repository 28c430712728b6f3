#include "agent/service_notifier.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace covet {

ServiceNotifier::ServiceNotifier(uv_loop_t* loop, Logger& log) : loop_(loop), log_(log) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  under_service_manager_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is this process.
  if (under_service_manager_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::microseconds(usec);
  }
}

ServiceNotifier::~ServiceNotifier() {
  assert(!timer_open_ && "ServiceNotifier destroyed with its timer open");
}

void ServiceNotifier::send(const std::string& message) {
  if (!under_service_manager_) return;
  const int result = sd_notify(0, message.c_str());
  if (result >= 0 || failure_logged_) return;
  failure_logged_ = true;
  log_.warn("service manager notification failed",
            {{"error", std::string("sd_notify: ") + std::strerror(-result)}});
}

void ServiceNotifier::ready(std::string_view status) {
  send("READY=1\nSTATUS=" + std::string(status));
  if (watchdog_interval_.count() == 0 || timer_open_ || closing_) return;
  uv_timer_init(loop_, &watchdog_timer_);
  watchdog_timer_.data = this;
  timer_open_ = true;
  // Half the interval, as sd_watchdog_enabled(3) recommends: one late turn of the loop
  // must not cost a restart, two missed pings in a row should.
  const auto every =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(watchdog_interval_.count()) / 2000);
  uv_timer_start(
      &watchdog_timer_,
      [](uv_timer_t* t) { static_cast<ServiceNotifier*>(t->data)->on_watchdog_timer(); }, 0, every);
  log_.info("watchdog enabled", {{"interval_ms", std::to_string(watchdog_interval_.count() / 1000)},
                                 {"ping_every_ms", std::to_string(every)}});
}

void ServiceNotifier::on_watchdog_timer() { send("WATCHDOG=1"); }

void ServiceNotifier::status(std::string_view status) { send("STATUS=" + std::string(status)); }

void ServiceNotifier::stopping(std::string_view status) {
  send("STOPPING=1\nSTATUS=" + std::string(status));
}

void ServiceNotifier::close(std::function<void()> closed) {
  closing_ = true;
  if (!timer_open_) {
    if (closed) closed();
    return;
  }
  closed_ = std::move(closed);
  // The pings go on until here: a drain that hangs is cut by grace_period, not by systemd.
  uv_timer_stop(&watchdog_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_timer_), [](uv_handle_t* h) {
    auto* self = static_cast<ServiceNotifier*>(h->data);
    self->timer_open_ = false;
    // Moved out before the call: the callback may destroy the notifier.
    auto closed = std::move(self->closed_);
    if (closed) closed();
  });
}

}  // namespace covet
