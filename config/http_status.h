#pragma once
// `expected_status` of an http probe: "200", "200-399", or a list of them. Pure functions,
// shared by the loader (parse), the printer and the probe (match, format).

#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "config/config.h"

namespace covet::config {

// HTTP status codes are three digits; anything outside is a typo, not a server's answer.
inline constexpr int kMinStatus = 100;
inline constexpr int kMaxStatus = 599;

// "200" or "200-399" (no spaces inside) -> the range, or the reason it is not one:
// "invalid status range \"399-200\": the first code is greater than the second".
std::variant<StatusRange, std::string> parse_status_range(std::string_view text);

// True when `status` lies in any of `ranges`.
bool status_matches(std::span<const StatusRange> ranges, long status);

// "200", "200-399"; several joined with ", " for messages.
std::string format_status_range(const StatusRange& range);
std::string format_status_ranges(std::span<const StatusRange> ranges);

}  // namespace covet::config
