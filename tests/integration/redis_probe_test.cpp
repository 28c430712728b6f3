// The Redis probe in the real binary against real redis-server 7.0 processes started by the
// test: the Redis rows of the fault table. Reaction times are printed, not asserted tightly
// (CI machines vary); the bounds below only catch a probe that never reacts.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "tests/integration/redis_server.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/waiting.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct ProbeOptions {
  std::string target{};  // "address: ..." / "sentinels: [...]\n    master_name: ..."
  std::string extra{};   // more probe keys, each "    key: value\n"
  std::string interval = "300ms";
  std::string timeout = "300ms";
  std::string name = "cache";
};

std::string probe_yaml(const ProbeOptions& probe) {
  return fmt::format(R"(  - name: {}
    type: redis
    {}
    interval: {}
    timeout: {}
    failure_threshold: 2
    success_threshold: 1
{})",
                     probe.name, probe.target, probe.interval, probe.timeout, probe.extra);
}

std::string config_for(const std::vector<ProbeOptions>& probes) {
  std::string out = R"(
listen: 127.0.0.1:{PORT}
log: { format: json, level: debug }
shutdown: { drain_delay: 100ms, grace_period: 5s }
probes:
)";
  for (const ProbeOptions& probe : probes) out += probe_yaml(probe);
  return out;
}

std::string failures_metric(const std::string& reason, const std::string& probe = "cache") {
  return "covet_sidecar_probe_failures_total{probe=\"" + probe + "\",reason=\"" + reason + "\"}";
}

// `calls` of cmdstat_<name> in an INFO commandstats reply; 0 when the command never ran.
long calls_of(const std::string& commandstats, const std::string& name) {
  const std::string key = "cmdstat_" + name + ":calls=";
  const std::size_t at = commandstats.find(key);
  return at == std::string::npos ? 0 : std::stol(commandstats.substr(at + key.size()));
}

class RedisProbeIT : public ::testing::Test {
 protected:
  std::unique_ptr<RedisServer> start_redis(RedisServer::Options options = {}) {
    auto server = std::make_unique<RedisServer>(std::move(options));
    const std::string error = server->start();
    EXPECT_EQ(error, "") << "cannot start redis-server for the test";
    return error.empty() ? std::move(server) : nullptr;
  }

  void start_sidecar(const std::vector<ProbeOptions>& probes, const std::string& password = "") {
    sidecar_ = std::make_unique<SidecarProcess>(config_for(probes));
    write_file(sidecar_->dir() + "/redis_password", password + "\n");
    ASSERT_TRUE(sidecar_->start())
        << "exit " << sidecar_->wait_exit(0ms).value_or(-1) << ": " << sidecar_->logs();
    started_ = Clock::now();
  }

  std::string get(const std::string& path) { return client_.get(sidecar_->url(path)).body; }
  long status(const std::string& path) { return client_.get(sidecar_->url(path)).status; }

  // SIGTERM whatever the probe is doing: a clean exit (under ASan, also no leak report).
  void expect_clean_shutdown() {
    sidecar_->signal(SIGTERM);
    EXPECT_EQ(sidecar_->wait_exit(10s), std::optional<int>(0)) << sidecar_->logs();
    EXPECT_FALSE(contains(sidecar_->logs(), "Sanitizer")) << sidecar_->logs();
  }

  std::unique_ptr<SidecarProcess> sidecar_;
  HttpClient client_;
  Clock::time_point started_;
};

TEST_F(RedisProbeIT, PassingServerIsReadyOnOnePersistentConnectionWithMetrics) {
  auto redis = start_redis();
  ASSERT_TRUE(redis);
  redis->command({"SET", "k", "v"});
  ASSERT_NO_FATAL_FAILURE(start_sidecar({{.target = "address: " + redis->address()}}));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s)) << sidecar_->logs();
  std::cout << "[ reaction ] ready after " << seconds_since(started_) << " s\n";

  EXPECT_EQ(get("/health/ready?verbose"), "[+]cache ok\nready check passed\n");
  EXPECT_EQ(status("/health/live"), 200);
  const std::string health = get("/health");
  EXPECT_TRUE(contains(health, "\"cache\":{\"type\":\"redis\",\"status\":\"passing\"")) << health;
  EXPECT_TRUE(contains(health, "\"server\":\"" + redis->address() + "\"")) << health;
  EXPECT_TRUE(contains(health, "\"redis_version\":\"7.")) << health;

  const std::string metrics = get("/metrics");
  for (const std::string& line : {
           std::string("redis_up{probe=\"cache\"} 1\n"),
           std::string("# TYPE redis_commands_processed_total counter\n"),
           std::string("# TYPE redis_connected_clients gauge\n"),
           std::string("redis_instance_info{probe=\"cache\",role=\"master\",redis_version=\"7."),
           std::string("redis_db_keys{probe=\"cache\",db=\"db0\"} 1\n"),
           std::string("redis_config_maxclients{probe=\"cache\"} 10000\n"),
           std::string("redis_connected_slaves{probe=\"cache\"} 0\n"),
           std::string("redis_memory_max_bytes{probe=\"cache\"} 0\n"),
           std::string("redis_uptime_in_seconds{probe=\"cache\"} "),
           std::string("redis_blocked_clients{probe=\"cache\"} "),
           std::string("redis_rejected_connections_total{probe=\"cache\"} "),
           std::string("redis_memory_used_bytes{probe=\"cache\"} "),
           std::string("redis_mem_fragmentation_ratio{probe=\"cache\"} "),
           std::string("redis_keyspace_hits_total{probe=\"cache\"} "),
           std::string("redis_keyspace_misses_total{probe=\"cache\"} "),
           std::string("redis_evicted_keys_total{probe=\"cache\"} "),
       }) {
    EXPECT_TRUE(contains(metrics, line)) << "missing: " << line << "\n" << metrics;
  }

  // Reused across checks: the same single connection serves several intervals.
  const auto our_ids = [&] {
    std::istringstream lines(redis->command({"CLIENT", "LIST"}));
    std::string ids;
    for (std::string line; std::getline(lines, line);) {
      if (contains(line, " name=covet-sidecar ")) ids += line.substr(0, line.find(' ')) + ";";
    }
    return ids;
  };
  const std::string before = our_ids();
  std::this_thread::sleep_for(1200ms);  // four intervals
  EXPECT_EQ(std::count(before.begin(), before.end(), ';'), 1) << before;
  EXPECT_EQ(our_ids(), before);
  expect_clean_shutdown();
}

// Names are resolved off the loop (hiredis would block on them), and every address of the
// name is tried in order (localhost may list ::1, where the test server does not listen).
TEST_F(RedisProbeIT, HostNameIsResolvedOffTheLoop) {
  auto redis = start_redis();
  ASSERT_TRUE(redis);
  ASSERT_NO_FATAL_FAILURE(
      start_sidecar({{.target = "address: 127.0.0.1:" + std::to_string(redis->port())},
                     {.target = "address: covet-no-such-host.invalid:6379",
                      .interval = "3s",
                      .timeout = "3s",
                      .name = "nowhere"}}));
  ASSERT_TRUE(eventually([&] { return contains(get("/health"), "could not resolve"); }, 15s))
      << get("/health");
  const std::string health = get("/health");
  EXPECT_TRUE(contains(health, "covet-no-such-host.invalid:6379")) << health;
  EXPECT_TRUE(eventually(
      [&] {
        return contains(get("/health"), "\"cache\":{\"type\":\"redis\",\"status\":\"passing\"");
      },
      10s))
      << get("/health");
  EXPECT_TRUE(contains(health, "\"reason\":\"refused\"")) << health;
  EXPECT_EQ(status("/health/live"), 200);
}

TEST_F(RedisProbeIT, KilledServerIsRefusedAndRestartedServerRecovers) {
  auto redis = start_redis();
  ASSERT_TRUE(redis);
  ASSERT_NO_FATAL_FAILURE(start_sidecar({{.target = "address: " + redis->address()}}));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s)) << sidecar_->logs();

  redis->kill();
  const auto stopped = Clock::now();
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 503, 15s)) << sidecar_->logs();
  std::cout << "[ reaction ] redis stopped -> ready 503 after " << seconds_since(stopped) << "s\n";
  EXPECT_EQ(status("/health/live"), 200);
  std::string verbose;
  EXPECT_TRUE(eventually(
      [&] {
        verbose = get("/health/ready?verbose");
        return contains(verbose,
                        "[-]cache failed: connect " + redis->address() + ": connection refused");
      },
      5s))
      << verbose;
  EXPECT_TRUE(contains(get("/health"), "\"reason\":\"refused\"")) << get("/health");
  const std::string metrics = get("/metrics");
  EXPECT_TRUE(contains(metrics, failures_metric("refused"))) << metrics;
  EXPECT_TRUE(contains(metrics, "redis_up{probe=\"cache\"} 0\n")) << metrics;
  EXPECT_FALSE(contains(metrics, "redis_connected_clients{")) << "stale INFO numbers exported";

  ASSERT_EQ(redis->start(), "");
  const auto restarted = Clock::now();
  // Through the reconnect backoff (1 s doubling; the server was down for about 1-2 s).
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 40s)) << sidecar_->logs();
  std::cout << "[ reaction ] redis restarted -> ready 200 after " << seconds_since(restarted)
            << "s (through backoff)\n";
  EXPECT_TRUE(contains(get("/metrics"), "redis_up{probe=\"cache\"} 1\n"));
  expect_clean_shutdown();
}

TEST_F(RedisProbeIT, HungServerTimesOutEndpointsAnswerAndConnectionsDoNotPileUp) {
  auto redis = start_redis();
  ASSERT_TRUE(redis);
  ASSERT_NO_FATAL_FAILURE(start_sidecar(
      {{.target = "address: " + redis->address(), .interval = "1s", .timeout = "1s"}}));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s)) << sidecar_->logs();

  // Another client blocks the server for 5 s.
  const auto sleep_started = Clock::now();
  std::thread sleeper([&] { redis->command({"DEBUG", "SLEEP", "5"}, 10s); });
  const bool timed_out =
      eventually([&] { return contains(get("/metrics"), failures_metric("timeout")); }, 10s);
  EXPECT_TRUE(timed_out) << get("/metrics") << sidecar_->logs();
  // Timed-out runs still say the server is down, rather than dropping the series.
  EXPECT_TRUE(contains(get("/metrics"), "redis_up{probe=\"cache\"} 0\n")) << get("/metrics");
  std::cout << "[ reaction ] DEBUG SLEEP 5 -> first timeout reported after "
            << seconds_since(sleep_started) << "s (timeout 1s)\n";
  std::string verbose;
  EXPECT_TRUE(eventually(
      [&] {
        verbose = get("/health/ready?verbose");
        return contains(verbose, "[-]cache failed: check timed out after 1s") ||
               contains(verbose, "[-]cache failed: check " + redis->address() +
                                     ": no answer within the timeout; reconnecting in");
      },
      5s))
      << verbose;

  // While the server hangs, the endpoints answer at once.
  double worst = 0;
  for (int i = 0; i < 10; ++i) {
    const auto asked = Clock::now();
    EXPECT_EQ(status("/health/live"), 200);
    EXPECT_EQ(status("/health/ready"), 503);
    worst = std::max(worst, seconds_since(asked));
    std::this_thread::sleep_for(50ms);
  }
  std::cout << "[ reaction ] slowest /health answer while redis hangs: " << worst * 1000 << " ms\n";
  EXPECT_LT(worst, 0.5);
  sleeper.join();

  // Every timed-out connection was dropped by the probe: once the server processes what
  // queued up during its sleep, at most the probe's one current connection is left (the
  // list also shows this test's own CLIENT LIST connection).
  int clients = 0;
  const bool settled = eventually(
      [&] {
        const std::string list = redis->command({"CLIENT", "LIST"});
        clients =
            static_cast<int>(std::count(list.begin(), list.end(), '\n')) - 1;  // one line each
        return clients <= 1;
      },
      3s);
  std::cout << "[ reaction ] client connections after the sleep (ours excluded): " << clients
            << "\n";
  EXPECT_TRUE(settled) << redis->command({"CLIENT", "LIST"});
  EXPECT_LE(redis->sidecar_connections(), 1);
  expect_clean_shutdown();
}

TEST_F(RedisProbeIT, WrongPasswordIsAuthFailedAndNeverShown) {
  const std::string right = "right-7f3e1a-do-not-leak";
  const std::string wrong = "wrong-9d2b6e-secret";
  auto redis = start_redis({.requirepass = right});
  ASSERT_TRUE(redis);
  ASSERT_NO_FATAL_FAILURE(start_sidecar({{.target = "address: " + redis->address(),
                                          .extra = "    password_file: {DIR}/redis_password\n"}},
                                        wrong));
  ASSERT_TRUE(
      eventually([&] { return contains(get("/metrics"), failures_metric("auth_failed")); }, 10s))
      << get("/metrics") << sidecar_->logs();
  std::cout << "[ reaction ] auth_failed reported " << seconds_since(started_)
            << " s after start\n";
  std::string verbose;
  EXPECT_TRUE(eventually(
      [&] {
        verbose = get("/health/ready?verbose");
        return contains(verbose, "[-]cache failed: AUTH " + redis->address() + ": WRONGPASS");
      },
      10s))
      << verbose;
  const std::string health = get("/health");
  EXPECT_TRUE(contains(health, "\"reason\":\"auth_failed\"")) << health;
  const std::string metrics = get("/metrics");
  const std::string printed = run_binary({"--check-config", sidecar_->dir() + "/config.yaml"}).out;
  sidecar_->signal(SIGTERM);
  sidecar_->wait_exit(10s);
  for (const std::string& text : {verbose, health, metrics, printed, sidecar_->logs()}) {
    EXPECT_FALSE(contains(text, wrong)) << text;
    EXPECT_FALSE(contains(text, right)) << text;
  }
}

TEST_F(RedisProbeIT, AclUserAndDatabasePass) {
  const std::string admin = "admin-4c1d-secret";
  auto redis = start_redis({.requirepass = admin});
  ASSERT_TRUE(redis);
  ASSERT_EQ(redis->command({"ACL", "SETUSER", "probe", "on", ">secret-acl-71b2", "~*", "+@all"}),
            "OK");
  ASSERT_NO_FATAL_FAILURE(start_sidecar(
      {{.target = "address: " + redis->address(),
        .extra = "    username: probe\n    password_file: {DIR}/redis_password\n    db: 3\n"}},
      "secret-acl-71b2"));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s))
      << get("/health") << sidecar_->logs();
  const std::string list = redis->command({"CLIENT", "LIST"});
  std::string ours;
  std::istringstream lines(list);
  for (std::string line; std::getline(lines, line);) {
    if (contains(line, " name=covet-sidecar ")) ours = line;
  }
  EXPECT_TRUE(contains(ours, " db=3 ")) << list;
  EXPECT_TRUE(contains(ours, " user=probe ")) << list;
  expect_clean_shutdown();
}

TEST_F(RedisProbeIT, PasswordForAServerWithoutOneIsAuthFailed) {
  auto redis = start_redis();
  ASSERT_TRUE(redis);
  ASSERT_NO_FATAL_FAILURE(start_sidecar({{.target = "address: " + redis->address(),
                                          .extra = "    password_file: {DIR}/redis_password\n"}},
                                        "pw-unused-5e1f"));
  std::string verbose;
  EXPECT_TRUE(eventually(
      [&] {
        verbose = get("/health/ready?verbose");
        return contains(verbose, "[-]cache failed: AUTH " + redis->address() + ": ERR AUTH");
      },
      10s))
      << verbose;
  EXPECT_TRUE(contains(get("/health"), "\"reason\":\"auth_failed\"")) << get("/health");
  EXPECT_FALSE(contains(verbose + get("/health") + sidecar_->logs(), "pw-unused-5e1f"));
  expect_clean_shutdown();
}

TEST_F(RedisProbeIT, InfoDeniedCostsTheMetricsNotTheCheck) {
  const std::string admin = "admin-90aa-secret";
  auto redis = start_redis({.requirepass = admin});
  ASSERT_TRUE(redis);
  // An ACL user that may PING but not run INFO (nor CONFIG).
  ASSERT_EQ(redis->command({"ACL", "SETUSER", "probe", "on", ">pw-noinfo-3b7d", "~*", "+@all",
                            "-info", "-config"}),
            "OK");
  ASSERT_NO_FATAL_FAILURE(
      start_sidecar({{.target = "address: " + redis->address(),
                      .extra = "    username: probe\n    password_file: {DIR}/redis_password\n"}},
                    "pw-noinfo-3b7d"));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s))
      << get("/health") << sidecar_->logs();
  std::string health;
  EXPECT_TRUE(eventually(
      [&] {
        health = get("/health");
        return contains(health, "\"stats_error\":\"INFO: NOPERM");
      },
      5s))
      << health;
  const std::string metrics = get("/metrics");
  EXPECT_TRUE(contains(metrics, "redis_up{probe=\"cache\"} 1\n")) << metrics;
  EXPECT_FALSE(contains(metrics, "redis_connected_clients{")) << metrics;
  EXPECT_TRUE(contains(sidecar_->logs(), "probe metrics degraded")) << sidecar_->logs();
  expect_clean_shutdown();
}

TEST_F(RedisProbeIT, RequireMasterFailsOnAReplicaAndPassesOnTheMaster) {
  auto master = start_redis();
  ASSERT_TRUE(master);
  auto replica = start_redis({.replica_of = master->port()});
  ASSERT_TRUE(replica);
  ASSERT_NO_FATAL_FAILURE(start_sidecar({
      {.target = "address: " + replica->address(),
       .extra = "    require_master: true\n",
       .name = "replica"},
      {.target = "address: " + master->address(),
       .extra = "    require_master: true\n",
       .name = "master"},
  }));
  std::string verbose;
  ASSERT_TRUE(eventually(
      [&] {
        verbose = get("/health/ready?verbose");
        return contains(verbose, "[+]master ok\n") &&
               contains(verbose, "[-]replica failed: ROLE " + replica->address() +
                                     ": the server is a slave, not the master");
      },
      10s))
      << verbose << sidecar_->logs();
  EXPECT_EQ(status("/health/ready"), 503);
  const std::string health = get("/health");
  EXPECT_TRUE(contains(health, "\"reason\":\"not_master\"")) << health;
  EXPECT_TRUE(contains(get("/metrics"), failures_metric("not_master", "replica")));
  expect_clean_shutdown();
}

TEST_F(RedisProbeIT, SentinelFailoverIsFollowedWithoutRestart) {
  auto a = start_redis();
  ASSERT_TRUE(a);
  auto b = start_redis({.replica_of = a->port()});
  ASSERT_TRUE(b);
  ASSERT_TRUE(eventually(
      [&] {
        return contains(b->command({"INFO", "replication"}), "master_link_status:up");
      },
      15s))
      << b->log();
  auto sentinel = start_redis({.sentinel = true, .monitor_port = a->port()});
  ASSERT_TRUE(sentinel);

  ASSERT_NO_FATAL_FAILURE(start_sidecar(
      {{.target = "sentinels: [" + sentinel->address() + "]\n    master_name: mymaster",
        .interval = "500ms",
        .timeout = "500ms"}}));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s))
      << get("/health") << sidecar_->logs();
  EXPECT_TRUE(contains(get("/health"), "\"master\":\"" + a->address() + "\"")) << get("/health");

  // The sentinel must know the replica before it can promote it: retry until it takes.
  std::string failover;
  ASSERT_TRUE(eventually(
      [&] {
        failover = sentinel->command({"SENTINEL", "FAILOVER", "mymaster"});
        return failover == "OK";
      },
      20s))
      << failover << "\n"
      << sentinel->log();
  const auto started = Clock::now();
  std::string health;
  std::optional<double> sentinel_switched;  // when the sentinel itself answered B
  const bool followed = eventually(
      [&] {
        if (!sentinel_switched &&
            contains(sentinel->command({"SENTINEL", "get-master-addr-by-name", "mymaster"}),
                     std::to_string(b->port()))) {
          sentinel_switched = seconds_since(started);
        }
        health = get("/health");
        return contains(health, "\"master\":\"" + b->address() + "\"") &&
               status("/health/ready") == 200;
      },
      30s);
  EXPECT_TRUE(followed) << health << "\n" << sidecar_->logs();
  std::cout << "[ reaction ] SENTINEL FAILOVER -> probe on the new master, ready 200 after "
            << seconds_since(started) << "s (the sentinel named it after "
            << sentinel_switched.value_or(-1) << "s)\n";
  EXPECT_TRUE(contains(b->command({"ROLE"}), "master"));
  expect_clean_shutdown();
}

TEST_F(RedisProbeIT, PromtoolAcceptsMetricsWithTheRedisProbe) {
  auto redis = start_redis();
  ASSERT_TRUE(redis);
  redis->command({"SET", "k", "v"});
  ASSERT_NO_FATAL_FAILURE(start_sidecar({{.target = "address: " + redis->address()},
                                         {.target = "address: 127.0.0.1:1", .name = "down"}}));
  ASSERT_TRUE(eventually(
      [&] {
        const std::string metrics = get("/metrics");
        return contains(metrics, "redis_connected_clients{probe=\"cache\"}") &&
               contains(metrics, "redis_up{probe=\"down\"} 0");
      },
      10s))
      << get("/metrics");
  const std::string path = sidecar_->dir() + "/metrics.txt";
  std::ofstream(path) << get("/metrics");
  const CommandResult check = run_shell("promtool check metrics < " + path + " 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.out;
  expect_clean_shutdown();
}

TEST_F(RedisProbeIT, ScrapesNeverReachRedis) {
  auto redis = start_redis();
  ASSERT_TRUE(redis);
  ASSERT_NO_FATAL_FAILURE(start_sidecar({{.target = "address: " + redis->address(),
                                          .extra = "    stats_interval: 1s\n",
                                          .interval = "500ms",
                                          .timeout = "500ms"}}));
  ASSERT_TRUE(sidecar_->wait_for_status("/health/ready", 200, 10s)) << sidecar_->logs();
  ASSERT_TRUE(
      eventually([&] { return contains(get("/metrics"), "redis_connected_clients{"); }, 5s));

  // Two windows of the same length: one without scrapes, one with 200. Each reading of the
  // counters is one INFO commandstats of ours, once per window in both.
  constexpr auto kWindow = 10s;
  const auto window = [&](bool scrape, int& scrapes) {
    const std::string before = redis->command({"INFO", "commandstats"});
    const auto end = Clock::now() + kWindow;
    scrapes = 0;
    while (Clock::now() < end) {
      if (scrape && scrapes < 200) {
        EXPECT_EQ(client_.get(sidecar_->url("/metrics")).status, 200);
        ++scrapes;
      }
      std::this_thread::sleep_until(std::min(end, Clock::now() + 45ms));
    }
    const std::string after = redis->command({"INFO", "commandstats"});
    return std::make_pair(calls_of(after, "ping") - calls_of(before, "ping"),
                          calls_of(after, "info") - calls_of(before, "info"));
  };
  int quiet_scrapes = 0;
  int busy_scrapes = 0;
  const auto quiet = window(false, quiet_scrapes);
  const auto busy = window(true, busy_scrapes);
  std::cout << "[ reaction ] commands in 10s: PING " << quiet.first << " / " << busy.first
            << ", INFO " << quiet.second << " / " << busy.second << " (0 / " << busy_scrapes
            << " scrapes)\n";
  EXPECT_GE(busy_scrapes, 150);
  EXPECT_GE(quiet.first, 10);  // the probe did run: about one PING per 500ms
  EXPECT_GE(quiet.second, 5);  // and INFO about once a second
  // Scrapes that reached Redis would add 150 commands or more. What remains is when checks
  // fall in a window (a few, more on a loaded machine).
  EXPECT_LE(busy.first, quiet.first + 5) << "scrapes reached Redis";
  EXPECT_LE(busy.second, quiet.second + 3) << "scrapes reached Redis";
  expect_clean_shutdown();
}

}  // namespace
}  // namespace covet::testing
