// The `probes:` list: the keys every probe has, then one reader per probe type for its own.

#include <array>
#include <span>
#include <string_view>
#include <unordered_map>

#include "config/duration.h"
#include "config/mapping_reader.h"
#include "config/number_text.h"
#include "config/schema_readers.h"

namespace covet::config::detail {
namespace {

constexpr std::array<std::string_view, 7> kCommonKeys{
    "name", "type", "interval", "timeout", "failure_threshold", "success_threshold", "roles"};

constexpr std::array<std::string_view, 6> kDiskKeys{
    "path",        "warn_free_percent",        "fail_free_percent",
    "write_check", "warn_free_inodes_percent", "fail_free_inodes_percent"};
constexpr std::array<std::string_view, 4> kMemoryKeys{"warn_percent", "fail_percent", "cgroup_root",
                                                      "proc_root"};

// Probe types of the product's design that this version does not build yet.
constexpr std::array<std::string_view, 6> kNotInThisVersion{"postgres", "redis", "http",
                                                            "tcp",      "tls",   "process"};

// The scheduler cannot usefully run a probe more often than this; a smaller interval is
// almost always a unit mistake ("100" meant as seconds).
constexpr Duration kMinInterval{100};
constexpr std::int64_t kMaxThreshold = 100;
// Probe names become metric label values and ?exclude=NAME arguments.
constexpr std::size_t kMaxNameLength = 63;

bool is_valid_probe_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

OrderedSetting ordered(const MappingReader& mapping, std::string_view key, const KeyRead& read,
                       double default_value) {
  return {mapping.path_of(key), read.at, format_number(default_value)};
}

void read_disk(const MappingReader& mapping, ValueReader& reader, ProbeConfig& probe) {
  DiskProbeConfig disk;
  read_key(mapping, "path", disk.path, [&](const Field& f) { return reader.absolute_path(f); });
  const auto percent = [&](const Field& f) { return reader.number(f, 0, 100, false); };
  const KeyRead warn = read_key(mapping, "warn_free_percent", disk.warn_free_percent, percent);
  const KeyRead fail = read_key(mapping, "fail_free_percent", disk.fail_free_percent, percent);
  const KeyRead warn_inodes =
      read_key(mapping, "warn_free_inodes_percent", disk.warn_free_inodes_percent, percent);
  const KeyRead fail_inodes =
      read_key(mapping, "fail_free_inodes_percent", disk.fail_free_inodes_percent, percent);
  read_key(mapping, "write_check", disk.write_check,
           [&](const Field& f) { return reader.boolean(f); });

  // Free space falls through the warning level before the failure level.
  const DiskProbeConfig defaults;
  if (warn.ok && fail.ok && disk.fail_free_percent > disk.warn_free_percent) {
    report_out_of_order(ordered(mapping, "fail_free_percent", fail, defaults.fail_free_percent),
                        ordered(mapping, "warn_free_percent", warn, defaults.warn_free_percent),
                        reader);
  }
  if (warn_inodes.ok && fail_inodes.ok &&
      disk.fail_free_inodes_percent > disk.warn_free_inodes_percent) {
    report_out_of_order(ordered(mapping, "fail_free_inodes_percent", fail_inodes,
                                defaults.fail_free_inodes_percent),
                        ordered(mapping, "warn_free_inodes_percent", warn_inodes,
                                defaults.warn_free_inodes_percent),
                        reader);
  }
  probe.settings = std::move(disk);
}

void read_memory(const MappingReader& mapping, ValueReader& reader, ProbeConfig& probe) {
  MemoryProbeConfig memory;
  // 0% used memory cannot be a threshold; 100% can (warn or fail only when full).
  const auto percent = [&](const Field& f) { return reader.number(f, 0, 100, true); };
  const KeyRead warn = read_key(mapping, "warn_percent", memory.warn_percent, percent);
  const KeyRead fail = read_key(mapping, "fail_percent", memory.fail_percent, percent);
  const auto path = [&](const Field& f) { return reader.absolute_path(f); };
  read_key(mapping, "cgroup_root", memory.cgroup_root, path);
  read_key(mapping, "proc_root", memory.proc_root, path);

  // Used memory rises through the warning level before the failure level.
  const MemoryProbeConfig defaults;
  if (warn.ok && fail.ok && memory.warn_percent > memory.fail_percent) {
    report_out_of_order(ordered(mapping, "warn_percent", warn, defaults.warn_percent),
                        ordered(mapping, "fail_percent", fail, defaults.fail_percent), reader);
  }
  probe.settings = std::move(memory);
}

struct ProbeType {
  std::string_view name;
  std::span<const std::string_view> keys;  // its own, besides kCommonKeys
  void (*read)(const MappingReader&, ValueReader&, ProbeConfig&);
};
const std::array<ProbeType, 2> kProbeTypes{{
    {"disk", kDiskKeys, read_disk},
    {"memory", kMemoryKeys, read_memory},
}};

// The probe's type, or nothing (reported) when it is missing or not one we run.
const ProbeType* read_type(const MappingReader& mapping, const Field& item, ValueReader& reader) {
  const std::optional<Field> field = mapping.find("type");
  if (!field) {
    reader.report(item, "missing required key \"type\" (supported: disk, memory)");
    return nullptr;
  }
  const std::optional<Scalar> type = reader.scalar(*field, "a probe type");
  if (!type) return nullptr;
  for (const ProbeType& known : kProbeTypes) {
    if (type->value == known.name) return &known;
  }
  for (std::string_view later : kNotInThisVersion) {
    if (type->value == later) {
      reader.report(*field, "probe type " + type->shown +
                                " is not supported by this version of covet-sidecar");
      return nullptr;
    }
  }
  reader.report(*field, "unknown probe type " + type->shown + " (supported: disk, memory)");
  return nullptr;
}

std::optional<unsigned> read_roles(const Field& field, ValueReader& reader) {
  const std::optional<std::vector<Field>> items = read_sequence(
      field, "a list of roles, e.g. [readiness, startup], or [] to only report", reader);
  if (!items) return std::nullopt;
  unsigned roles = 0;
  bool ok = true;
  for (const Field& item : *items) {
    const std::optional<Role> role = reader.choice<Role>(item, kRoles);
    if (!role) {
      ok = false;
    } else if ((roles & *role) != 0) {
      reader.report(item, "duplicate role \"" + std::string(name_of<Role>(kRoles, *role)) + "\"");
      ok = false;
    } else {
      roles |= *role;
    }
  }
  if (!ok) return std::nullopt;
  return roles;
}

// Name -> where it was first used, for the uniqueness check across the list.
using SeenNames = std::unordered_map<std::string, Position>;

void read_name(const MappingReader& mapping, const Field& item, ValueReader& reader,
               SeenNames& seen, ProbeConfig& probe) {
  const std::optional<Field> field = mapping.find("name");
  if (!field) {
    reader.report(item, "missing required key \"name\"");
    return;
  }
  const std::optional<Scalar> name = reader.scalar(*field, "a probe name");
  if (!name) return;
  if (!is_valid_probe_name(name->value)) {
    reader.report(*field, "invalid probe name " + name->shown +
                              ": use 1 to 63 letters, digits, '_', '.' or '-' (it is used as a "
                              "metric label and in ?exclude=NAME)");
    return;
  }
  const auto [first, inserted] = seen.emplace(name->value, field->at);
  if (!inserted) {
    reader.report(*field, "duplicate probe name " + name->shown + " (first at line " +
                              std::to_string(first->second.line) + ")");
    return;
  }
  probe.name = name->value;
}

ProbeConfig read_probe(const Field& item, ValueReader& reader, SeenNames& seen) {
  const MappingReader mapping(item.value, item.path, item.at, reader);
  ProbeConfig probe;
  read_name(mapping, item, reader, seen, probe);
  if (const ProbeType* type = read_type(mapping, item, reader)) {
    probe.type = std::string(type->name);
    std::vector<std::string_view> allowed(kCommonKeys.begin(), kCommonKeys.end());
    allowed.insert(allowed.end(), type->keys.begin(), type->keys.end());
    mapping.reject_unknown(allowed);
    type->read(mapping, reader, probe);
  }
  // Without a known type there is no telling which other keys are valid; the type error
  // is the one to fix first, so unknown keys are not reported for such a probe.

  const KeyRead interval = read_key(mapping, "interval", probe.interval, [&](const Field& f) {
    return reader.duration(f, kMinInterval);
  });
  const KeyRead timeout = read_key(mapping, "timeout", probe.timeout,
                                   [&](const Field& f) { return reader.duration(f, Duration{1}); });
  const auto threshold = [&](const Field& f) { return reader.integer(f, 1, kMaxThreshold); };
  read_key(mapping, "failure_threshold", probe.failure_threshold, threshold);
  read_key(mapping, "success_threshold", probe.success_threshold, threshold);
  read_key(mapping, "roles", probe.roles, [&](const Field& f) { return read_roles(f, reader); });

  // A check still running when the next is due would overlap itself. With no timeout
  // written, a short interval shortens the default timeout instead of being an error.
  if (!timeout.at && interval.ok && probe.timeout > probe.interval) probe.timeout = probe.interval;
  if (interval.ok && timeout.ok && probe.timeout > probe.interval) {
    const ProbeConfig defaults;
    report_out_of_order(
        {mapping.path_of("timeout"), timeout.at, format_duration(defaults.timeout)},
        {mapping.path_of("interval"), interval.at, format_duration(defaults.interval)}, reader);
  }
  return probe;
}

}  // namespace

std::vector<ProbeConfig> read_probes(const Field& field, ValueReader& reader) {
  std::vector<ProbeConfig> probes;
  const std::optional<std::vector<Field>> items =
      read_sequence(field, "a list of probes (use [] for none)", reader);
  if (!items) return probes;
  SeenNames seen;
  for (const Field& item : *items) {
    if (!item.value.IsMap()) {
      reader.report(item, "expected a probe: a mapping with at least name and type");
      continue;
    }
    probes.push_back(read_probe(item, reader, seen));
  }
  return probes;
}

}  // namespace covet::config::detail
