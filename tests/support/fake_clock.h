#pragma once

#include <chrono>

#include "agent/clock.h"

namespace covet::testing {

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override { return steady_; }
  std::chrono::system_clock::time_point wall() const override { return wall_; }
  void advance(std::chrono::milliseconds d) {
    steady_ += d;
    wall_ += d;
  }

 private:
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1000)};
  std::chrono::system_clock::time_point wall_{
      std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}};
};

}  // namespace covet::testing
