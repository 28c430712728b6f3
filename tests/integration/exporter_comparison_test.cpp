// The Redis probe's metrics against what prometheus-redis-exporter reports for the same
// server at the same moment, and /metrics with every dependency probe configured at once
// (PostgreSQL, Redis, the example app: examples/app/server.js on Node.js) passing
// `promtool check metrics`.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <thread>

#include "tests/integration/external_process.h"
#include "tests/integration/postgres_server.h"
#include "tests/integration/prometheus_text.h"
#include "tests/integration/redis_server.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/waiting.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using LabelSet = std::map<std::string, std::string>;

// Every series of `name`, keyed by its labels without `drop` (the target's own label).
std::map<LabelSet, double> series(const std::vector<Sample>& samples, const std::string& name,
                                  const std::string& drop) {
  std::map<LabelSet, double> out;
  for (const Sample& sample : samples) {
    if (sample.name != name) continue;
    LabelSet labels = sample.labels;
    labels.erase(drop);
    out[labels] = sample.value;
  }
  return out;
}

// How far ours may be from redis_exporter's. Ours is up to stats_interval old and the
// exporter's own connection and commands count on its side.
double tolerance(const std::string& name, double theirs) {
  if (name == "redis_uptime_in_seconds") return 2;
  if (name == "redis_connected_clients") return 2;
  if (name == "redis_commands_processed_total") return std::max(60.0, 0.1 * theirs);
  if (name == "redis_memory_used_bytes") return 0.2 * theirs;
  if (name == "redis_mem_fragmentation_ratio") return 0.5 * theirs;
  return 1e-9;  // configuration, key counts, hits and misses, up, role
}

TEST(ExporterComparisonIT, RedisSeriesMatchRedisExporterForTheSameServer) {
  RedisServer redis;
  ASSERT_EQ(redis.start(), "");
  // Keys in two databases, a hit and a miss, so those series have something to agree on.
  ASSERT_EQ(redis.command({"SET", "a", "1"}), "OK");
  ASSERT_EQ(redis.command({"GET", "a"}), "1");
  ASSERT_EQ(redis.command({"GET", "missing"}), "(nil)");
  ASSERT_EQ(redis.command({"SELECT", "3"}), "OK");

  SidecarProcess sidecar(fmt::format(R"(
listen: 127.0.0.1:{{PORT}}
log: {{ format: json, level: info }}
probes:
  - name: cache
    type: redis
    address: {}
    interval: 500ms
    timeout: 500ms
    stats_interval: 1s
)",
                                     redis.address()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  ASSERT_TRUE(sidecar.wait_for_status("/health/ready", 200, 15s)) << sidecar.logs();
  HttpClient client;
  ASSERT_TRUE(eventually(
      [&] {
        return client.get(sidecar.url("/metrics")).body.find("redis_uptime_in_seconds") !=
               std::string::npos;
      },
      10s));

  const std::uint16_t exporter_port = free_port();
  ExternalProcess exporter(
      {"/usr/bin/prometheus-redis-exporter", "--redis.addr=redis://" + redis.address(),
       fmt::format("--web.listen-address=127.0.0.1:{}", exporter_port)},
      {});
  ASSERT_TRUE(exporter.start()) << "prometheus-redis-exporter (scripts/install-deps.sh): "
                                << exporter.logs();
  ASSERT_TRUE(exporter.wait_listening(exporter_port, 10s)) << exporter.logs();

  std::this_thread::sleep_for(1200ms);
  const std::vector<Sample> ours = parse_samples(client.get(sidecar.url("/metrics")).body);
  HttpClient exporter_client;
  const HttpResult theirs_page =
      exporter_client.get(fmt::format("http://127.0.0.1:{}/metrics", exporter_port));
  ASSERT_EQ(theirs_page.status, 200) << exporter.logs();
  const std::vector<Sample> theirs = parse_samples(theirs_page.body);

  std::size_t compared = 0;
  for (const std::string name :
       {"redis_up", "redis_uptime_in_seconds", "redis_connected_clients", "redis_blocked_clients",
        "redis_config_maxclients", "redis_rejected_connections_total", "redis_memory_used_bytes",
        "redis_memory_max_bytes", "redis_mem_fragmentation_ratio", "redis_commands_processed_total",
        "redis_keyspace_hits_total", "redis_keyspace_misses_total", "redis_evicted_keys_total",
        "redis_connected_slaves"}) {
    const auto mine = series(ours, name, "probe");
    const auto other = series(theirs, name, "");
    ASSERT_EQ(mine.size(), 1u) << name << " in our /metrics";
    ASSERT_EQ(other.size(), 1u) << name << " in redis_exporter's";
    EXPECT_EQ(mine.begin()->first, other.begin()->first) << name << ": label sets differ";
    const double value = other.begin()->second;
    EXPECT_NEAR(mine.begin()->second, value, tolerance(name, value)) << name;
    ++compared;
  }

  // Key counts: every database we report, with the same count; redis_exporter also lists
  // the empty ones (db0..db15), which INFO keyspace leaves out.
  const auto our_keys = series(ours, "redis_db_keys", "probe");
  const auto their_keys = series(theirs, "redis_db_keys", "");
  EXPECT_EQ(our_keys.count({{"db", "db0"}}), 1u);
  for (const auto& [labels, value] : their_keys) {
    auto it = our_keys.find(labels);
    if (value == 0 && it == our_keys.end()) continue;
    ASSERT_NE(it, our_keys.end()) << "redis_db_keys{db=" << labels.at("db") << "}";
    EXPECT_EQ(it->second, value) << labels.at("db");
    ++compared;
  }

  // Info: our labels are a subset of theirs, with the same values.
  const auto our_info = series(ours, "redis_instance_info", "probe");
  const auto their_info = series(theirs, "redis_instance_info", "");
  ASSERT_EQ(our_info.size(), 1u);
  ASSERT_EQ(their_info.size(), 1u);
  for (const auto& [key, value] : our_info.begin()->first) {
    ASSERT_EQ(their_info.begin()->first.count(key), 1u) << key;
    EXPECT_EQ(their_info.begin()->first.at(key), value) << key;
  }
  EXPECT_EQ(our_info.begin()->second, 1.0);
  ++compared;
  std::cout << "[ compared ] " << compared << " series against prometheus-redis-exporter\n";
}

TEST(ExporterComparisonIT, MetricsWithEveryDependencyProbePassPromtool) {
  // The example app needs its npm packages; scripts/test.sh installs them. A missing
  // install is a failure, not a skip: a skip would hide that this test never ran.
  const std::string app_dir = std::string(COVET_SOURCE_DIR) + "/examples/app";
  ASSERT_TRUE(std::filesystem::exists(app_dir + "/node_modules/prom-client/package.json"))
      << "the example app's npm packages are not installed: run `npm ci --prefix " << app_dir
      << "` (scripts/test.sh does)";
  PostgresServer postgres;
  ASSERT_EQ(postgres.start(), "");
  RedisServer redis;
  ASSERT_EQ(redis.start(), "");
  const std::uint16_t app_port = free_port();
  // Untraced: these tests are about metrics, and no collector listens on the SDK's default.
  ExternalProcess app({"/usr/bin/node", app_dir + "/server.js", "--no-tracing"},
                      {fmt::format("APP_PORT={}", app_port)});
  ASSERT_TRUE(app.start()) << app.logs();
  ASSERT_TRUE(app.wait_listening(app_port, 10s)) << app.logs();

  SidecarProcess sidecar(fmt::format(R"(
listen: 127.0.0.1:{{PORT}}
log: {{ format: json, level: info }}
probes:
  - name: db
    type: postgres
    dsn: "{}"
    password_file: {{DIR}}/pg_password
    interval: 500ms
    timeout: 500ms
    stats_interval: 1s
  - name: cache
    type: redis
    address: {}
    interval: 500ms
    timeout: 500ms
    stats_interval: 1s
  - name: app
    type: http
    url: http://127.0.0.1:{}/health/live
    interval: 500ms
    timeout: 500ms
    roles: [liveness, readiness, startup]
  - {{ name: data, type: disk, path: /tmp }}
  - {{ name: memory, type: memory }}
)",
                                     postgres.probe_dsn(), redis.address(), app_port));
  std::ofstream(sidecar.dir() + "/pg_password") << PostgresServer::kPassword << "\n";
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  ASSERT_TRUE(sidecar.wait_for_status("/health/ready", 200, 15s)) << sidecar.logs();
  HttpClient client;
  std::string metrics;
  ASSERT_TRUE(eventually(
      [&] {
        metrics = client.get(sidecar.url("/metrics")).body;
        return metrics.find("pg_stat_database_xact_commit") != std::string::npos &&
               metrics.find("redis_commands_processed_total") != std::string::npos;
      },
      10s))
      << metrics;
  const std::vector<Sample> samples = parse_samples(metrics);
  for (const std::string probe : {"db", "cache", "app", "data", "memory"}) {
    EXPECT_EQ(sample_value(samples, "covet_sidecar_probe_up", {{"probe", probe}}), 1.0) << probe;
  }
  const std::string path = sidecar.dir() + "/metrics.txt";
  std::ofstream(path) << metrics;
  const CommandResult check = run_shell("promtool check metrics < " + path + " 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_EQ(check.out, "");

  // The app's own page (prom-client) counts the sidecar's liveness checks.
  const HttpResult app_page = client.get(fmt::format("http://127.0.0.1:{}/metrics", app_port));
  EXPECT_EQ(app_page.status, 200) << app.logs();
  EXPECT_NE(
      app_page.body.find(R"(http_requests_total{method="GET",route="/health/live",code="200"})"),
      std::string::npos)
      << app_page.body;
}

}  // namespace
}  // namespace covet::testing
