// The process probe in the real binary, against real child processes this test starts
// (/bin/sleep, and bash scripts that lower their fd limit and open files before exec'ing
// sleep). Every child is an ExternalProcess: killed and reaped when the test ends, passed
// or not.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "probes/process_stats.h"
#include "probes/procfs.h"
#include "tests/integration/external_process.h"
#include "tests/integration/prometheus_text.h"
#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kPollLimit = 15s;

std::string config_with(const std::string& probes) {
  return R"(
listen: 127.0.0.1:{PORT}
log: { format: json, level: debug }
shutdown: { drain_delay: 100ms, grace_period: 5s }
probes:
)" + probes;
}

std::string process_probe(const std::string& name, const std::string& selector) {
  return "  - name: " + name +
         "\n"
         "    type: process\n"
         "    " +
         selector +
         "\n"
         "    interval: 300ms\n"
         "    timeout: 250ms\n"
         "    failure_threshold: 1\n";
}

// A sleep argument no other process on the machine has: this test's PID and a counter.
std::string unique_seconds() {
  static int counter = 0;
  return std::to_string(::getpid()) + "0" + std::to_string(++counter);
}

// "^/bin/sleep N$", quoted for YAML: the anchors keep a bash that has not exec'd sleep yet
// (its command line contains the same words) from matching.
std::string sleep_selector(const std::string& seconds) {
  return "cmdline: '^/bin/sleep " + seconds + "$$'";
}

std::unique_ptr<ExternalProcess> start_child(std::vector<std::string> argv) {
  auto child = std::make_unique<ExternalProcess>(std::move(argv), std::vector<std::string>{});
  EXPECT_TRUE(child->start()) << child->logs();
  return child;
}

std::unique_ptr<ExternalProcess> start_sleep(const std::string& seconds) {
  return start_child({"/bin/sleep", seconds});
}

// A python process that closes every inherited fd above 2, lowers its soft fd limit to 64,
// then opens /dev/null until it holds `fds` descriptors (or until EMFILE, for 64) and
// sleeps. Selected by its last argument, "fdholder-TAG". Writes "ready" when done.
std::unique_ptr<ExternalProcess> start_fd_holder(const std::string& tag, int fds) {
  const std::string script = R"(import os, resource, sys, time
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
os.closerange(3, 1 << 16)
target = int(sys.argv[1])
held = []
try:
    while 3 + len(held) < target:
        held.append(os.open("/dev/null", os.O_RDONLY))
except OSError:
    pass
print("ready", 3 + len(held), flush=True)
time.sleep(1000)
)";
  return start_child({"/usr/bin/python3", "-c", script, std::to_string(fds), "fdholder-" + tag});
}

std::size_t count_fds(pid_t pid) {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++count;
  }
  return count;
}

std::optional<std::uint64_t> vm_rss(pid_t pid) {
  probes::FileContents file = probes::read_small_file("/proc/" + std::to_string(pid) + "/status");
  if (!file.ok()) return std::nullopt;
  return probes::parse_proc_pid_status(file.contents).vm_rss_bytes;
}

class ProcessProbeIT : public ::testing::Test {
 protected:
  void start(const std::string& probes) {
    sidecar = std::make_unique<SidecarProcess>(config_with(probes));
    ASSERT_TRUE(sidecar->start()) << sidecar->logs();
  }
  // Polls until `done` holds, at most kPollLimit.
  bool eventually(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + kPollLimit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return done();
  }
  std::string get(const std::string& path) { return client.get(sidecar->url(path)).body; }
  std::optional<double> metric(const std::string& name, const std::string& probe) {
    return sample_value(parse_samples(get("/metrics")), name, {{"probe", probe}});
  }
  bool health_shows(const std::string& needle) {
    return get("/health").find(needle) != std::string::npos;
  }
  std::string diagnostics() {
    return "/health: " + get("/health") +
           "\n/health/ready?verbose: " + get("/health/ready?verbose") +
           "\nlogs: " + sidecar->logs();
  }

  std::unique_ptr<SidecarProcess> sidecar;
  HttpClient client;
};

TEST_F(ProcessProbeIT, CmdlineFindsTheChildAndReportsItsResources) {
  const std::string seconds = unique_seconds();
  auto child = start_sleep(seconds);
  const pid_t pid = child->pid();
  start(process_probe("app", sleep_selector(seconds)));

  ASSERT_TRUE(eventually([&] { return health_shows("\"pid\":\"" + std::to_string(pid) + "\""); }))
      << diagnostics();
  EXPECT_TRUE(sidecar->wait_for_status("/health/ready", 200, kPollLimit)) << diagnostics();
  EXPECT_TRUE(health_shows("\"count\":\"1\"")) << diagnostics();

  const std::vector<Sample> samples = parse_samples(get("/metrics"));
  const auto value = [&](const std::string& suffix) {
    return sample_value(samples, "covet_sidecar_app_process_" + suffix, {{"probe", "app"}});
  };
  EXPECT_EQ(value("up"), 1);
  EXPECT_EQ(value("count"), 1);
  // sleep opens nothing after it starts: both counts list the same directory of an idle
  // process, so they agree exactly.
  ASSERT_TRUE(value("open_fds"));
  EXPECT_EQ(*value("open_fds"), static_cast<double>(count_fds(pid)));
  const std::optional<std::uint64_t> rss = vm_rss(pid);
  ASSERT_TRUE(rss);
  ASSERT_TRUE(value("resident_memory_bytes"));
  EXPECT_NEAR(*value("resident_memory_bytes"), static_cast<double>(*rss),
              0.2 * static_cast<double>(*rss));
  EXPECT_EQ(value("threads"), 1);
  ASSERT_TRUE(value("max_fds"));
  EXPECT_GT(*value("max_fds"), 0);
  ASSERT_TRUE(value("virtual_memory_bytes"));
  EXPECT_GE(*value("virtual_memory_bytes"), *value("resident_memory_bytes"));
  ASSERT_TRUE(value("cpu_seconds_total"));
  EXPECT_GE(*value("cpu_seconds_total"), 0);
  EXPECT_LT(*value("cpu_seconds_total"), 5);  // it sleeps
  // Started after this test began, and not in the future.
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_TRUE(value("start_time_seconds"));
  EXPECT_NEAR(*value("start_time_seconds"), now, 60);
  EXPECT_EQ(value("restarts_total"), 0);

  const std::string path = sidecar->dir() + "/metrics.txt";
  std::ofstream(path) << get("/metrics");
  const CommandResult check = run_shell("promtool check metrics < " + path + " 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.out;

  // A clean exit, with checks on the thread pool until the end: under the sanitizer build a
  // leaked job or a use after free shows up here.
  sidecar->signal(SIGTERM);
  const std::optional<int> code = sidecar->wait_exit(10s);
  ASSERT_TRUE(code.has_value()) << sidecar->logs();
  EXPECT_EQ(*code, 0) << sidecar->logs();
  EXPECT_EQ(sidecar->logs().find("Sanitizer"), std::string::npos) << sidecar->logs();
  EXPECT_EQ(sidecar->logs().find("runtime error"), std::string::npos) << sidecar->logs();
}

TEST_F(ProcessProbeIT, RestartIsCountedAndThePidChanges) {
  const std::string seconds = unique_seconds();
  auto first = start_sleep(seconds);
  const pid_t first_pid = first->pid();
  start(process_probe("app", sleep_selector(seconds)));
  ASSERT_TRUE(eventually([&] {
    return health_shows("\"pid\":\"" + std::to_string(first_pid) + "\"");
  })) << diagnostics();
  EXPECT_EQ(metric("covet_sidecar_app_process_restarts_total", "app"), 0);

  first.reset();  // SIGTERM and reaped
  auto second = start_sleep(seconds);
  const pid_t second_pid = second->pid();
  ASSERT_NE(second_pid, first_pid);
  ASSERT_TRUE(eventually([&] {
    return health_shows("\"pid\":\"" + std::to_string(second_pid) + "\"");
  })) << diagnostics();
  EXPECT_TRUE(health_shows("\"restarts\":\"1\"")) << diagnostics();
  EXPECT_EQ(metric("covet_sidecar_app_process_restarts_total", "app"), 1);
  // And it stays at 1 while the new process lives.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(metric("covet_sidecar_app_process_restarts_total", "app"), 1);
}

TEST_F(ProcessProbeIT, ProcessGoneIsNotReadyButAlive) {
  const std::string seconds = unique_seconds();
  auto child = start_sleep(seconds);
  start(process_probe("app", sleep_selector(seconds)));
  ASSERT_TRUE(sidecar->wait_for_status("/health/ready", 200, kPollLimit)) << diagnostics();

  child.reset();
  EXPECT_TRUE(sidecar->wait_for_status("/health/ready", 503, kPollLimit)) << diagnostics();
  const std::string verbose = get("/health/ready?verbose");
  EXPECT_NE(
      verbose.find("[-]app failed: no process matches cmdline /^/bin/sleep " + seconds + "$/"),
      std::string::npos)
      << verbose;
  EXPECT_EQ(client.get(sidecar->url("/health/live")).status, 200);
  EXPECT_TRUE(health_shows("\"count\":\"0\"")) << diagnostics();
  const std::string metrics = get("/metrics");
  EXPECT_NE(metrics.find("covet_sidecar_probe_failures_total{probe=\"app\",reason=\"not_found\"}"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metric("covet_sidecar_app_process_up", "app"), 0);
  EXPECT_EQ(metric("covet_sidecar_app_process_count", "app"), 0);
  EXPECT_FALSE(metric("covet_sidecar_app_process_open_fds", "app"));
  EXPECT_NE(sidecar->logs().find("\"reason\":\"not_found\""), std::string::npos) << sidecar->logs();
}

TEST_F(ProcessProbeIT, PidFileSelectsItsProcessAndADeadPidIsNotFound) {
  auto child = start_sleep(unique_seconds());
  const pid_t pid = child->pid();
  pid_t dead_pid = 0;
  {
    auto doomed = start_sleep(unique_seconds());
    dead_pid = doomed->pid();
  }  // killed and reaped: its PID runs nothing now
  sidecar = std::make_unique<SidecarProcess>(
      config_with(process_probe("live", "pid_file: {DIR}/live.pid") +
                  process_probe("dead", "pid_file: {DIR}/dead.pid")));
  std::ofstream(sidecar->dir() + "/live.pid") << pid << "\n";
  std::ofstream(sidecar->dir() + "/dead.pid") << dead_pid << "\n";
  ASSERT_TRUE(sidecar->start()) << sidecar->logs();

  const std::string dead_line = "[-]dead failed: pid_file " + sidecar->dir() +
                                "/dead.pid: process " + std::to_string(dead_pid) +
                                " is not running";
  ASSERT_TRUE(eventually([&] {
    const std::string verbose = get("/health/ready?verbose");
    return verbose.find("[+]live ok") != std::string::npos &&
           verbose.find(dead_line) != std::string::npos;
  })) << diagnostics();
  EXPECT_TRUE(health_shows("\"pid\":\"" + std::to_string(pid) + "\"")) << diagnostics();
  EXPECT_EQ(metric("covet_sidecar_app_process_up", "live"), 1);
  EXPECT_EQ(metric("covet_sidecar_app_process_up", "dead"), 0);
  const std::string metrics = get("/metrics");
  EXPECT_NE(metrics.find("covet_sidecar_probe_failures_total{probe=\"dead\",reason=\"not_found\"}"),
            std::string::npos)
      << metrics;

  // The live process goes away too: its pid file now names a dead PID.
  child.reset();
  EXPECT_TRUE(eventually([&] {
    return get("/health/ready?verbose")
               .find("[-]live failed: pid_file " + sidecar->dir() + "/live.pid: process " +
                     std::to_string(pid) + " is not running") != std::string::npos;
  })) << diagnostics();
}

TEST_F(ProcessProbeIT, OpenFdsNearTheLimitWarnAndAtTheLimitFail) {
  // Soft limit 64: 54 open is 84.4% (warn at 80%); opening until EMFILE is 64, 100% (fail
  // at 95%).
  const std::string warn_tag = unique_seconds();
  const std::string fail_tag = unique_seconds();
  auto warn_child = start_fd_holder(warn_tag, 54);
  auto fail_child = start_fd_holder(fail_tag, 1000);
  ASSERT_TRUE(eventually([&] {
    return warn_child->logs().find("ready") != std::string::npos &&
           fail_child->logs().find("ready") != std::string::npos;
  })) << warn_child->logs()
      << fail_child->logs();
  ASSERT_EQ(count_fds(warn_child->pid()), 54u) << warn_child->logs();
  ASSERT_EQ(count_fds(fail_child->pid()), 64u) << fail_child->logs();

  start(process_probe("warn", "cmdline: ' fdholder-" + warn_tag + "$$'") +
        process_probe("fail", "cmdline: ' fdholder-" + fail_tag + "$$'"));
  const std::string warn_line = "[+]warn ok (warning: process " +
                                std::to_string(warn_child->pid()) +
                                ": 54/64 open fds (84.4% of the soft limit) is at or above the "
                                "warn threshold 80%)";
  const std::string fail_line = "[-]fail failed: process " + std::to_string(fail_child->pid()) +
                                ": 64/64 open fds (100.0% of the soft limit) is at or above the "
                                "fail threshold 95%";
  ASSERT_TRUE(eventually([&] {
    const std::string verbose = get("/health/ready?verbose");
    return verbose.find(warn_line) != std::string::npos &&
           verbose.find(fail_line) != std::string::npos;
  })) << warn_line
      << "\n"
      << fail_line << "\n"
      << diagnostics();
  EXPECT_EQ(client.get(sidecar->url("/health/ready")).status, 503);
  EXPECT_TRUE(health_shows("\"fds\":\"54/64\"")) << diagnostics();
  EXPECT_TRUE(health_shows("\"fds\":\"64/64\"")) << diagnostics();
  EXPECT_EQ(metric("covet_sidecar_app_process_open_fds", "warn"), 54);
  EXPECT_EQ(metric("covet_sidecar_app_process_max_fds", "warn"), 64);
  EXPECT_EQ(metric("covet_sidecar_app_process_open_fds", "fail"), 64);
  const std::string metrics = get("/metrics");
  EXPECT_NE(metrics.find("covet_sidecar_probe_failures_total{probe=\"fail\",reason=\"fds\"}"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("covet_sidecar_probe_state{probe=\"warn\",state=\"warning\"} 1"),
            std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace covet::testing
