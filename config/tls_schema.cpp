#include "config/tls_schema.h"

#include <arpa/inet.h>

#include <array>
#include <optional>
#include <string>

#include "config/host_port.h"
#include "config/number_text.h"
#include "config/schema_readers.h"

namespace covet::config::detail {
namespace {

// A certificate's lifetime is at most a few years; ten covers any sane threshold and
// catches a value written in hours or seconds by mistake.
constexpr double kMaxDays = 3650;

}  // namespace

bool is_server_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.find(':') != std::string_view::npos) {  // only in an IPv6 literal
    std::array<unsigned char, sizeof(in6_addr)> buffer{};
    return inet_pton(AF_INET6, std::string(name).c_str(), buffer.data()) == 1;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

void read_tls(const MappingReader& mapping, ValueReader& reader, ProbeConfig& probe) {
  TlsProbeConfig tls;
  std::string host;  // of the address, the default server name
  if (const std::optional<Field> address = mapping.find("address")) {
    if (std::optional<std::string> value = read_host_port(*address, reader)) {
      tls.address = std::move(*value);
      host = std::get<HostPort>(parse_host_port(tls.address)).host;
    }
  } else {
    const std::optional<Field> type = mapping.find("type");
    reader.report(type ? type->at : Position{}, mapping.path(),
                  "missing required key \"address\" (host:port, e.g. 127.0.0.1:443)");
  }
  const KeyRead server_name =
      read_key(mapping, "server_name", tls.server_name, [&](const Field& f) {
        std::optional<Scalar> name = reader.scalar(f, "a host name");
        if (name && !is_server_name(name->value)) {
          reader.report(f, "invalid server name " + name->shown +
                               ": expected a host name such as db.example.com, without a port");
          return std::optional<std::string>{};
        }
        return name ? std::optional<std::string>(name->value) : std::nullopt;
      });
  if (!server_name.at) tls.server_name = host;
  read_key(mapping, "ca_file", tls.ca_file,
           [&](const Field& f) { return reader.absolute_path(f); });
  read_key(mapping, "starttls", tls.starttls,
           [&](const Field& f) { return reader.choice<StartTls>(f, kStartTlsModes); });
  const auto days = [&](const Field& f) { return reader.number(f, 0, kMaxDays, false); };
  const KeyRead warn = read_key(mapping, "warn_days", tls.warn_days, days);
  const KeyRead fail = read_key(mapping, "fail_days", tls.fail_days, days);

  // The days left fall through the warning level before the failure level.
  const TlsProbeConfig defaults;
  if (warn.ok && fail.ok && tls.fail_days > tls.warn_days) {
    report_out_of_order({mapping.path_of("fail_days"), fail.at, format_number(defaults.fail_days)},
                        {mapping.path_of("warn_days"), warn.at, format_number(defaults.warn_days)},
                        reader);
  }
  probe.settings = std::move(tls);
}

void write_tls(const TlsProbeConfig& tls, YamlWriter& out) {
  out.string("address", tls.address);
  out.string("server_name", tls.server_name);
  // Absent means the system store; an empty path would not load back.
  if (!tls.ca_file.empty()) out.string("ca_file", tls.ca_file);
  out.plain("starttls", name_of<StartTls>(kStartTlsModes, tls.starttls));
  out.plain("warn_days", format_number(tls.warn_days));
  out.plain("fail_days", format_number(tls.fail_days));
}

}  // namespace covet::config::detail
