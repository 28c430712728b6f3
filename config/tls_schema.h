#pragma once
// The `tls` probe type's keys: read by the loader, written by the printer. Kept apart from
// the other probe types so that adding keys here touches one file.

#include <array>
#include <string_view>

#include "config/config.h"
#include "config/mapping_reader.h"
#include "config/schema_names.h"
#include "config/yaml_writer.h"

namespace covet::config::detail {

inline constexpr std::array<std::string_view, 6> kTlsKeys{"address",  "server_name", "ca_file",
                                                          "starttls", "warn_days",   "fail_days"};

inline constexpr std::array<Choice<StartTls>, 2> kStartTlsModes{{
    {"none", StartTls::none},
    {"postgres", StartTls::postgres},
}};

// A DNS name or an IP literal, as checked for a TLS server name: no spaces, port or scheme.
bool is_server_name(std::string_view name);

void read_tls(const MappingReader& mapping, ValueReader& reader, ProbeConfig& probe);
void write_tls(const TlsProbeConfig& tls, YamlWriter& out);

}  // namespace covet::config::detail
