#pragma once
// Wall-clock timestamps as people and log pipelines read them.

#include <chrono>
#include <string>

namespace covet {

// "2026-11-24T19:42:04.123Z": RFC 3339, UTC, milliseconds.
std::string format_rfc3339(std::chrono::system_clock::time_point t);

}  // namespace covet
