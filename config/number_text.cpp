#include "config/number_text.h"

#include <charconv>

namespace covet::config::detail {

std::string format_number(double value) {
  // Shortest round-trip form; 32 bytes hold any double ("-2.2250738585072014e-308").
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc{}) return "0";  // cannot happen with this buffer size
  return std::string(buffer, end);
}

}  // namespace covet::config::detail
