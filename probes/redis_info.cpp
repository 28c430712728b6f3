#include "probes/redis_info.h"

#include <array>
#include <charconv>
#include <cmath>
#include <unordered_set>

namespace covet::probes {
namespace {

// One INFO field exported as it is. Declared together, as redis_exporter names them.
struct FieldMetric {
  std::string_view field;  // INFO key
  std::string_view name;   // metric name
  std::string_view help;
  bool counter;
};
constexpr std::array<FieldMetric, 13> kFieldMetrics{{
    {"uptime_in_seconds", "redis_uptime_in_seconds", "Seconds since the server started.", false},
    {"connected_clients", "redis_connected_clients", "Client connections, replicas excluded.",
     false},
    {"blocked_clients", "redis_blocked_clients",
     "Clients waiting in a blocking call (BLPOP, WAIT, ...).", false},
    {"maxclients", kRedisMaxClientsMetric, kRedisMaxClientsHelp, false},
    {"rejected_connections", "redis_rejected_connections_total",
     "Connections refused because maxclients was reached.", true},
    {"used_memory", "redis_memory_used_bytes", "Bytes allocated by the server's allocator.", false},
    {"maxmemory", "redis_memory_max_bytes", "The maxmemory setting in bytes (0: no limit).", false},
    {"mem_fragmentation_ratio", "redis_mem_fragmentation_ratio",
     "Resident memory divided by memory used.", false},
    {"total_commands_processed", "redis_commands_processed_total",
     "Commands the server has processed.", true},
    {"keyspace_hits", "redis_keyspace_hits_total", "Key lookups that found the key.", true},
    {"keyspace_misses", "redis_keyspace_misses_total", "Key lookups that missed.", true},
    {"evicted_keys", "redis_evicted_keys_total", "Keys evicted because of maxmemory.", true},
    {"connected_slaves", "redis_connected_slaves", "Replicas connected to this server.", false},
}};

constexpr std::string_view kInstanceInfo = "redis_instance_info";
constexpr std::string_view kInstanceInfoHelp =
    "Always 1; the labels say which server answered and in which role.";
constexpr std::string_view kDbKeys = "redis_db_keys";
constexpr std::string_view kDbKeysHelp = "Keys in each database.";

bool is_db_name(std::string_view key) {
  if (key.size() < 3 || !key.starts_with("db")) return false;
  for (char c : key.substr(2)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> RedisInfo::get(std::string_view key) const {
  for (const auto& [name, value] : fields) {
    if (name == key) return value;
  }
  return std::nullopt;
}

RedisInfo parse_redis_info(std::string_view text) {
  RedisInfo info;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    info.fields.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return info;
}

std::optional<double> parse_redis_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<double> parse_keyspace_keys(std::string_view value) {
  // "keys=N" is the first of the comma-separated pairs in every Redis version, but look it
  // up by name in case that ever changes.
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view pair = value.substr(0, comma);
    value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    if (pair.starts_with("keys=")) return parse_redis_number(pair.substr(5));
  }
  return std::nullopt;
}

std::vector<Reading> redis_info_readings(const RedisInfo& info) {
  std::vector<Reading> readings;
  const std::optional<std::string_view> role = info.get("role");
  const std::optional<std::string_view> version = info.get("redis_version");
  if (role || version) {
    readings.push_back({std::string(kInstanceInfo),
                        std::string(kInstanceInfoHelp),
                        {{"role", std::string(role.value_or(""))},
                         {"redis_version", std::string(version.value_or(""))}},
                        1,
                        false});
  }
  for (const FieldMetric& metric : kFieldMetrics) {
    const std::optional<std::string_view> text = info.get(metric.field);
    if (!text) continue;
    const std::optional<double> value = parse_redis_number(*text);
    if (!value) continue;
    readings.push_back(
        {std::string(metric.name), std::string(metric.help), {}, *value, metric.counter});
  }
  // A database listed twice (never in a real reply) would be a duplicate series.
  std::unordered_set<std::string_view> seen;
  for (const auto& [key, value] : info.fields) {
    if (!is_db_name(key) || !seen.insert(key).second) continue;
    const std::optional<double> keys = parse_keyspace_keys(value);
    if (!keys) continue;
    readings.push_back(
        {std::string(kDbKeys), std::string(kDbKeysHelp), {{"db", std::string(key)}}, *keys, false});
  }
  return readings;
}

}  // namespace covet::probes
