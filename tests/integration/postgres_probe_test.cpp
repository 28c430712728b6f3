// The PostgreSQL probe in the real binary against a real PostgreSQL 15 started by the test:
// the PostgreSQL rows of issue 3's fault table. Reaction times are printed, not asserted
// tightly (CI machines vary); the bounds below only catch a probe that never reacts.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>

#include "tests/integration/postgres_server.h"
#include "tests/integration/prometheus_text.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/test_certificates.h"
#include "tests/integration/waiting.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct ProbeOptions {
  std::string dsn{};
  std::string extra{};  // more probe keys, each "    key: value\n"
  std::string interval = "300ms";
  std::string timeout = "300ms";
};

std::string config_for(const ProbeOptions& probe) {
  return fmt::format(R"(
listen: 127.0.0.1:{{PORT}}
log: {{ format: json, level: debug }}
shutdown: {{ drain_delay: 100ms, grace_period: 5s }}
probes:
  - name: db
    type: postgres
    dsn: "{}"
    password_file: {{DIR}}/pg_password
    interval: {}
    timeout: {}
    failure_threshold: 2
    success_threshold: 1
{})",
                     probe.dsn, probe.interval, probe.timeout, probe.extra);
}

std::string failures_metric(const std::string& reason) {
  return "covet_sidecar_probe_failures_total{probe=\"db\",reason=\"" + reason + "\"}";
}

class PostgresProbeIT : public ::testing::Test {
 protected:
  // Starts PostgreSQL; a missing postgres user or runuser is a failure, not a skip: CI
  // installs both (scripts/install-deps.sh).
  void start_postgres(PostgresServer::Options options = {}) {
    server_ = std::make_unique<PostgresServer>(options);
    const std::string error = server_->start();
    ASSERT_EQ(error, "") << "cannot start PostgreSQL for the test";
  }

  void start_sidecar(const ProbeOptions& probe, const std::string& password) {
    sidecar_ = std::make_unique<SidecarProcess>(config_for(probe));
    write_file(sidecar_->dir() + "/pg_password", password + "\n");
    ASSERT_TRUE(sidecar_->start())
        << "exit " << sidecar_->wait_exit(0ms).value_or(-1) << ": " << sidecar_->logs();
    started_ = Clock::now();
  }

  std::string get(const std::string& path) { return client_.get(sidecar_->url(path)).body; }
  long status(const std::string& path) { return client_.get(sidecar_->url(path)).status; }

  // SIGTERM in the middle of whatever the probe is doing: a clean exit (under ASan, also
  // no leak report), whatever is in flight.
  void expect_clean_shutdown() {
    sidecar_->signal(SIGTERM);
    EXPECT_EQ(sidecar_->wait_exit(10s), std::optional<int>(0)) << sidecar_->logs();
    EXPECT_FALSE(contains(sidecar_->logs(), "Sanitizer")) << sidecar_->logs();
  }

  std::unique_ptr<PostgresServer> server_;
  std::unique_ptr<SidecarProcess> sidecar_;
  HttpClient client_;
  Clock::time_point started_;
};

TEST_F(PostgresProbeIT, PassingServerIsReadyOnOnePersistentConnection) {
  ASSERT_NO_FATAL_FAILURE(start_postgres());
  ASSERT_NO_FATAL_FAILURE(start_sidecar({.dsn = server_->probe_dsn()}, PostgresServer::kPassword));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s)) << sidecar_->logs();
  std::cout << "[ reaction ] ready after " << seconds_since(started_) << " s\n";

  EXPECT_EQ(get("/health/ready?verbose"), "[+]db ok\nready check passed\n");
  const std::string health = get("/health");
  EXPECT_TRUE(contains(health, "\"db\":{\"type\":\"postgres\",\"status\":\"passing\"")) << health;
  EXPECT_TRUE(contains(health, "\"server_version\":\"15.")) << health;
  EXPECT_TRUE(
      contains(health, "\"server\":\"127.0.0.1:" + std::to_string(server_->port()) + "/postgres\""))
      << health;
  const std::string metrics = get("/metrics");
  EXPECT_TRUE(contains(metrics, "pg_up{probe=\"db\"} 1\n")) << metrics;
  EXPECT_TRUE(contains(metrics, "pg_replication_is_replica{probe=\"db\"} 0\n")) << metrics;

  // Reused across checks: the same single backend serves several intervals.
  const std::string query =
      "SELECT string_agg(pid::text, ',') FROM pg_stat_activity "
      "WHERE application_name = 'covet-sidecar'";
  const std::string before = server_->psql(query);
  std::this_thread::sleep_for(1200ms);  // four intervals
  const std::string after = server_->psql(query);
  EXPECT_FALSE(before.empty());
  EXPECT_EQ(before.find(','), std::string::npos) << "more than one connection: " << before;
  EXPECT_EQ(before, after);
  expect_clean_shutdown();
}

TEST_F(PostgresProbeIT, StoppedServerIsRefusedAndRestartedServerRecovers) {
  ASSERT_NO_FATAL_FAILURE(start_postgres());
  ASSERT_NO_FATAL_FAILURE(start_sidecar({.dsn = server_->probe_dsn()}, PostgresServer::kPassword));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s)) << sidecar_->logs();

  ASSERT_EQ(server_->stop_immediate(), "");
  const auto stopped = Clock::now();
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 503, 10s)) << sidecar_->logs();
  std::cout << "[ reaction ] ready 503 " << seconds_since(stopped) << " s after the stop\n";
  EXPECT_EQ(status("/health/live"), 200);
  const std::string verbose = get("/health/ready?verbose");
  EXPECT_TRUE(contains(verbose, "[-]db failed: connect 127.0.0.1:")) << verbose;
  EXPECT_TRUE(contains(verbose, "connection refused")) << verbose;
  const std::string health = get("/health");
  EXPECT_TRUE(contains(health, "\"reason\":\"refused\"")) << health;
  const std::string metrics = get("/metrics");
  EXPECT_TRUE(contains(metrics, failures_metric("refused"))) << metrics;
  EXPECT_TRUE(contains(metrics, "pg_up{probe=\"db\"} 0\n")) << metrics;

  ASSERT_EQ(server_->start(), "");
  const auto restarted = Clock::now();
  // Through the reconnect backoff (1 s doubling; the server was down for about 1-2 s).
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 40s)) << sidecar_->logs();
  std::cout << "[ reaction ] ready 200 " << seconds_since(restarted)
            << " s after the restart (through backoff)\n";
  EXPECT_TRUE(contains(get("/metrics"), "pg_up{probe=\"db\"} 1\n"));
}

TEST_F(PostgresProbeIT, BlackHoleTimesOutAndEndpointsKeepAnswering) {
  // Accepts connections (the kernel completes the handshake into the backlog) and never
  // says a word: the probe's startup packet goes unanswered.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 64), 0);
  socklen_t length = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);

  ASSERT_NO_FATAL_FAILURE(
      start_sidecar({.dsn = fmt::format("host=127.0.0.1 port={} dbname=x user=x", port),
                     .interval = "500ms",
                     .timeout = "500ms"},
                    "irrelevant"));
  const bool failed =
      eventually([&] { return contains(get("/metrics"), failures_metric("timeout")); }, 10s);
  ASSERT_TRUE(failed) << get("/metrics") << sidecar_->logs();
  // Down, not absent: a hung server is what pg_up 0 is for.
  EXPECT_TRUE(contains(get("/metrics"), "pg_up{probe=\"db\"} 0\n")) << get("/metrics");
  std::cout << "[ reaction ] first timeout reported " << seconds_since(started_)
            << " s after start (timeout 500ms)\n";
  // After failure_threshold results; the scheduler's message, or the probe's while it
  // waits out its backoff.
  std::string verbose;
  EXPECT_TRUE(eventually(
      [&] {
        verbose = get("/health/ready?verbose");
        return contains(verbose, "[-]db failed: check timed out after 500ms") ||
               (contains(verbose, "[-]db failed: check 127.0.0.1:") &&
                contains(verbose, "no answer within the timeout; reconnecting in"));
      },
      5s))
      << verbose;

  // While the probe hangs, the endpoints answer at once.
  double worst = 0;
  for (int i = 0; i < 20; ++i) {
    const auto asked = Clock::now();
    EXPECT_EQ(status("/health/live"), 200);
    worst = std::max(worst, seconds_since(asked));
    std::this_thread::sleep_for(50ms);
  }
  std::cout << "[ reaction ] slowest /health/live while hanging: " << worst * 1000 << " ms\n";
  EXPECT_LT(worst, 0.5);
  EXPECT_EQ(status("/health/ready"), 503);

  // Dropped on every timeout: at most the one connection in flight is open.
  const CommandResult open =
      run_shell(fmt::format("ss -Htn state established '( dport = :{} )' | wc -l", port));
  std::cout << "[ reaction ] established connections to the black hole: " << open.out;
  EXPECT_LE(std::stoi(open.out.empty() ? "0" : open.out), 1);
  ::close(listener);
}

TEST_F(PostgresProbeIT, SlowQueryTimesOutAndIsCancelledOnTheServer) {
  ASSERT_NO_FATAL_FAILURE(start_postgres());
  ASSERT_NO_FATAL_FAILURE(start_sidecar({.dsn = server_->probe_dsn(),
                                         .extra = "    query: SELECT pg_sleep(10)\n",
                                         .interval = "1s",
                                         .timeout = "1s"},
                                        PostgresServer::kPassword));
  const std::string sleeping =
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'covet-sidecar' "
      "AND query LIKE 'SELECT pg_sleep(10)%' AND state = 'active'";
  std::string pid;
  ASSERT_TRUE(eventually(
      [&] {
        pid = server_->psql(sleeping);
        return !pid.empty();
      },
      10s))
      << sidecar_->logs();
  ASSERT_TRUE(eventually([&] { return contains(get("/metrics"), failures_metric("timeout")); }, 5s))
      << get("/metrics");
  const auto timed_out = Clock::now();
  // After failure_threshold results; the scheduler's message, or the probe's while it
  // waits out its backoff.
  std::string verbose;
  EXPECT_TRUE(eventually(
      [&] {
        verbose = get("/health/ready?verbose");
        return contains(verbose, "[-]db failed: check timed out after 1s") ||
               (contains(verbose, "[-]db failed: check 127.0.0.1:") &&
                contains(verbose, "no answer within the timeout; reconnecting in"));
      },
      5s))
      << verbose;

  // That backend is gone: cancelled, and its connection dropped.
  const bool gone = eventually(
      [&] {
        return server_->psql("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) == "0";
      },
      2s);
  EXPECT_TRUE(gone) << server_->psql("SELECT pid, state, query FROM pg_stat_activity");
  std::cout << "[ reaction ] slow query's backend " << pid << " gone " << seconds_since(timed_out)
            << " s after the timeout was reported\n";
  const std::string log =
      server_->psql("SELECT 1");  // the server still answers; cancel did no harm
  EXPECT_EQ(log, "1");

  // Never more than one of our backends at a time while it keeps timing out.
  for (int i = 0; i < 10; ++i) {
    EXPECT_LE(std::stoi(server_->psql("SELECT count(*) FROM pg_stat_activity WHERE "
                                      "application_name = 'covet-sidecar'")),
              1);
    std::this_thread::sleep_for(300ms);
  }
  // Most likely mid-query now: shutdown cancels it without waiting on the server.
  expect_clean_shutdown();
  EXPECT_TRUE(eventually(
      [&] {
        return server_->psql(
                   "SELECT count(*) FROM pg_stat_activity WHERE "
                   "application_name = 'covet-sidecar'") == "0";
      },
      3s));
}

TEST_F(PostgresProbeIT, WrongPasswordIsAuthFailedAndNeverShown) {
  ASSERT_NO_FATAL_FAILURE(start_postgres());
  const std::string wrong = "wrong-9d2b6e-secret";
  ASSERT_NO_FATAL_FAILURE(start_sidecar({.dsn = server_->probe_dsn()}, wrong));
  ASSERT_TRUE(
      eventually([&] { return contains(get("/metrics"), failures_metric("auth_failed")); }, 10s))
      << get("/metrics") << sidecar_->logs();
  std::cout << "[ reaction ] auth_failed reported " << seconds_since(started_)
            << " s after start\n";
  std::string verbose;
  EXPECT_TRUE(eventually(
      [&] {
        verbose = get("/health/ready?verbose");
        return contains(verbose, "[-]db failed: connect 127.0.0.1:") &&
               contains(verbose, "password authentication failed for user");
      },
      10s))
      << verbose;
  const std::string health = get("/health");
  EXPECT_TRUE(contains(health, "\"reason\":\"auth_failed\"")) << health;
  for (const std::string& text : {verbose, health, get("/metrics"), sidecar_->logs()}) {
    EXPECT_FALSE(contains(text, wrong)) << text;
    EXPECT_FALSE(contains(text, PostgresServer::kPassword)) << text;
  }
}

TEST_F(PostgresProbeIT, ExhaustedMaxConnectionsIsTooManyConnections) {
  ASSERT_NO_FATAL_FAILURE(start_postgres({.max_connections = 5}));
  // Other clients take every slot (superuser_reserved_connections is 0).
  std::vector<std::unique_ptr<PGconn, decltype(&PQfinish)>> held;
  for (int i = 0; i < 10; ++i) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(server_->superuser_dsn().c_str()),
                                                      &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) break;
    held.push_back(std::move(conn));
  }
  ASSERT_EQ(held.size(), 5u);

  ASSERT_NO_FATAL_FAILURE(start_sidecar({.dsn = server_->probe_dsn()}, PostgresServer::kPassword));
  ASSERT_TRUE(eventually(
      [&] { return contains(get("/metrics"), failures_metric("too_many_connections")); }, 10s))
      << get("/metrics") << sidecar_->logs();
  std::cout << "[ reaction ] too_many_connections reported " << seconds_since(started_)
            << " s after start\n";
  EXPECT_TRUE(sidecar_->wait_for_status("/health/ready", 503, 10s));
  EXPECT_TRUE(contains(get("/health"), "\"reason\":\"too_many_connections\""));
}

TEST_F(PostgresProbeIT, RequirePrimaryPassesOnAPrimary) {
  ASSERT_NO_FATAL_FAILURE(start_postgres());
  ASSERT_NO_FATAL_FAILURE(
      start_sidecar({.dsn = server_->probe_dsn(), .extra = "    require_primary: true\n"},
                    PostgresServer::kPassword));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s)) << sidecar_->logs();
  EXPECT_TRUE(contains(get("/health"), "\"in_recovery\":\"false\""));
  EXPECT_TRUE(contains(get("/metrics"), "pg_replication_is_replica{probe=\"db\"} 0\n"));
}

// A host name is resolved off the loop and handed to libpq as hostaddr; `localhost` may
// resolve to ::1 first while the server listens on 127.0.0.1 only, so this also shows every
// address is tried in order.
TEST_F(PostgresProbeIT, HostNameIsResolvedAndEveryAddressTried) {
  ASSERT_NO_FATAL_FAILURE(start_postgres());
  ASSERT_NO_FATAL_FAILURE(
      start_sidecar({.dsn = fmt::format("host=localhost port={} dbname=postgres user={}",
                                        server_->port(), PostgresServer::kUser)},
                    PostgresServer::kPassword));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s)) << sidecar_->logs();
  EXPECT_TRUE(contains(get("/health"),
                       fmt::format("\"server\":\"localhost:{}/postgres\"", server_->port())))
      << get("/health");
}

TEST_F(PostgresProbeIT, UnknownHostNameIsRefusedWithTheName) {
  ASSERT_NO_FATAL_FAILURE(
      start_sidecar({.dsn = "host=covet-no-such-host.invalid port=5432 dbname=postgres user=x",
                     .interval = "3s",
                     .timeout = "3s"},
                    "unused"));
  ASSERT_TRUE(
      eventually([&] { return contains(get("/health"), "could not resolve host name"); }, 15s))
      << get("/health");
  const std::string health = get("/health");
  EXPECT_TRUE(contains(health, "covet-no-such-host.invalid")) << health;
  EXPECT_TRUE(contains(health, "\"reason\":\"refused\"")) << health;
  EXPECT_EQ(status("/health/live"), 200);
}

// Over TLS (sslmode=require, or verify-full with the CA), the probe reports the server's
// certificate from the connection libpq made: no second connection, the same metrics as the
// tls probe, dates equal to the certificate's to the second.
TEST_F(PostgresProbeIT, TlsConnectionReportsTheServerCertificate) {
  TestCa ca;
  ASSERT_EQ(ca.error(), "");
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const CertFiles cert = ca.issue("postgres", "localhost", now - 86400, now + 40 * 86400);
  ASSERT_EQ(cert.error, "");
  ASSERT_NO_FATAL_FAILURE(start_postgres({.ssl_cert_file = cert.cert, .ssl_key_file = cert.key}));
  const std::string base = fmt::format("host=localhost port={} dbname=postgres user={}",
                                       server_->port(), PostgresServer::kUser);
  sidecar_ = std::make_unique<SidecarProcess>(fmt::format(R"(
listen: 127.0.0.1:{{PORT}}
log: {{ format: json, level: info }}
probes:
  - name: db
    type: postgres
    dsn: "{} sslmode=require"
    password_file: {{DIR}}/pg_password
    interval: 300ms
    timeout: 300ms
  - name: verified
    type: postgres
    dsn: "{} sslmode=verify-full sslrootcert={}"
    password_file: {{DIR}}/pg_password
    interval: 300ms
    timeout: 300ms
  - name: plain
    type: postgres
    dsn: "{} sslmode=disable"
    password_file: {{DIR}}/pg_password
    interval: 300ms
    timeout: 300ms
)",
                                                          base, base, ca.ca_file(), base));
  write_file(sidecar_->dir() + "/pg_password", std::string(PostgresServer::kPassword) + "\n");
  ASSERT_TRUE(sidecar_->start()) << sidecar_->logs();
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s)) << sidecar_->logs();

  const double expected = static_cast<double>(read_not_after(cert.cert));
  ASSERT_EQ(expected, static_cast<double>(now + 40 * 86400));
  std::vector<Sample> samples;
  ASSERT_TRUE(eventually(
      [&] {
        samples = parse_samples(get("/metrics"));
        return sample_value(samples, "probe_ssl_earliest_cert_expiry", {{"probe", "verified"}})
            .has_value();
      },
      10s))
      << get("/metrics");
  EXPECT_EQ(sample_value(samples, "probe_ssl_earliest_cert_expiry", {{"probe", "db"}}), expected);
  EXPECT_EQ(sample_value(samples, "covet_sidecar_tls_cert_not_after_seconds", {{"probe", "db"}}),
            expected);
  EXPECT_EQ(sample_value(samples, "covet_sidecar_tls_cert_not_before_seconds", {{"probe", "db"}}),
            static_cast<double>(now - 86400));
  // require does not verify the chain; verify-full with the CA does.
  EXPECT_FALSE(
      sample_value(samples, "probe_ssl_last_chain_expiry_timestamp_seconds", {{"probe", "db"}}));
  EXPECT_EQ(sample_value(samples, "probe_ssl_earliest_cert_expiry", {{"probe", "verified"}}),
            expected);
  EXPECT_TRUE(sample_value(samples, "probe_ssl_last_chain_expiry_timestamp_seconds",
                           {{"probe", "verified"}}));
  EXPECT_TRUE(contains(get("/metrics"), "probe_tls_version_info{probe=\"db\",version=\"TLS 1."))
      << get("/metrics");
  // Without TLS there is no certificate to report.
  EXPECT_FALSE(sample_value(samples, "probe_ssl_earliest_cert_expiry", {{"probe", "plain"}}));
  EXPECT_EQ(sample_value(samples, "pg_up", {{"probe", "plain"}}), 1.0);
  expect_clean_shutdown();
}

}  // namespace
}  // namespace covet::testing
