#include "probes/reconnect_backoff.h"

#include <fmt/format.h>

#include <algorithm>

namespace covet::probes {

void ReconnectBackoff::failed(std::uint64_t now_ms, std::string reason, std::string error) {
  delay_ = delay_.count() == 0 ? initial_ : std::min(delay_ * 2, max_);
  retry_at_ms_ = now_ms + static_cast<std::uint64_t>(delay_.count());
  reason_ = std::move(reason);
  error_ = std::move(error);
}

void ReconnectBackoff::succeeded() {
  delay_ = std::chrono::milliseconds{0};
  retry_at_ms_ = 0;
}

void ReconnectBackoff::describe_wait(std::uint64_t now_ms, ProbeResult& result) const {
  const double seconds =
      now_ms < retry_at_ms_ ? static_cast<double>(retry_at_ms_ - now_ms) / 1000.0 : 0.0;
  result.status = Status::failing;
  result.reason = reason_;
  result.detail.emplace_back("reason", reason_);
  result.error = fmt::format("{}; reconnecting in {:.1f}s", error_, seconds);
}

}  // namespace covet::probes
