// The postgres probe's keys: loading, errors with line and column, printing redacted.

#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/printer.h"

namespace covet::config {
namespace {

EnvLookup no_env() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

std::vector<std::string> errors_of(std::string_view yaml) {
  const LoadResult result = load_config_text(yaml, no_env());
  EXPECT_FALSE(result.config.has_value()) << "config loaded despite errors";
  std::vector<std::string> lines;
  for (const ConfigError& error : result.errors) lines.push_back(error.to_string("config.yaml"));
  return lines;
}

PostgresProbeConfig loaded_postgres(std::string_view yaml) {
  const LoadResult result = load_config_text(yaml, no_env());
  for (const ConfigError& error : result.errors) ADD_FAILURE() << error.to_string("config.yaml");
  if (!result.config || result.config->probes.size() != 1) return {};
  EXPECT_EQ(result.config->probes[0].type, "postgres");
  return std::get<PostgresProbeConfig>(result.config->probes[0].settings);
}

TEST(PostgresConfig, DefaultsWithOnlyDsn) {
  const PostgresProbeConfig postgres = loaded_postgres(
      "probes:\n  - { name: db, type: postgres, dsn: \"postgresql://app@127.0.0.1/app\" }\n");
  EXPECT_EQ(postgres.dsn, "postgresql://app@127.0.0.1/app");
  EXPECT_EQ(postgres.password_file, "");
  EXPECT_EQ(postgres.query, "SELECT 1");
  EXPECT_FALSE(postgres.require_primary);
  EXPECT_EQ(postgres.stats_interval, Duration{30000});
}

TEST(PostgresConfig, ReconnectBackoffIsReadAndOrdered) {
  const PostgresProbeConfig defaults =
      loaded_postgres("probes:\n  - { name: db, type: postgres, dsn: \"dbname=a\" }\n");
  EXPECT_EQ(defaults.reconnect_backoff, Duration{1000});
  EXPECT_EQ(defaults.reconnect_backoff_max, Duration{30000});
  const PostgresProbeConfig set = loaded_postgres(
      "probes:\n  - { name: db, type: postgres, dsn: \"dbname=a\", reconnect_backoff: 200ms, "
      "reconnect_backoff_max: 5s }\n");
  EXPECT_EQ(set.reconnect_backoff, Duration{200});
  EXPECT_EQ(set.reconnect_backoff_max, Duration{5000});
  EXPECT_EQ(errors_of("probes:\n  - { name: db, type: postgres, dsn: \"dbname=a\", "
                      "reconnect_backoff: 1m }\n"),
            std::vector<std::string>{"config.yaml:2:69: probes[0].reconnect_backoff: must not "
                                     "exceed probes[0].reconnect_backoff_max (30s by default)"});
}

TEST(PostgresConfig, StatsIntervalIsOffOrAtLeastASecond) {
  EXPECT_EQ(loaded_postgres("probes:\n  - { name: db, type: postgres, dsn: \"dbname=a\", "
                            "stats_interval: 0s }\n")
                .stats_interval,
            Duration{0});
  EXPECT_EQ(loaded_postgres("probes:\n  - { name: db, type: postgres, dsn: \"dbname=a\", "
                            "stats_interval: 2m }\n")
                .stats_interval,
            Duration{120000});
  EXPECT_EQ(errors_of("probes:\n  - { name: db, type: postgres, dsn: \"dbname=a\", "
                      "stats_interval: 200ms }\n"),
            std::vector<std::string>{"config.yaml:2:66: probes[0].stats_interval: must be 0s (off) "
                                     "or at least 1s, got 200ms"});
}

TEST(PostgresConfig, EveryKey) {
  const PostgresProbeConfig postgres = loaded_postgres(
      "probes:\n"
      "  - name: db\n"
      "    type: postgres\n"
      "    dsn: host=127.0.0.1 port=5433 dbname=app user=app\n"
      "    password_file: /run/secrets/db_password\n"
      "    query: SELECT count(*) FROM pg_stat_activity\n"
      "    require_primary: true\n");
  EXPECT_EQ(postgres.dsn, "host=127.0.0.1 port=5433 dbname=app user=app");
  EXPECT_EQ(postgres.password_file, "/run/secrets/db_password");
  EXPECT_EQ(postgres.query, "SELECT count(*) FROM pg_stat_activity");
  EXPECT_TRUE(postgres.require_primary);
}

TEST(PostgresConfig, ErrorsHaveLineAndColumn) {
  EXPECT_EQ(errors_of("probes:\n"
                      "  - name: db\n"
                      "    type: postgres\n"
                      "    password_file: secrets/pw\n"
                      "    query: \"\"\n"
                      "    require_primary: maybe\n"
                      "    sslmode: require\n"),
            (std::vector<std::string>{
                "config.yaml:3:11: probes[0]: missing required key \"dsn\" (a libpq URI such as "
                "postgresql://app@127.0.0.1:5432/app, or host=... dbname=...)",
                "config.yaml:4:20: probes[0].password_file: expected an absolute path, got "
                "\"secrets/pw\"",
                "config.yaml:5:12: probes[0].query: expected a non-empty string",
                "config.yaml:6:22: probes[0].require_primary: expected true or false, got "
                "\"maybe\"",
                "config.yaml:7:5: probes[0].sslmode: unknown key",
            }));
}

TEST(PostgresConfig, PrinterRemovesThePasswordAndReloads) {
  const LoadResult result = load_config_text(
      "probes:\n"
      "  - name: db\n"
      "    type: postgres\n"
      "    dsn: postgresql://app:hunter2@127.0.0.1:5432/app?sslmode=disable\n"
      "    require_primary: true\n",
      no_env());
  ASSERT_TRUE(result.config.has_value());
  const std::string printed = print_effective_config(*result.config);
  EXPECT_EQ(printed.find("hunter2"), std::string::npos) << printed;
  EXPECT_NE(printed.find("    dsn: \"postgresql://app@127.0.0.1:5432/app?sslmode=disable\"\n"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("    query: \"SELECT 1\"\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("    require_primary: true\n"), std::string::npos) << printed;

  const LoadResult reloaded = load_config_text(printed, no_env());
  ASSERT_TRUE(reloaded.config.has_value()) << printed;
  const auto& postgres = std::get<PostgresProbeConfig>(reloaded.config->probes.at(0).settings);
  EXPECT_EQ(postgres.dsn, "postgresql://app@127.0.0.1:5432/app?sslmode=disable");
  EXPECT_TRUE(postgres.require_primary);
}

}  // namespace
}  // namespace covet::config
