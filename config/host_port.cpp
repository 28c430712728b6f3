#include "config/host_port.h"

#include <charconv>

namespace covet::config {

std::variant<HostPort, std::string> parse_host_port(std::string_view text) {
  const auto invalid = [&](std::string_view reason) {
    return "invalid address \"" + std::string(text) + "\": " + std::string(reason);
  };
  constexpr std::string_view kShape =
      "expected host:port, e.g. 127.0.0.1:8000, [::1]:8000 or app:8000";
  HostPort result;
  std::string_view port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalid(kShape);
    }
    result.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid(kShape);
    result.host = std::string(text.substr(0, colon));
    // A bare IPv6 literal is ambiguous ("::1:80"): brackets are required.
    if (result.host.find(':') != std::string::npos) {
      return invalid("put an IPv6 address in brackets, e.g. [::1]:8000");
    }
    port = text.substr(colon + 1);
  }
  if (result.host.empty()) return invalid("missing host");
  for (char c : result.host) {
    if (c == ' ' || c == '/' || c == '[' || c == ']') return invalid(kShape);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return invalid("the port must be a number from 1 to 65535");
  }
  result.port = static_cast<std::uint16_t>(value);
  return result;
}

}  // namespace covet::config
