#pragma once
// Time is injected: the health model's staleness and thresholds are tested with a fake clock.

#include <chrono>

namespace covet {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() const = 0;   // for intervals and age
  virtual std::chrono::system_clock::time_point wall() const = 0;  // for timestamps people read
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace covet
