#include "exporters/otlp/retry_policy.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

namespace covet::otlp {

AfterExport after_status(long status) {
  if (status >= 200 && status < 300) return AfterExport::delivered;
  switch (status) {
    case 0:
    case 429:
    case 502:
    case 503:
    case 504:
      return AfterExport::retry;
    default:
      return AfterExport::drop;
  }
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    std::uint64_t seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    // A day is far beyond any sane throttle; a bigger number is a broken header.
    return std::chrono::seconds(std::min<std::uint64_t>(seconds, 86400));
  }
  // IMF-fixdate, the only HTTP-date form senders may generate (RFC 9110 §5.6.7).
  std::tm tm{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::time_t at = timegm(&tm);
  const std::time_t current = std::chrono::system_clock::to_time_t(now);
  return std::chrono::seconds(std::clamp<std::time_t>(at - current, 0, 86400));
}

std::chrono::milliseconds backoff_delay(std::uint32_t attempt, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double random01) {
  const std::uint32_t doublings = std::min<std::uint32_t>(attempt == 0 ? 0 : attempt - 1, 30);
  const double full = std::min(static_cast<double>(initial.count()) * std::ldexp(1.0, doublings),
                               static_cast<double>(max.count()));
  const double spread = full * (0.5 + 0.5 * std::clamp(random01, 0.0, 1.0));
  return std::chrono::milliseconds(std::max<std::int64_t>(1, std::llround(spread)));
}

}  // namespace covet::otlp
