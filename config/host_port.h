#pragma once
// "host:port" of a probe target: "127.0.0.1:5432", "[::1]:6379", "db.internal:5432".
// Unlike a listen address the host may be a name; it is resolved when the probe runs.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace covet::config {

struct HostPort {
  std::string host;  // IPv6 literals without brackets
  std::uint16_t port = 0;
};

// The parsed address, or "invalid address \"x\": REASON".
std::variant<HostPort, std::string> parse_host_port(std::string_view text);

}  // namespace covet::config
