// The PostgreSQL probe's database metrics against a real PostgreSQL 15: the same series
// prometheus-postgres-exporter reports for the same server, collected on their own interval
// whatever the scrape rate, from a role with pg_monitor (or with less, degrading one group),
// and the replica row of the fault table with a standby made by pg_basebackup.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <thread>

#include "tests/integration/external_process.h"
#include "tests/integration/postgres_server.h"
#include "tests/integration/prometheus_text.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/waiting.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// One postgres probe's YAML list item.
struct DbProbe {
  std::string name = "db";
  std::string dsn{};
  std::string extra{};  // more keys, each "    key: value\n"
};

std::string config_for(const std::vector<DbProbe>& probes) {
  std::string yaml = R"(
listen: 127.0.0.1:{PORT}
log: { format: json, level: info }
shutdown: { drain_delay: 100ms, grace_period: 5s }
probes:
)";
  for (const DbProbe& probe : probes) {
    yaml += fmt::format(R"(  - name: {}
    type: postgres
    dsn: "{}"
    password_file: {{DIR}}/pg_password
    interval: 500ms
    timeout: 500ms
    failure_threshold: 1
{})",
                        probe.name, probe.dsn, probe.extra);
  }
  return yaml;
}

// Committed transactions in database `postgres`, as the server counts them. Each call is
// itself one psql session, the same in every window compared.
double xact_commit(const PostgresServer& server) {
  return std::stod(
      server.psql("SELECT pg_stat_force_next_flush(); "
                  "SELECT xact_commit FROM pg_stat_database WHERE datname = 'postgres'"));
}

class PostgresMetricsIT : public ::testing::Test {
 protected:
  void start_postgres(PostgresServer::Options options = {}) {
    primary_ = std::make_unique<PostgresServer>(options);
    ASSERT_EQ(primary_->start(), "") << "cannot start PostgreSQL for the test";
  }

  void start_sidecar(const std::vector<DbProbe>& probes) {
    sidecar_ = std::make_unique<SidecarProcess>(config_for(probes));
    std::ofstream(sidecar_->dir() + "/pg_password") << PostgresServer::kPassword << "\n";
    ASSERT_TRUE(sidecar_->start()) << sidecar_->logs();
  }

  std::string get(const std::string& path) { return client_.get(sidecar_->url(path)).body; }

  std::unique_ptr<PostgresServer> primary_;
  std::unique_ptr<SidecarProcess> sidecar_;
  HttpClient client_;
};

// How far our value may be from postgres_exporter's for the same series. Ours is up to
// stats_interval old and the exporter's own session is busy when it reads, so live counts
// and cumulative counters may differ by a little; configuration and sizes must agree.
double tolerance(const std::string& name, double theirs) {
  if (name == "pg_stat_database_numbackends" || name == "pg_stat_activity_count") return 2;
  if (name == "pg_stat_activity_max_tx_duration") return 2;
  if (name == "pg_database_size_bytes") return 0.02 * theirs;
  if (name == "pg_postmaster_start_time_seconds") return 1;  // theirs is whole seconds
  if (name.starts_with("pg_stat_database_")) return std::max(300.0, 0.2 * theirs);
  return 1e-3;  // pg_up, max_connections, start time, replication lag on a primary
}

// The database postgres_exporter connects to in the comparison below.
constexpr const char* kExporterDatabase = "exporter_session";

// A statistic of the exporter's own database: its sessions and the blocks and transactions of
// its own reads, which run one scrape ahead of the state we last read.
bool counts_exporter_activity(const std::string& name,
                              const std::map<std::string, std::string>& labels) {
  if (!name.starts_with("pg_stat_database_") && name != "pg_stat_activity_count") return false;
  const auto datname = labels.find("datname");
  return datname != labels.end() && datname->second == kExporterDatabase;
}

TEST_F(PostgresMetricsIT, SeriesMatchPostgresExporterForTheSameServer) {
  ASSERT_NO_FATAL_FAILURE(start_postgres());
  // A monitoring role as a DBA would make it: no superuser, pg_monitor.
  int rc = 0;
  primary_->psql(fmt::format("GRANT pg_monitor TO {}", PostgresServer::kUser), &rc);
  ASSERT_EQ(rc, 0);
  // The exporter connects to a database of its own. It opens one to three sessions and reads
  // blocks there during each scrape, which we cannot see at the moment it reads; kept apart,
  // they cannot blur the statistics of database `postgres`, which are compared.
  primary_->psql(fmt::format("CREATE DATABASE {}", kExporterDatabase), &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_NO_FATAL_FAILURE(
      start_sidecar({{.dsn = primary_->probe_dsn(), .extra = "    stats_interval: 1s\n"}}));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 15s)) << sidecar_->logs();

  // postgres_exporter 0.11 reads replication lag and start time only through custom
  // queries; these two are its documented examples, named as it names them.
  const std::string queries_path = sidecar_->dir() + "/queries.yaml";
  std::ofstream(queries_path) << R"yaml(pg_replication:
  query: "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 ELSE GREATEST(0, EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))) END AS lag"
  master: true
  metrics:
    - lag:
        usage: "GAUGE"
        description: "Replication lag behind master in seconds"
pg_postmaster:
  query: "SELECT pg_postmaster_start_time as start_time_seconds from pg_postmaster_start_time()"
  master: true
  metrics:
    - start_time_seconds:
        usage: "GAUGE"
        description: "Time at which postmaster started"
)yaml";
  const std::uint16_t exporter_port = free_port();
  ExternalProcess exporter(
      {"/usr/bin/prometheus-postgres-exporter",
       fmt::format("--web.listen-address=127.0.0.1:{}", exporter_port),
       "--extend.query-path=" + queries_path},
      {fmt::format("DATA_SOURCE_NAME=postgresql://{}:{}@127.0.0.1:{}/{}?sslmode=disable",
                   PostgresServer::kUser, PostgresServer::kPassword, primary_->port(),
                   kExporterDatabase)});
  ASSERT_TRUE(exporter.start()) << "prometheus-postgres-exporter (scripts/install-deps.sh): "
                                << exporter.logs();
  ASSERT_TRUE(exporter.wait_listening(exporter_port, 10s)) << exporter.logs();

  // The exporter connects on its first scrape, which loads the catalog into its database
  // (blocks read, the relation cache file written); that first scrape is not compared.
  HttpClient exporter_client;
  ASSERT_EQ(exporter_client.get(fmt::format("http://127.0.0.1:{}/metrics", exporter_port)).status,
            200)
      << exporter.logs();
  // The same moment, as near as two HTTP requests get: ours (up to 1 s old), then theirs.
  std::this_thread::sleep_for(1500ms);
  const std::string ours_text = get("/metrics");
  const HttpResult theirs_result =
      exporter_client.get(fmt::format("http://127.0.0.1:{}/metrics", exporter_port));
  ASSERT_EQ(theirs_result.status, 200) << exporter.logs();
  const std::vector<Sample> ours = parse_samples(ours_text);
  const std::vector<Sample> theirs = parse_samples(theirs_result.body);

  // Our names, and what postgres_exporter 0.11 calls the same series (newer releases call
  // the lag pg_replication_lag_seconds, as we do).
  const std::vector<std::pair<std::string, std::string>> names = {
      {"pg_up", "pg_up"},
      {"pg_stat_database_numbackends", "pg_stat_database_numbackends"},
      {"pg_stat_database_xact_commit", "pg_stat_database_xact_commit"},
      {"pg_stat_database_xact_rollback", "pg_stat_database_xact_rollback"},
      {"pg_stat_database_blks_hit", "pg_stat_database_blks_hit"},
      {"pg_stat_database_blks_read", "pg_stat_database_blks_read"},
      {"pg_stat_database_deadlocks", "pg_stat_database_deadlocks"},
      {"pg_stat_database_temp_bytes", "pg_stat_database_temp_bytes"},
      {"pg_stat_activity_count", "pg_stat_activity_count"},
      {"pg_stat_activity_max_tx_duration", "pg_stat_activity_max_tx_duration"},
      {"pg_settings_max_connections", "pg_settings_max_connections"},
      {"pg_database_size_bytes", "pg_database_size_bytes"},
      {"pg_replication_lag_seconds", "pg_replication_lag"},
      {"pg_postmaster_start_time_seconds", "pg_postmaster_start_time_seconds"},
  };
  std::size_t compared = 0;
  for (const auto& [our_name, their_name] : names) {
    // Label sets without the target's label: `probe` on ours, `server` on theirs.
    std::map<std::map<std::string, std::string>, double> our_series, their_series;
    for (const Sample& s : ours) {
      if (s.name != our_name) continue;
      auto labels = s.labels;
      EXPECT_EQ(labels.erase("probe"), 1u) << our_name;
      our_series[labels] = s.value;
    }
    for (const Sample& s : theirs) {
      if (s.name != their_name) continue;
      auto labels = s.labels;
      labels.erase("server");
      their_series[labels] = s.value;
    }
    EXPECT_FALSE(our_series.empty()) << our_name << " missing from our /metrics";
    EXPECT_FALSE(their_series.empty()) << their_name << " missing from postgres_exporter's";
    for (const auto& [labels, value] : their_series) {
      std::string shown;
      for (const auto& [k, v] : labels) shown += k + "=\"" + v + "\" ";
      auto it = our_series.find(labels);
      if (it == our_series.end()) {
        ADD_FAILURE() << our_name << "{" << shown << "} is in postgres_exporter's output only";
        continue;
      }
      if (counts_exporter_activity(our_name, labels)) continue;  // present is all we can ask
      EXPECT_NEAR(it->second, value, tolerance(our_name, value)) << our_name << "{" << shown << "}";
      ++compared;
    }
    for (const auto& [labels, value] : our_series) {
      EXPECT_TRUE(their_series.count(labels) == 1) << our_name << " has a series the exporter "
                                                   << "does not (" << labels.size() << " labels)";
    }
  }
  std::cout << "[ compared ] " << compared << " series against prometheus-postgres-exporter\n";
  EXPECT_GT(compared, 40u);

  const std::string path = sidecar_->dir() + "/metrics.txt";
  std::ofstream(path) << ours_text;
  const CommandResult check = run_shell("promtool check metrics < " + path + " 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_FALSE(contains(ours_text, PostgresServer::kPassword));
  EXPECT_FALSE(contains(sidecar_->logs(), PostgresServer::kPassword));
}

TEST_F(PostgresMetricsIT, ScrapesDoNotQueryTheDatabase) {
  ASSERT_NO_FATAL_FAILURE(start_postgres());
  ASSERT_NO_FATAL_FAILURE(
      start_sidecar({{.dsn = primary_->probe_dsn(), .extra = "    stats_interval: 2s\n"}}));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 15s)) << sidecar_->logs();
  ASSERT_TRUE(
      eventually([&] { return contains(get("/metrics"), "pg_stat_database_xact_commit"); }, 10s));

  // Two windows of the same length, one without scrapes and one with up to 200 of them,
  // both ending on the clock (a loaded machine scrapes fewer, never for longer). Every
  // transaction the probe runs is a check or a metrics read, driven by time alone.
  constexpr auto kWindow = 10s;
  const double before_quiet = xact_commit(*primary_);
  std::this_thread::sleep_for(kWindow);
  const double before_scrapes = xact_commit(*primary_);
  const auto window_end = Clock::now() + kWindow;
  int scraped = 0;
  while (Clock::now() < window_end) {
    if (scraped < 200 && contains(get("/metrics"), "pg_stat_database_xact_commit")) ++scraped;
    std::this_thread::sleep_until(std::min(window_end, Clock::now() + 45ms));
  }
  const double after_scrapes = xact_commit(*primary_);
  const double quiet = before_scrapes - before_quiet;
  const double scraping = after_scrapes - before_scrapes;
  std::cout << "[ queries ] xact_commit delta: " << quiet << " in 10 s without scrapes, "
            << scraping << " in 10 s with " << scraped << " scrapes\n";
  EXPECT_GE(scraped, 150);
  EXPECT_GT(quiet, 0) << "the probe's own checks should show up";
  // Scrapes that reached the database would add one transaction or more each: 150 and up.
  // What remains is when checks and metrics reads fall in a window and when the server
  // flushes its statistics (typically a few transactions, more on a loaded machine).
  EXPECT_LE(scraping, quiet + 20) << "scrapes reached the database";
}

TEST_F(PostgresMetricsIT, MissingPrivilegeDegradesOneGroupNotTheProbe) {
  ASSERT_NO_FATAL_FAILURE(start_postgres());
  int rc = 0;
  primary_->psql("REVOKE SELECT ON pg_catalog.pg_stat_database FROM PUBLIC", &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_NO_FATAL_FAILURE(start_sidecar({{.dsn = primary_->probe_dsn()}}));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 15s)) << sidecar_->logs();
  ASSERT_TRUE(
      eventually([&] { return contains(get("/metrics"), "pg_settings_max_connections"); }, 10s));
  const std::string metrics = get("/metrics");
  EXPECT_FALSE(contains(metrics, "pg_stat_database_xact_commit{")) << metrics;
  EXPECT_TRUE(contains(metrics, "pg_stat_activity_count{")) << metrics;
  EXPECT_TRUE(contains(metrics, "pg_database_size_bytes{")) << metrics;
  EXPECT_TRUE(contains(metrics, "pg_up{probe=\"db\"} 1")) << metrics;
  EXPECT_TRUE(eventually(
      [&] {
        const std::string logs = sidecar_->logs();
        return contains(logs, "probe metrics degraded") &&
               contains(logs, "pg_stat_database: permission denied");
      },
      5s))
      << sidecar_->logs();
}

TEST_F(PostgresMetricsIT, StandbyFromBasebackupIsInRecovery) {
  ASSERT_NO_FATAL_FAILURE(start_postgres({.allow_replication = true}));
  PostgresServer standby({.allow_replication = true, .replica_of = primary_.get()});
  ASSERT_EQ(standby.start(), "") << "cannot start the standby";
  ASSERT_EQ(standby.psql("SELECT pg_is_in_recovery()"), "t");

  // Something to replay, so the standby has a replay timestamp and a lag.
  primary_->psql("CREATE TABLE replicated (id int); INSERT INTO replicated VALUES (1)");
  ASSERT_TRUE(
      eventually([&] { return standby.psql("SELECT count(*) FROM replicated") == "1"; }, 15s));

  const auto started = Clock::now();
  ASSERT_NO_FATAL_FAILURE(start_sidecar({
      {.name = "db", .dsn = standby.probe_dsn(), .extra = "    require_primary: true\n"},
      {.name = "replica", .dsn = standby.probe_dsn(), .extra = "    roles: []\n"},
  }));
  ASSERT_TRUE(
      eventually([&] { return contains(get("/health/ready?verbose"), "require_primary"); }, 15s))
      << get("/health/ready?verbose");
  std::cout << "[ reaction ] standby reported in_recovery after "
            << std::chrono::duration<double>(Clock::now() - started).count() << " s\n";
  EXPECT_EQ(client_.get(sidecar_->url("/health/ready")).status, 503);
  EXPECT_EQ(client_.get(sidecar_->url("/health/live")).status, 200);
  const std::string verbose = client_.get(sidecar_->url("/health/ready?verbose")).body;
  EXPECT_TRUE(contains(verbose, "[-]db failed")) << verbose;
  EXPECT_TRUE(contains(verbose, "require_primary")) << verbose;

  ASSERT_TRUE(eventually(
      [&] {
        return sample_value(parse_samples(get("/metrics")), "pg_replication_lag_seconds",
                            {{"probe", "replica"}})
            .has_value();
      },
      10s));
  const std::vector<Sample> samples = parse_samples(get("/metrics"));
  EXPECT_EQ(sample_value(samples, "pg_replication_is_replica", {{"probe", "db"}}), 1.0);
  EXPECT_EQ(sample_value(samples, "pg_replication_is_replica", {{"probe", "replica"}}), 1.0);
  EXPECT_GE(sample_value(samples, "pg_replication_lag_seconds", {{"probe", "replica"}}).value(),
            0.0);
  EXPECT_EQ(sample_value(samples, "covet_sidecar_probe_up", {{"probe", "replica"}}), 1.0);
  EXPECT_EQ(sample_value(samples, "covet_sidecar_probe_up", {{"probe", "db"}}), 0.0);
}

}  // namespace
}  // namespace covet::testing
