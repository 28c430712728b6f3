// The redis probe's keys: loading, the one-target rule, errors with line and column, and
// printing without secrets.

#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/printer.h"

namespace covet::config {
namespace {

using Lines = std::vector<std::string>;

EnvLookup no_env() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

Lines errors_of(std::string_view yaml) {
  const LoadResult result = load_config_text(yaml, no_env());
  EXPECT_FALSE(result.config.has_value()) << "config loaded despite errors";
  Lines lines;
  for (const ConfigError& error : result.errors) lines.push_back(error.to_string("config.yaml"));
  return lines;
}

RedisProbeConfig loaded_redis(std::string_view yaml) {
  const LoadResult result = load_config_text(yaml, no_env());
  for (const ConfigError& error : result.errors) ADD_FAILURE() << error.to_string("config.yaml");
  if (!result.config || result.config->probes.size() != 1) return {};
  EXPECT_EQ(result.config->probes[0].type, "redis");
  return std::get<RedisProbeConfig>(result.config->probes[0].settings);
}

TEST(RedisConfig, DefaultsWithOnlyAddress) {
  const RedisProbeConfig redis =
      loaded_redis("probes:\n  - { name: cache, type: redis, address: 127.0.0.1:6379 }\n");
  EXPECT_EQ(redis.address, "127.0.0.1:6379");
  EXPECT_EQ(redis.unix_socket, "");
  EXPECT_EQ(redis.username, "");
  EXPECT_EQ(redis.password_file, "");
  EXPECT_EQ(redis.db, 0);
  EXPECT_FALSE(redis.require_master);
  EXPECT_TRUE(redis.sentinels.empty());
  EXPECT_EQ(redis.master_name, "");
  EXPECT_EQ(redis.stats_interval, Duration{30000});
}

TEST(RedisConfig, EveryKey) {
  const RedisProbeConfig redis = loaded_redis(
      "probes:\n"
      "  - name: cache\n"
      "    type: redis\n"
      "    unix_socket: /run/redis/redis.sock\n"
      "    username: probe\n"
      "    password_file: /run/secrets/redis_password\n"
      "    db: 3\n"
      "    require_master: true\n"
      "    stats_interval: 0s\n");
  EXPECT_EQ(redis.unix_socket, "/run/redis/redis.sock");
  EXPECT_EQ(redis.username, "probe");
  EXPECT_EQ(redis.password_file, "/run/secrets/redis_password");
  EXPECT_EQ(redis.db, 3);
  EXPECT_TRUE(redis.require_master);
  EXPECT_EQ(redis.stats_interval, Duration{0});
  EXPECT_EQ(redis.reconnect_backoff, Duration{1000});
  EXPECT_EQ(redis.reconnect_backoff_max, Duration{30000});
}

TEST(RedisConfig, Sentinels) {
  const RedisProbeConfig redis = loaded_redis(
      "probes:\n"
      "  - name: cache\n"
      "    type: redis\n"
      "    sentinels: [10.0.0.1:26379, \"[::1]:26379\"]\n"
      "    master_name: mymaster\n");
  EXPECT_EQ(redis.sentinels, (std::vector<std::string>{"10.0.0.1:26379", "[::1]:26379"}));
  EXPECT_EQ(redis.master_name, "mymaster");
}

TEST(RedisConfig, ExactlyOneTarget) {
  EXPECT_EQ(errors_of("probes:\n"
                      "  - name: cache\n"
                      "    type: redis\n"),
            Lines{"config.yaml:3:11: probes[0]: missing the server: set one of \"address\" "
                  "(host:port, e.g. 127.0.0.1:6379), \"unix_socket\" or \"sentinels\" (with "
                  "\"master_name\")"});
  EXPECT_EQ(errors_of("probes:\n"
                      "  - name: cache\n"
                      "    type: redis\n"
                      "    address: 127.0.0.1:6379\n"
                      "    unix_socket: /run/redis.sock\n"),
            Lines{"config.yaml:5:18: probes[0]: set only one of \"address\", \"unix_socket\" and "
                  "\"sentinels\""});
}

TEST(RedisConfig, ErrorsHaveLineAndColumn) {
  EXPECT_EQ(errors_of("probes:\n"
                      "  - name: cache\n"
                      "    type: redis\n"
                      "    address: localhost\n"
                      "    password_file: secrets/pw\n"
                      "    db: -1\n"
                      "    stats_interval: 10\n"
                      "    requre_master: true\n"),
            (Lines{
                "config.yaml:4:14: probes[0].address: invalid address \"localhost\": expected "
                "host:port, e.g. 127.0.0.1:8000, [::1]:8000 or app:8000",
                "config.yaml:5:20: probes[0].password_file: expected an absolute path, got "
                "\"secrets/pw\"",
                "config.yaml:6:9: probes[0].db: must be between 0 and 2147483647, got \"-1\"",
                "config.yaml:7:21: probes[0].stats_interval: invalid duration \"10\": missing "
                "unit (ms, s, m, h), e.g. 10s or 10ms",
                "config.yaml:8:5: probes[0].requre_master: unknown key (did you mean "
                "\"require_master\"?)",
            }));
}

TEST(RedisConfig, SentinelRules) {
  EXPECT_EQ(errors_of("probes:\n"
                      "  - name: cache\n"
                      "    type: redis\n"
                      "    sentinels: []\n"
                      "    master_name: mymaster\n"),
            (Lines{"config.yaml:4:16: probes[0].sentinels: expected at least one sentinel "
                   "address (host:port)"}));
  EXPECT_EQ(errors_of("probes:\n"
                      "  - name: cache\n"
                      "    type: redis\n"
                      "    sentinels: [127.0.0.1:26379, nope]\n"),
            (Lines{
                "config.yaml:4:16: probes[0].sentinels: \"sentinels\" needs \"master_name\" (the "
                "master's name in the sentinels' configuration)",
                "config.yaml:4:34: probes[0].sentinels[1]: invalid address \"nope\": expected "
                "host:port, e.g. 127.0.0.1:8000, [::1]:8000 or app:8000",
            }));
  EXPECT_EQ(errors_of("probes:\n"
                      "  - name: cache\n"
                      "    type: redis\n"
                      "    address: 127.0.0.1:6379\n"
                      "    master_name: mymaster\n"
                      "    username: probe\n"),
            (Lines{
                "config.yaml:5:18: probes[0].master_name: \"master_name\" is only used with "
                "\"sentinels\"",
                "config.yaml:6:15: probes[0].username: \"username\" needs \"password_file\" (AUTH "
                "takes a user and a password)",
            }));
}

TEST(RedisConfig, PrintedWithoutSecretsAndLoadsBack) {
  const std::string yaml =
      "probes:\n"
      "  - name: cache\n"
      "    type: redis\n"
      "    sentinels: [127.0.0.1:26379, \"[::1]:26380\"]\n"
      "    master_name: mymaster\n"
      "    username: probe\n"
      "    password_file: /run/secrets/redis_password\n"
      "    db: 2\n"
      "    stats_interval: 1m\n";
  const LoadResult loaded = load_config_text(yaml, no_env());
  ASSERT_TRUE(loaded.config.has_value());
  const std::string printed = print_effective_config(*loaded.config);
  EXPECT_NE(printed.find("    sentinels: [127.0.0.1:26379, \"[::1]:26380\"]\n"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("    password_file: /run/secrets/redis_password\n"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("    stats_interval: 1m\n"), std::string::npos) << printed;
  EXPECT_EQ(printed.find("address:"), std::string::npos) << printed;
  const LoadResult reloaded = load_config_text(printed, no_env());
  ASSERT_TRUE(reloaded.config.has_value()) << printed;
  EXPECT_EQ(*reloaded.config, *loaded.config);

  const LoadResult plain = load_config_text(
      "probes: [{ name: c, type: redis, address: \"[::1]:6379\", require_master: true }]\n",
      no_env());
  ASSERT_TRUE(plain.config.has_value());
  const LoadResult plain_again = load_config_text(print_effective_config(*plain.config), no_env());
  ASSERT_TRUE(plain_again.config.has_value());
  EXPECT_EQ(*plain_again.config, *plain.config);
}

}  // namespace
}  // namespace covet::config
