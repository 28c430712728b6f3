#include "config/listen_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdint>

namespace covet::config {
namespace detail {
namespace {

constexpr std::string_view kShape = "expected host:port, e.g. 0.0.0.0:8099 or [::1]:8099";

ListenAddressParse invalid(std::string_view text, std::string_view reason) {
  std::string error = "invalid listen address \"";
  error += text;
  error += "\": ";
  error += reason;
  return {std::nullopt, std::move(error)};
}

bool is_ip_literal(const std::string& host, int family) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return ::inet_pton(family, host.c_str(), buffer) == 1;
}

}  // namespace
}  // namespace detail

ListenAddressParse parse_listen_address(std::string_view text) {
  using detail::invalid;
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid(text, detail::kShape);
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);

  const bool bracketed = host.starts_with('[');
  if (bracketed) {
    if (!host.ends_with(']')) return invalid(text, detail::kShape);
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return invalid(text, "missing host; use 0.0.0.0 for every IPv4 address");

  // Digits only: from_chars alone would accept a leading "-" and ignore trailing junk.
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string_view::npos) {
    return invalid(text, detail::kShape);
  }
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return invalid(text, "port must be between 1 and 65535");
  }

  // inet_pton reads a C string: an embedded NUL would hide whatever follows it.
  if (host.find('\0') != std::string_view::npos) return invalid(text, detail::kShape);
  const std::string host_text(host);
  if (bracketed) {
    if (!detail::is_ip_literal(host_text, AF_INET6)) {
      return invalid(text, "expected an IPv6 address between the brackets, e.g. [::1]:8099");
    }
  } else if (host.find(':') != std::string_view::npos) {
    return invalid(text, "an IPv6 address needs brackets, e.g. [::1]:8099");
  } else if (!detail::is_ip_literal(host_text, AF_INET)) {
    return invalid(text, "host must be an IP address, e.g. 0.0.0.0, 127.0.0.1 or [::1]");
  }
  return {ListenAddress{host_text, static_cast<std::uint16_t>(port)}, {}};
}

std::string format_listen_address(const ListenAddress& address) {
  const std::string port = std::to_string(address.port);
  if (address.host.find(':') != std::string::npos) return "[" + address.host + "]:" + port;
  return address.host + ":" + port;
}

}  // namespace covet::config
