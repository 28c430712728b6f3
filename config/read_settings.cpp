// The top level of the schema and its small sections: listen, log, shutdown, server.
// Probes live in read_probes.cpp, scrape targets in read_scrape.cpp.

#include <algorithm>
#include <array>
#include <string_view>
#include <variant>

#include "config/duration.h"
#include "config/mapping_reader.h"
#include "config/schema_readers.h"

namespace covet::config::detail {
namespace {

constexpr std::array<std::string_view, 7> kTopLevelKeys{"listen", "log",    "shutdown", "server",
                                                        "probes", "scrape", "otlp"};

constexpr std::array<std::string_view, 2> kLogKeys{"format", "level"};
constexpr std::array<std::string_view, 2> kShutdownKeys{"drain_delay", "grace_period"};
constexpr std::array<std::string_view, 3> kServerKeys{"max_connections", "idle_timeout",
                                                      "request_timeout"};
constexpr std::int64_t kMaxConnectionsLimit = 1'000'000;

void read_log(const Field& field, ValueReader& reader, LogConfig& log) {
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kLogKeys);
  read_key(mapping, "format", log.format,
           [&](const Field& f) { return reader.choice<LogFormat>(f, kLogFormats); });
  read_key(mapping, "level", log.level,
           [&](const Field& f) { return reader.choice<LogLevel>(f, kLogLevels); });
}

void read_shutdown(const Field& field, ValueReader& reader, ShutdownConfig& shutdown) {
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kShutdownKeys);
  const auto any_duration = [&](const Field& f) { return reader.duration(f, Duration{0}); };
  const KeyRead drain = read_key(mapping, "drain_delay", shutdown.drain_delay, any_duration);
  const KeyRead grace = read_key(mapping, "grace_period", shutdown.grace_period, any_duration);
  // The grace period is the whole budget from SIGTERM to exit; the drain is part of it.
  if (drain.ok && grace.ok && shutdown.drain_delay > shutdown.grace_period) {
    const ShutdownConfig defaults;
    report_out_of_order(
        {mapping.path_of("drain_delay"), drain.at, format_duration(defaults.drain_delay)},
        {mapping.path_of("grace_period"), grace.at, format_duration(defaults.grace_period)},
        reader);
  }
}

void read_server(const Field& field, ValueReader& reader, ServerConfig& server) {
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kServerKeys);
  read_key(mapping, "max_connections", server.max_connections,
           [&](const Field& f) { return reader.integer(f, 1, kMaxConnectionsLimit); });
  const auto positive_duration = [&](const Field& f) { return reader.duration(f, Duration{1}); };
  read_key(mapping, "idle_timeout", server.idle_timeout, positive_duration);
  read_key(mapping, "request_timeout", server.request_timeout, positive_duration);
}

// A spool's disk filling up is the start of losing spans, so it is watched like any disk:
// a report-only disk probe on each spool directory, unless a disk probe already watches that
// path (which is also what keeps printing and loading the config again idempotent).
void watch_spool_disks(Config& config) {
  for (const OtlpExporterConfig& exporter : config.otlp.exporters) {
    if (exporter.spool.dir.empty()) continue;
    const bool watched =
        std::any_of(config.probes.begin(), config.probes.end(), [&](const ProbeConfig& probe) {
          const auto* disk = std::get_if<DiskProbeConfig>(&probe.settings);
          return disk != nullptr && disk->path == exporter.spool.dir;
        });
    const std::string name = "spool-" + exporter.name;
    const bool name_taken =
        std::any_of(config.probes.begin(), config.probes.end(),
                    [&](const ProbeConfig& probe) { return probe.name == name; });
    if (watched || name_taken) continue;
    ProbeConfig probe;
    probe.name = name;
    probe.type = "disk";
    probe.roles = 0;
    DiskProbeConfig disk;
    disk.path = exporter.spool.dir;
    probe.settings = disk;
    config.probes.push_back(std::move(probe));
  }
}

}  // namespace

void read_document(const YAML::Node& root, ValueReader& reader, Config& config) {
  if (!root.IsMap()) {
    reader.report(
        position_of(root), "",
        "expected a mapping of settings (listen, log, shutdown, server, probes, scrape, otlp)");
    return;
  }
  const MappingReader top(root, "", position_of(root), reader);
  top.reject_unknown(kTopLevelKeys);
  read_key(top, "listen", config.listen, [&](const Field& f) { return reader.listen_address(f); });
  if (const std::optional<Field> field = top.find("log")) read_log(*field, reader, config.log);
  if (const std::optional<Field> field = top.find("shutdown")) {
    read_shutdown(*field, reader, config.shutdown);
  }
  if (const std::optional<Field> field = top.find("server")) {
    read_server(*field, reader, config.server);
  }
  if (const std::optional<Field> field = top.find("probes")) {
    config.probes = read_probes(*field, reader);
  }
  if (const std::optional<Field> field = top.find("scrape")) {
    config.scrape = read_scrape(*field, reader, config.server.request_timeout);
  }
  if (const std::optional<Field> field = top.find("otlp")) {
    config.otlp = read_otlp(*field, reader);
    watch_spool_disks(config);
    for (const OtlpReceiverConfig* receiver : {&config.otlp.http, &config.otlp.grpc}) {
      if (receiver->enabled && receiver->listen == config.listen) {
        reader.report(field->key_at, field->path,
                      "an OTLP receiver listens on the same address as listen (" +
                          config.listen.host + ":" + std::to_string(config.listen.port) + ")");
      }
    }
  }
}

}  // namespace covet::config::detail
