#pragma once
// The wait before a probe's next connect after its connection failed: `initial`, doubling
// with each failure up to `max`, back to `initial` after a check that worked. A server in
// trouble gets at most one connect per delay from us; meanwhile a check fails at once with
// the reason the last connect failed for. Shared by the probes that keep a connection
// (postgres, redis).

#include <chrono>
#include <cstdint>
#include <string>

#include "probes/probe.h"

namespace covet::probes {

class ReconnectBackoff {
 public:
  ReconnectBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max) {}

  // A connect failed or the connection broke, at `now_ms` (uv_now).
  void failed(std::uint64_t now_ms, std::string reason, std::string error);
  // A check worked: the next failure waits `initial` again.
  void succeeded();
  // True while no connect may be attempted.
  bool waiting(std::uint64_t now_ms) const { return now_ms < retry_at_ms_; }
  // A check that fails at once while waiting: status, reason (also in detail) and an error
  // that says when the next connect comes.
  void describe_wait(std::uint64_t now_ms, ProbeResult& result) const;

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds delay_{0};  // 0: no failure since the last success
  std::uint64_t retry_at_ms_ = 0;
  std::string reason_;
  std::string error_;
};

}  // namespace covet::probes
