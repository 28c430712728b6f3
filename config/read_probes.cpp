// The `probes:` list: the keys every probe has, then one reader per probe type for its own.

#include <algorithm>
#include <array>
#include <limits>
#include <regex>
#include <span>
#include <string_view>
#include <unordered_map>

#include "config/duration.h"
#include "config/host_port.h"
#include "config/http_status.h"
#include "config/mapping_reader.h"
#include "config/number_text.h"
#include "config/schema_readers.h"
#include "config/tls_schema.h"

namespace covet::config::detail {

// "host:port" as written, or nothing (reported).
std::optional<std::string> read_host_port(const Field& field, ValueReader& reader) {
  const std::optional<Scalar> text = reader.scalar(field, "host:port");
  if (!text) return std::nullopt;
  auto parsed = parse_host_port(text->value);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    reader.report(field, *error);
    return std::nullopt;
  }
  return text->value;
}

// An http:// or https:// URL as written, or nothing (reported).
std::optional<std::string> read_url(const Field& field, ValueReader& reader) {
  const std::optional<Scalar> url = reader.scalar(field, "a URL");
  if (!url) return std::nullopt;
  std::string_view rest = url->value;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (rest.starts_with(scheme)) {
      rest.remove_prefix(scheme.size());
      break;
    }
  }
  if (rest.size() == url->value.size()) {
    reader.report(field, "invalid URL " + url->shown + ": expected http:// or https://");
    return std::nullopt;
  }
  if (rest.empty() || rest.front() == '/' || rest.find_first_of(" \t\r\n") != std::string::npos) {
    reader.report(field, "invalid URL " + url->shown + ": expected a host after the scheme");
    return std::nullopt;
  }
  // user:password@ would be printed wherever the URL is: errors, logs, --print-config. The
  // URL is not repeated here for the same reason.
  if (rest.substr(0, rest.find_first_of("/?#")).find('@') != std::string_view::npos) {
    reader.report(field,
                  "credentials in a URL are not accepted (they would show in logs): use a "
                  "password or token file");
    return std::nullopt;
  }
  return url->value;
}

namespace {

constexpr std::array<std::string_view, 7> kCommonKeys{
    "name", "type", "interval", "timeout", "failure_threshold", "success_threshold", "roles"};

constexpr std::array<std::string_view, 6> kDiskKeys{
    "path",        "warn_free_percent",        "fail_free_percent",
    "write_check", "warn_free_inodes_percent", "fail_free_inodes_percent"};
constexpr std::array<std::string_view, 4> kMemoryKeys{"warn_percent", "fail_percent", "cgroup_root",
                                                      "proc_root"};
constexpr std::array<std::string_view, 7> kPostgresKeys{"dsn",
                                                        "password_file",
                                                        "query",
                                                        "require_primary",
                                                        "stats_interval",
                                                        "reconnect_backoff",
                                                        "reconnect_backoff_max"};

constexpr std::array<std::string_view, 6> kHttpKeys{"url",           "method",  "expected_status",
                                                    "body_contains", "headers", "tls_verify"};
constexpr std::array<std::string_view, 1> kTcpKeys{"address"};
constexpr std::array<std::string_view, 11> kRedisKeys{"address",
                                                      "unix_socket",
                                                      "username",
                                                      "password_file",
                                                      "db",
                                                      "require_master",
                                                      "sentinels",
                                                      "master_name",
                                                      "stats_interval",
                                                      "reconnect_backoff",
                                                      "reconnect_backoff_max"};
constexpr std::array<std::string_view, 6> kProcessKeys{
    "pid_file", "cmdline", "cgroup", "fd_warn_percent", "fd_fail_percent", "proc_root"};

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

// `stats_interval` of the probes that read metrics from their server: 0s turns them off;
// below a second they would be a per-scrape load again.
void read_stats_interval(const MappingReader& mapping, ValueReader& reader, Duration& target) {
  read_key(mapping, "stats_interval", target, [&](const Field& f) {
    std::optional<Duration> value = reader.duration(f, Duration{0});
    if (value && value->count() != 0 && *value < Duration{1000}) {
      reader.report(f, "must be 0s (off) or at least 1s, got " + format_duration(*value));
      return std::optional<Duration>{};
    }
    return value;
  });
}

// `reconnect_backoff` and `reconnect_backoff_max` of the probes that keep a connection.
void read_reconnect_backoff(const MappingReader& mapping, ValueReader& reader, Duration& initial,
                            Duration& max) {
  const Duration default_initial = initial;
  const Duration default_max = max;
  const auto duration = [&](const Field& f) { return reader.duration(f, kMinInterval); };
  const KeyRead initial_read = read_key(mapping, "reconnect_backoff", initial, duration);
  const KeyRead max_read = read_key(mapping, "reconnect_backoff_max", max, duration);
  if (initial_read.ok && max_read.ok && initial > max) {
    report_out_of_order(
        {mapping.path_of("reconnect_backoff"), initial_read.at, format_duration(default_initial)},
        {mapping.path_of("reconnect_backoff_max"), max_read.at, format_duration(default_max)},
        reader);
  }
}

void read_postgres(const MappingReader& mapping, ValueReader& reader, ProbeConfig& probe) {
  PostgresProbeConfig postgres;
  const auto text = [&](const Field& f) -> std::optional<std::string> {
    std::optional<std::string> value = reader.text(f);
    if (value && value->empty()) {
      reader.report(f, "expected a non-empty string");
      return std::nullopt;
    }
    return value;
  };
  if (const std::optional<Field> dsn = mapping.find("dsn")) {
    // The value is never quoted back in a message: it may hold a password.
    if (std::optional<std::string> value = text(*dsn)) postgres.dsn = std::move(*value);
  } else {
    // Reported where the probe says it is a postgres probe: its `type` (always present
    // here, since the type chose this reader).
    const Position at = mapping.find("type") ? mapping.find("type")->at : Position{};
    reader.report(at, mapping.path(),
                  "missing required key \"dsn\" (a libpq URI such as "
                  "postgresql://app@127.0.0.1:5432/app, or host=... dbname=...)");
  }
  read_key(mapping, "password_file", postgres.password_file,
           [&](const Field& f) { return reader.absolute_path(f); });
  read_key(mapping, "query", postgres.query, text);
  read_key(mapping, "require_primary", postgres.require_primary,
           [&](const Field& f) { return reader.boolean(f); });
  read_stats_interval(mapping, reader, postgres.stats_interval);
  read_reconnect_backoff(mapping, reader, postgres.reconnect_backoff,
                         postgres.reconnect_backoff_max);
  probe.settings = std::move(postgres);
}

// The position of the probe's `type`, where a missing required key of the type is reported.
Position type_position(const MappingReader& mapping) {
  const std::optional<Field> type = mapping.find("type");
  return type ? type->at : Position{};
}

// `expected_status: 200`, `"200-399"` or a list of them.
std::optional<std::vector<StatusRange>> read_expected_status(const Field& field,
                                                             ValueReader& reader) {
  std::vector<Field> items;
  if (field.value.IsSequence()) {
    std::optional<std::vector<Field>> list =
        read_sequence(field, "a status code, a range like 200-399, or a list of them", reader);
    if (!list) return std::nullopt;
    items = std::move(*list);
    if (items.empty()) {
      reader.report(field, "expected at least one status code or range");
      return std::nullopt;
    }
  } else {
    items.push_back(field);
  }
  std::vector<StatusRange> ranges;
  bool ok = true;
  for (const Field& item : items) {
    const std::optional<Scalar> text = reader.scalar(item, "a status code or a range like 200-399");
    if (!text) {
      ok = false;
      continue;
    }
    auto parsed = parse_status_range(text->value);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      reader.report(item, *error);
      ok = false;
    } else {
      ranges.push_back(std::get<StatusRange>(parsed));
    }
  }
  if (!ok) return std::nullopt;
  return ranges;
}

bool is_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

// `headers: { Name: value }`, kept in file order.
std::optional<std::vector<std::pair<std::string, std::string>>> read_headers(const Field& field,
                                                                             ValueReader& reader) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (field.value.IsNull()) return headers;
  if (!field.value.IsMap()) {
    reader.report(field, "expected a mapping of header names to values");
    return std::nullopt;
  }
  bool ok = true;
  std::unordered_map<std::string, Position> seen;  // lower-case name -> first position
  for (const auto& pair : field.value) {
    const Position key_at = position_of(pair.first);
    const std::string name = pair.first.IsScalar() ? pair.first.Scalar() : std::string();
    const Field value_field{field.path + "." + name, pair.second,
                            pair.second.IsNull() ? key_at : position_of(pair.second), key_at};
    if (!is_header_name(name)) {
      reader.report(key_at, field.path, "invalid header name \"" + name + "\"");
      ok = false;
      continue;
    }
    const auto [first, inserted] = seen.emplace(lower(name), key_at);
    if (!inserted) {
      reader.report(key_at, value_field.path,
                    "duplicate header (first at line " + std::to_string(first->second.line) + ")");
      ok = false;
      continue;
    }
    std::optional<std::string> value =
        pair.second.IsNull() ? std::optional<std::string>("") : reader.text(value_field);
    if (!value) {
      ok = false;
      continue;
    }
    if (value->find_first_of("\r\n") != std::string::npos) {
      reader.report(value_field, "a header value cannot contain a line break");
      ok = false;
      continue;
    }
    headers.emplace_back(name, std::move(*value));
  }
  if (!ok) return std::nullopt;
  return headers;
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

namespace {

constexpr std::array<Choice<std::string_view>, 3> kHttpMethods{{
    {"GET", "GET"},
    {"HEAD", "HEAD"},
    {"POST", "POST"},
}};

void read_http(const MappingReader& mapping, ValueReader& reader, ProbeConfig& probe) {
  HttpProbeConfig http;
  if (const std::optional<Field> url = mapping.find("url")) {
    if (std::optional<std::string> value = read_url(*url, reader)) http.url = std::move(*value);
  } else {
    reader.report(type_position(mapping), mapping.path(),
                  "missing required key \"url\" (e.g. http://127.0.0.1:8000/health/live)");
  }
  read_key(mapping, "method", http.method,
           [&](const Field& f) { return reader.choice<std::string_view>(f, kHttpMethods); });
  read_key(mapping, "expected_status", http.expected_status,
           [&](const Field& f) { return read_expected_status(f, reader); });
  read_key(mapping, "body_contains", http.body_contains,
           [&](const Field& f) { return reader.text(f); });
  read_key(mapping, "headers", http.headers,
           [&](const Field& f) { return read_headers(f, reader); });
  read_key(mapping, "tls_verify", http.tls_verify,
           [&](const Field& f) { return reader.boolean(f); });
  probe.settings = std::move(http);
}

void read_tcp(const MappingReader& mapping, ValueReader& reader, ProbeConfig& probe) {
  TcpProbeConfig tcp;
  if (const std::optional<Field> address = mapping.find("address")) {
    if (std::optional<std::string> value = read_host_port(*address, reader)) {
      tcp.address = std::move(*value);
    }
  } else {
    reader.report(type_position(mapping), mapping.path(),
                  "missing required key \"address\" (host:port, e.g. 127.0.0.1:8000)");
  }
  probe.settings = std::move(tcp);
}

std::optional<std::vector<std::string>> read_sentinels(const Field& field, ValueReader& reader) {
  const std::optional<std::vector<Field>> items =
      read_sequence(field, "a list of sentinel addresses (host:port)", reader);
  if (!items) return std::nullopt;
  if (items->empty()) {
    reader.report(field, "expected at least one sentinel address (host:port)");
    return std::nullopt;
  }
  std::vector<std::string> sentinels;
  bool ok = true;
  for (const Field& item : *items) {
    if (std::optional<std::string> address = read_host_port(item, reader)) {
      sentinels.push_back(std::move(*address));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return sentinels;
}

void read_redis(const MappingReader& mapping, ValueReader& reader, ProbeConfig& probe) {
  RedisProbeConfig redis;
  const auto text = [&](const Field& f) -> std::optional<std::string> {
    std::optional<std::string> value = reader.text(f);
    if (value && value->empty()) {
      reader.report(f, "expected a non-empty string");
      return std::nullopt;
    }
    return value;
  };
  const auto path = [&](const Field& f) { return reader.absolute_path(f); };
  const KeyRead address = read_key(mapping, "address", redis.address,
                                   [&](const Field& f) { return read_host_port(f, reader); });
  const KeyRead unix_socket = read_key(mapping, "unix_socket", redis.unix_socket, path);
  const KeyRead sentinels = read_key(mapping, "sentinels", redis.sentinels,
                                     [&](const Field& f) { return read_sentinels(f, reader); });
  const KeyRead master_name = read_key(mapping, "master_name", redis.master_name, text);
  const KeyRead username = read_key(mapping, "username", redis.username, text);
  const KeyRead password_file = read_key(mapping, "password_file", redis.password_file, path);
  read_key(mapping, "db", redis.db, [&](const Field& f) {
    return reader.integer(f, 0, std::numeric_limits<std::int32_t>::max());
  });
  read_key(mapping, "require_master", redis.require_master,
           [&](const Field& f) { return reader.boolean(f); });
  read_stats_interval(mapping, reader, redis.stats_interval);
  read_reconnect_backoff(mapping, reader, redis.reconnect_backoff, redis.reconnect_backoff_max);

  // Where the server is: exactly one way. A second one is reported where it is written.
  const int targets = (address.at ? 1 : 0) + (unix_socket.at ? 1 : 0) + (sentinels.at ? 1 : 0);
  if (targets == 0) {
    reader.report(type_position(mapping), mapping.path(),
                  "missing the server: set one of \"address\" (host:port, e.g. "
                  "127.0.0.1:6379), \"unix_socket\" or \"sentinels\" (with \"master_name\")");
  } else if (targets > 1) {
    const Position later =
        std::max({address.at.value_or(Position{}), unix_socket.at.value_or(Position{}),
                  sentinels.at.value_or(Position{})},
                 [](const Position& a, const Position& b) { return a < b; });
    reader.report(later, mapping.path(),
                  "set only one of \"address\", \"unix_socket\" and \"sentinels\"");
  }
  if (sentinels.at && !master_name.at) {
    reader.report(*sentinels.at, mapping.path_of("sentinels"),
                  "\"sentinels\" needs \"master_name\" (the master's name in the sentinels' "
                  "configuration)");
  }
  if (master_name.at && !sentinels.at) {
    reader.report(*master_name.at, mapping.path_of("master_name"),
                  "\"master_name\" is only used with \"sentinels\"");
  }
  if (username.at && username.ok && !password_file.at) {
    reader.report(*username.at, mapping.path_of("username"),
                  "\"username\" needs \"password_file\" (AUTH takes a user and a password)");
  }
  probe.settings = std::move(redis);
}

// `cmdline` is matched with std::regex, so it is compiled here once to report a bad pattern
// with its position instead of failing every check.
std::optional<std::string> read_cmdline_pattern(const Field& field, ValueReader& reader) {
  const std::optional<Scalar> pattern = reader.scalar(field, "a regular expression");
  if (!pattern) return std::nullopt;
  if (pattern->value.empty()) {
    reader.report(field, "expected a non-empty regular expression (it would match every process)");
    return std::nullopt;
  }
  try {
    std::regex compiled(pattern->value, std::regex::ECMAScript);
  } catch (const std::regex_error& error) {
    reader.report(
        field, "invalid regular expression " + pattern->shown + ": " + std::string(error.what()));
    return std::nullopt;
  }
  return pattern->value;
}

std::optional<std::string> read_cgroup_path(const Field& field, ValueReader& reader) {
  const std::optional<Scalar> path = reader.scalar(field, "a cgroup path");
  if (!path) return std::nullopt;
  if (!path->value.starts_with('/')) {
    reader.report(field,
                  "expected a cgroup path starting with '/' (as in /proc/PID/cgroup, e.g. "
                  "/system.slice/app.service), got " +
                      path->shown);
    return std::nullopt;
  }
  return path->value;
}

void read_process(const MappingReader& mapping, ValueReader& reader, ProbeConfig& probe) {
  ProcessProbeConfig process;
  // Exactly one selector. Each present one is read (and its errors reported) even when
  // there are several, so one run shows every problem. The regex selector is `cmdline`, not
  // `name`: every probe's `name` is its own name.
  constexpr std::array<std::string_view, 3> kSelectors{"pid_file", "cmdline", "cgroup"};
  std::optional<Field> first;
  for (std::string_view selector : kSelectors) {
    const std::optional<Field> field = mapping.find(selector);
    if (!field) continue;
    if (!first || field->key_at < first->key_at) first = field;
  }
  for (std::string_view selector : kSelectors) {
    const std::optional<Field> field = mapping.find(selector);
    if (!field || !first || field->path == first->path) continue;
    reader.report(field->key_at, field->path,
                  "only one of pid_file, cmdline or cgroup may be set (" +
                      first->path.substr(first->path.rfind('.') + 1) + " is set at line " +
                      std::to_string(first->key_at.line) + ")");
  }
  if (!first) {
    reader.report(type_position(mapping), mapping.path(),
                  "missing a process selector: set exactly one of pid_file (a file holding the "
                  "PID), cmdline (a regex matched against the command line) or cgroup");
  }
  read_key(mapping, "pid_file", process.pid_file,
           [&](const Field& f) { return reader.absolute_path(f); });
  read_key(mapping, "cmdline", process.cmdline,
           [&](const Field& f) { return read_cmdline_pattern(f, reader); });
  read_key(mapping, "cgroup", process.cgroup,
           [&](const Field& f) { return read_cgroup_path(f, reader); });

  // 0% open fds cannot be a threshold; 100% can (warn or fail only when none are left).
  const auto percent = [&](const Field& f) { return reader.number(f, 0, 100, true); };
  const KeyRead warn = read_key(mapping, "fd_warn_percent", process.fd_warn_percent, percent);
  const KeyRead fail = read_key(mapping, "fd_fail_percent", process.fd_fail_percent, percent);
  read_key(mapping, "proc_root", process.proc_root,
           [&](const Field& f) { return reader.absolute_path(f); });

  // Open fds rise through the warning level before the failure level.
  const ProcessProbeConfig defaults;
  if (warn.ok && fail.ok && process.fd_warn_percent > process.fd_fail_percent) {
    report_out_of_order(ordered(mapping, "fd_warn_percent", warn, defaults.fd_warn_percent),
                        ordered(mapping, "fd_fail_percent", fail, defaults.fd_fail_percent),
                        reader);
  }
  probe.settings = std::move(process);
}

struct ProbeType {
  std::string_view name;
  std::span<const std::string_view> keys;  // its own, besides kCommonKeys
  void (*read)(const MappingReader&, ValueReader&, ProbeConfig&);
};
const std::array<ProbeType, 8> kProbeTypes{{
    {"disk", kDiskKeys, read_disk},
    {"memory", kMemoryKeys, read_memory},
    {"http", kHttpKeys, read_http},
    {"tcp", kTcpKeys, read_tcp},
    {"postgres", kPostgresKeys, read_postgres},
    {"redis", kRedisKeys, read_redis},
    {"process", kProcessKeys, read_process},
    {"tls", kTlsKeys, read_tls},
}};

// The probe's type, or nothing (reported) when it is missing or not one we run.
const ProbeType* read_type(const MappingReader& mapping, const Field& item, ValueReader& reader) {
  const std::optional<Field> field = mapping.find("type");
  if (!field) {
    reader.report(
        item,
        "missing required key \"type\" (supported: disk, memory, postgres, redis, http, tcp, "
        "process, tls)");
    return nullptr;
  }
  const std::optional<Scalar> type = reader.scalar(*field, "a probe type");
  if (!type) return nullptr;
  for (const ProbeType& known : kProbeTypes) {
    if (type->value == known.name) return &known;
  }
  reader.report(*field, "unknown probe type " + type->shown +
                            " (supported: disk, memory, postgres, redis, http, tcp, process, tls)");
  return nullptr;
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
