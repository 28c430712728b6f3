#pragma once
// "host:port" as written in `listen:` keys: "0.0.0.0:8099", "[::1]:8099".

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace covet::config {

struct ListenAddressParse {
  std::optional<ListenAddress> value;  // IPv6 hosts are stored without brackets
  std::string error;  // "invalid listen address \"x\": expected host:port, e.g. ..."
};
// The host must be an IP address literal: the listener binds it without a resolver.
ListenAddressParse parse_listen_address(std::string_view text);
// The inverse: brackets around IPv6 hosts.
std::string format_listen_address(const ListenAddress& address);

}  // namespace covet::config
