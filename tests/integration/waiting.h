#pragma once
// Small helpers the integration tests share: polling for a condition with a bound (never an
// unbounded wait), timing a reaction, and writing a file.

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace covet::testing {

using SteadyClock = std::chrono::steady_clock;

// Polls `condition` every 50 ms until it holds or `timeout` passes; its last answer.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

inline double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline void write_file(const std::string& path, const std::string& contents) {
  std::ofstream(path) << contents;
}

}  // namespace covet::testing
