#pragma once
// The schema: which keys exist where, and what they read into. Internal to the loader.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "config/mapping_reader.h"
#include "config/value_reader.h"

namespace covet::config::detail {

// Reads the document's top-level mapping into `config`, which starts as default_config():
// a key the file sets replaces its default, and `probes:` replaces the default list.
void read_document(const YAML::Node& root, ValueReader& reader, Config& config);

// Reads `probes:`. Invalid probes are reported and left out.
std::vector<ProbeConfig> read_probes(const Field& field, ValueReader& reader);

// Reads `scrape:`. Invalid targets are reported and left out.
// Each target's timeout must be below `request_timeout` (server.request_timeout).
std::vector<ScrapeTargetConfig> read_scrape(const Field& field, ValueReader& reader,
                                            Duration request_timeout);

// `headers: { Name: value }` in file order: valid header names, no line breaks in values.
std::optional<std::vector<std::pair<std::string, std::string>>> read_headers(const Field& field,
                                                                             ValueReader& reader);

// A client's `tls:` block towards an https:// server (ca_file, cert_file with key_file,
// server_name, insecure_skip_verify).
void read_client_tls(const Field& field, ValueReader& reader, ScrapeTlsConfig& tls);

// `roles: [readiness, startup]` as Role bits; [] reads as 0 (report-only).
std::optional<unsigned> read_roles(const Field& field, ValueReader& reader);

// Reads `otlp:`. `drain_delay` and `grace_period` bound the exporters' timeouts.
OtlpConfig read_otlp(const Field& field, ValueReader& reader);

// The required `name` of a list item that becomes a label value (a scrape target, an OTLP
// exporter): letters, digits, '_', '.' or '-', unique across the list (`seen`: name -> where
// first used). "" when missing or invalid, reported in the words of `what`.
struct ItemName {
  std::string_view noun;       // "target": "invalid target name ...", "duplicate target name ..."
  std::string_view expected;   // "a target name", for a value of the wrong type
  std::string_view label_use;  // "the target label of covet_sidecar_scrape_*"
};
std::string read_item_name(const MappingReader& mapping, const Field& item, ValueReader& reader,
                           std::unordered_map<std::string, Position>& seen, const ItemName& what);

// An http:// or https:// URL with a host, as written, or nothing (reported).
std::optional<std::string> read_url(const Field& field, ValueReader& reader);

// A "host:port" value as written, or nothing (the problem reported where it is written).
std::optional<std::string> read_host_port(const Field& field, ValueReader& reader);

}  // namespace covet::config::detail
