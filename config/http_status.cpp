#include "config/http_status.h"

#include <charconv>
#include <optional>

namespace covet::config {
namespace {

// Exactly three digits within [kMinStatus, kMaxStatus], or nothing.
std::optional<int> parse_code(std::string_view text) {
  if (text.size() != 3) return std::nullopt;
  int code = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), code);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (code < kMinStatus || code > kMaxStatus) return std::nullopt;
  return code;
}

}  // namespace

std::variant<StatusRange, std::string> parse_status_range(std::string_view text) {
  const std::string quoted = "invalid status range \"" + std::string(text) + "\": ";
  const std::size_t dash = text.find('-');
  const std::string_view first = text.substr(0, dash);
  const std::optional<int> low = parse_code(first);
  if (!low) {
    return quoted + "expected a status code from 100 to 599 or a range like 200-399";
  }
  if (dash == std::string_view::npos) return StatusRange{*low, *low};
  const std::optional<int> high = parse_code(text.substr(dash + 1));
  if (!high) {
    return quoted + "expected a status code from 100 to 599 or a range like 200-399";
  }
  if (*low > *high) return quoted + "the first code is greater than the second";
  return StatusRange{*low, *high};
}

bool status_matches(std::span<const StatusRange> ranges, long status) {
  for (const StatusRange& range : ranges) {
    if (status >= range.low && status <= range.high) return true;
  }
  return false;
}

std::string format_status_range(const StatusRange& range) {
  if (range.low == range.high) return std::to_string(range.low);
  return std::to_string(range.low) + "-" + std::to_string(range.high);
}

std::string format_status_ranges(std::span<const StatusRange> ranges) {
  std::string text;
  for (const StatusRange& range : ranges) {
    if (!text.empty()) text += ", ";
    text += format_status_range(range);
  }
  return text;
}

}  // namespace covet::config
