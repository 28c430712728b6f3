#pragma once
// Redis' INFO reply ("# Section\r\nkey:value\r\n...") and the readings redis_exporter derives
// from it, under its metric names (redis_exporter 1.45), so its dashboards and alerts work on
// what the sidecar exports. Pure functions over a buffer: no I/O, no allocation beyond the
// result, anything malformed is skipped rather than trusted.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "probes/probe.h"

namespace covet::probes {

struct RedisInfo {
  // "key" -> "value" in reply order. Views into the text given to parse_redis_info, which
  // must outlive this.
  std::vector<std::pair<std::string_view, std::string_view>> fields;

  // The first value of `key`, or nothing.
  std::optional<std::string_view> get(std::string_view key) const;
};

// Splits INFO text into fields. Section headers ("# Server"), blank lines and lines without a
// ':' are skipped; a line break may be "\r\n" or "\n". Keys are whatever precedes the first
// ':' (values may contain ':', e.g. "executable:/usr/bin/redis-server" or IPv6 addresses).
RedisInfo parse_redis_info(std::string_view text);

// A number as INFO writes it ("1089248", "6.82"); nothing for anything else, including
// "nan"/"inf" and trailing garbage.
std::optional<double> parse_redis_number(std::string_view text);

// "keys=1,expires=0,avg_ttl=0" (a keyspace line's value) -> 1.
std::optional<double> parse_keyspace_keys(std::string_view value);

// The readings of one INFO reply: redis_instance_info{role,redis_version}, the gauges and
// counters of the table in redis_info.cpp, and redis_db_keys{db="dbN"} per keyspace line.
// A field missing from the reply (older servers, a section left out) drops that reading only.
std::vector<Reading> redis_info_readings(const RedisInfo& info);

// The name of the reading for INFO's `maxclients`; the probe fills it from CONFIG GET when
// the server's INFO lacks the field (before Redis 7).
inline constexpr std::string_view kRedisMaxClientsMetric = "redis_config_maxclients";
inline constexpr std::string_view kRedisMaxClientsHelp =
    "The server's maxclients setting: the most clients it accepts at once.";

}  // namespace covet::probes
