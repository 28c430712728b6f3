// The `otlp:` section: the receivers, the resource attributes added to what the app sends,
// the exporters with their batching, retry, queue and spool, and the `traces` check.

#include <algorithm>
#include <array>
#include <cstdlib>
#include <limits>
#include <unordered_map>

#include "config/duration.h"
#include "config/env_expand.h"
#include "config/mapping_reader.h"
#include "config/schema_names.h"
#include "config/schema_readers.h"

namespace covet::config::detail {
namespace {

constexpr std::array<std::string_view, 5> kOtlpKeys{"http", "grpc", "resource", "exporters",
                                                    "check"};
constexpr std::array<std::string_view, 3> kReceiverKeys{"enabled", "listen", "max_body_bytes"};
constexpr std::array<std::string_view, 1> kCheckKeys{"roles"};
constexpr std::array<std::string_view, 12> kExporterKeys{
    "name",        "endpoint", "timeout",
    "compression", "headers",  "header_files",
    "tls",         "batch",    "max_concurrent_exports",
    "retry",       "queue",    "spool"};
constexpr std::array<std::string_view, 3> kBatchKeys{"max_spans", "max_bytes", "timeout"};
constexpr std::array<std::string_view, 2> kRetryKeys{"initial_backoff", "max_backoff"};
constexpr std::array<std::string_view, 2> kQueueKeys{"max_bytes", "on_full"};
constexpr std::array<std::string_view, 4> kSpoolKeys{"dir", "max_bytes", "fsync", "fsync_interval"};

constexpr std::array<Choice<OnFull>, 3> kOnFull{{
    {"backpressure", OnFull::backpressure},
    {"drop_oldest", OnFull::drop_oldest},
    {"drop_newest", OnFull::drop_newest},
}};
constexpr std::array<Choice<SpoolFsync>, 3> kSpoolFsync{{
    {"always", SpoolFsync::always},
    {"interval", SpoolFsync::interval},
    {"never", SpoolFsync::never},
}};
constexpr std::array<Choice<bool>, 2> kCompression{{{"gzip", true}, {"none", false}}};

// Jaeger's own OTLP receivers refuse bodies past a few MiB by default; a batch must fit.
constexpr std::uint64_t kMaxBatchBytes = 64ull << 20;
constexpr std::int64_t kMaxConcurrentExports = 64;

void read_receiver(const Field& field, ValueReader& reader, OtlpReceiverConfig& receiver) {
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kReceiverKeys);
  read_key(mapping, "enabled", receiver.enabled, [&](const Field& f) { return reader.boolean(f); });
  read_key(mapping, "listen", receiver.listen,
           [&](const Field& f) { return reader.listen_address(f); });
  read_key(mapping, "max_body_bytes", receiver.max_body_bytes,
           [&](const Field& f) { return reader.size(f, 1024); });
}

// `resource: { key: value }`: attribute keys are free-form ("k8s.pod.name"), values are
// expanded ("${POD_NAME:-}"); an empty value is kept here and skipped when enriching, so
// an unset variable adds nothing instead of an empty attribute.
std::optional<std::vector<std::pair<std::string, std::string>>> read_resource(const Field& field,
                                                                              ValueReader& reader) {
  std::vector<std::pair<std::string, std::string>> attributes;
  if (field.value.IsNull()) return attributes;
  if (!field.value.IsMap()) {
    reader.report(field, "expected a mapping of resource attribute names to values");
    return std::nullopt;
  }
  bool ok = true;
  std::unordered_map<std::string, Position> seen;
  for (const auto& pair : field.value) {
    const Position key_at = position_of(pair.first);
    if (!pair.first.IsScalar() || pair.first.Scalar().empty()) {
      reader.report(key_at, field.path, "keys must be non-empty plain strings");
      ok = false;
      continue;
    }
    const std::string& name = pair.first.Scalar();
    const Field value_field{field.path + "." + name, pair.second,
                            pair.second.IsNull() ? key_at : position_of(pair.second), key_at};
    if (const auto [first, inserted] = seen.emplace(name, key_at); !inserted) {
      reader.report(
          key_at, value_field.path,
          "duplicate attribute (first at line " + std::to_string(first->second.line) + ")");
      ok = false;
      continue;
    }
    std::optional<std::string> value =
        pair.second.IsNull() ? std::optional<std::string>("") : reader.text(value_field);
    if (!value) {
      ok = false;
      continue;
    }
    attributes.emplace_back(name, std::move(*value));
  }
  if (!ok) return std::nullopt;
  return attributes;
}

// `header_files: { Authorization: /run/secrets/token }`: header names as for `headers`,
// values absolute paths.
std::optional<std::vector<std::pair<std::string, std::string>>> read_header_files(
    const Field& field, ValueReader& reader) {
  std::optional<std::vector<std::pair<std::string, std::string>>> files =
      read_headers(field, reader);
  if (!files) return std::nullopt;
  bool ok = true;
  for (auto& [name, path] : *files) {
    if (path.empty() || path.front() != '/') {
      reader.report(field, "header_files." + name + ": expected an absolute path to the file " +
                               "holding the value");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return files;
}

void read_batch(const Field& field, ValueReader& reader, OtlpExporterConfig& exporter) {
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kBatchKeys);
  read_key(mapping, "max_spans", exporter.max_batch_spans,
           [&](const Field& f) { return reader.integer(f, 1, 1'000'000); });
  read_key(mapping, "max_bytes", exporter.max_batch_bytes, [&](const Field& f) {
    const std::optional<std::uint64_t> bytes = reader.size(f, 1024);
    if (bytes && *bytes > kMaxBatchBytes) {
      reader.report(f, "at most 64MiB: larger requests are refused by OTLP receivers");
      return std::optional<std::uint64_t>{};
    }
    return bytes;
  });
  read_key(mapping, "timeout", exporter.batch_timeout,
           [&](const Field& f) { return reader.duration(f, Duration{0}, Duration{60'000}); });
}

void read_retry(const Field& field, ValueReader& reader, OtlpExporterConfig& exporter) {
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kRetryKeys);
  const auto positive = [&](const Field& f) {
    return reader.duration(f, Duration{1}, Duration{3'600'000});
  };
  const KeyRead initial = read_key(mapping, "initial_backoff", exporter.initial_backoff, positive);
  const KeyRead max = read_key(mapping, "max_backoff", exporter.max_backoff, positive);
  if (initial.ok && max.ok && exporter.initial_backoff > exporter.max_backoff) {
    const OtlpExporterConfig defaults;
    report_out_of_order(
        {mapping.path_of("initial_backoff"), initial.at, format_duration(defaults.initial_backoff)},
        {mapping.path_of("max_backoff"), max.at, format_duration(defaults.max_backoff)}, reader);
  }
}

void read_queue(const Field& field, ValueReader& reader, OtlpExporterConfig& exporter) {
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kQueueKeys);
  read_key(mapping, "max_bytes", exporter.queue_max_bytes,
           [&](const Field& f) { return reader.size(f, 64 * 1024); });
  read_key(mapping, "on_full", exporter.on_full,
           [&](const Field& f) { return reader.choice<OnFull>(f, kOnFull); });
}

void read_spool(const Field& field, ValueReader& reader, OtlpSpoolConfig& spool) {
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kSpoolKeys);
  if (!read_key(mapping, "dir", spool.dir, [&](const Field& f) {
         return reader.absolute_path(f);
       }).at) {
    reader.report(field.key_at, field.path,
                  "missing required key \"dir\" (a directory only this sidecar writes to)");
  }
  read_key(mapping, "max_bytes", spool.max_bytes,
           [&](const Field& f) { return reader.size(f, 1 << 20); });
  read_key(mapping, "fsync", spool.fsync,
           [&](const Field& f) { return reader.choice<SpoolFsync>(f, kSpoolFsync); });
  read_key(mapping, "fsync_interval", spool.fsync_interval,
           [&](const Field& f) { return reader.duration(f, Duration{1}, Duration{60'000}); });
}

using SeenNames = std::unordered_map<std::string, Position>;

OtlpExporterConfig read_exporter(const Field& item, ValueReader& reader, SeenNames& seen) {
  const MappingReader mapping(item.value, item.path, item.at, reader);
  mapping.reject_unknown(kExporterKeys);
  OtlpExporterConfig exporter;
  exporter.name = read_item_name(
      mapping, item, reader, seen,
      {"exporter", "an exporter name", "the destination label of covet_sidecar_otlp_*"});
  bool https = false;
  if (const std::optional<Field> field = mapping.find("endpoint")) {
    if (std::optional<std::string> url = read_url(*field, reader)) {
      exporter.endpoint = std::move(*url);
      https = exporter.endpoint.starts_with("https://");
    }
  } else {
    reader.report(item, "missing required key \"endpoint\" (e.g. http://jaeger:4318/v1/traces)");
  }
  read_key(mapping, "timeout", exporter.timeout,
           [&](const Field& f) { return reader.duration(f, Duration{1}, Duration{300'000}); });
  read_key(mapping, "compression", exporter.gzip,
           [&](const Field& f) { return reader.choice<bool>(f, kCompression); });
  read_key(mapping, "headers", exporter.headers,
           [&](const Field& f) { return read_headers(f, reader); });
  read_key(mapping, "header_files", exporter.header_files,
           [&](const Field& f) { return read_header_files(f, reader); });
  if (const std::optional<Field> tls = mapping.find("tls")) {
    read_client_tls(*tls, reader, exporter.tls);
    if (!https && !exporter.endpoint.empty()) {
      reader.report(tls->key_at, tls->path, "tls is set but endpoint is http://");
    }
  }
  if (const std::optional<Field> f = mapping.find("batch")) read_batch(*f, reader, exporter);
  read_key(mapping, "max_concurrent_exports", exporter.max_concurrent_exports,
           [&](const Field& f) { return reader.integer(f, 1, kMaxConcurrentExports); });
  if (const std::optional<Field> f = mapping.find("retry")) read_retry(*f, reader, exporter);
  if (const std::optional<Field> f = mapping.find("queue")) read_queue(*f, reader, exporter);
  if (const std::optional<Field> f = mapping.find("spool")) read_spool(*f, reader, exporter.spool);
  if (exporter.max_batch_bytes > exporter.queue_max_bytes) {
    reader.report(item, "batch.max_bytes is larger than queue.max_bytes: no batch could fill");
  }
  return exporter;
}

std::optional<std::vector<OtlpExporterConfig>> read_exporters(const Field& field,
                                                              ValueReader& reader) {
  std::vector<OtlpExporterConfig> exporters;
  const std::optional<std::vector<Field>> items =
      read_sequence(field, "a list of exporters", reader);
  if (!items) return std::nullopt;
  SeenNames seen;
  for (const Field& item : *items) {
    if (!item.value.IsMap()) {
      reader.report(item, "expected an exporter: a mapping with at least name and endpoint");
      continue;
    }
    exporters.push_back(read_exporter(item, reader, seen));
  }
  return exporters;
}

// What a pod's downward API usually provides, under the names the Kubernetes resource
// semantic conventions use. The variables are read when the config is loaded.
std::vector<std::pair<std::string, std::string>> default_resource(const EnvLookup& env) {
  std::vector<std::pair<std::string, std::string>> attributes;
  for (const auto& [key, variable] :
       {std::pair{"k8s.pod.name", "POD_NAME"}, std::pair{"k8s.namespace.name", "POD_NAMESPACE"},
        std::pair{"k8s.node.name", "NODE_NAME"}}) {
    const ExpandResult value = expand_env(std::string("${") + variable + ":-}", env);
    attributes.emplace_back(key, value.value.value_or(""));
  }
  return attributes;
}

}  // namespace

OtlpConfig read_otlp(const Field& field, ValueReader& reader) {
  OtlpConfig otlp;
  otlp.enabled = true;
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kOtlpKeys);
  if (const std::optional<Field> f = mapping.find("http")) read_receiver(*f, reader, otlp.http);
  if (const std::optional<Field> f = mapping.find("grpc")) read_receiver(*f, reader, otlp.grpc);
  if (!read_key(mapping, "resource", otlp.resource, [&](const Field& f) {
         return read_resource(f, reader);
       }).at) {
    otlp.resource = default_resource(reader.env());
  }
  const std::optional<Field> exporters = mapping.find("exporters");
  if (exporters) {
    read_key(mapping, "exporters", otlp.exporters,
             [&](const Field& f) { return read_exporters(f, reader); });
  }
  if (!exporters || (otlp.exporters.empty() && exporters->value.IsSequence())) {
    reader.report(exporters ? exporters->key_at : field.key_at,
                  exporters ? exporters->path : field.path,
                  "at least one exporter is needed (e.g. name: jaeger, endpoint: "
                  "http://jaeger:4318/v1/traces): received spans must go somewhere");
  }
  if (const std::optional<Field> check = mapping.find("check")) {
    const MappingReader check_mapping(check->value, check->path, check->at, reader);
    check_mapping.reject_unknown(kCheckKeys);
    read_key(check_mapping, "roles", otlp.check_roles,
             [&](const Field& f) { return read_roles(f, reader); });
  }
  if (otlp.http.enabled && otlp.grpc.enabled && otlp.http.listen == otlp.grpc.listen) {
    reader.report(field.key_at, field.path, "http.listen and grpc.listen are the same address");
  }
  return otlp;
}

}  // namespace covet::config::detail
