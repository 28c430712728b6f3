#pragma once
// Human units in config values: durations ("500ms", "10s", "1m30s") and sizes ("64MiB").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace covet::config {

// Units: ms, s, m, h; components may be combined largest first ("1h30m", "1m30s").
// A bare number is rejected (ambiguous). Returns the error text on failure.
struct DurationParse {
  std::optional<Duration> value;
  std::string error;
};
DurationParse parse_duration(std::string_view text);
std::string format_duration(Duration d);  // shortest exact form: "1m30s", "500ms", "0s"

// Units: B, KB, MB, GB (powers of 1000), KiB, MiB, GiB, TiB (powers of 1024); a bare
// integer is bytes. Overflow is an error.
struct SizeParse {
  std::optional<std::uint64_t> value;
  std::string error;
};
SizeParse parse_size(std::string_view text);
std::string format_size(std::uint64_t bytes);  // "64MiB" when exact, else bytes

}  // namespace covet::config
