// The process probe against the fixture tree tests/fixtures/proc-process:
//   100  main app process, "my (weird) app", started at tick 5000, 12 fds of a soft limit
//        of 16, cgroup /system.slice/app.service
//   200  a worker of it, started later, no status file, cgroup .../app.service/workers
//   300  "self" (the sidecar): matches everything and is the oldest, never selected
//   400  a zombie in the app's cgroup, oldest of all
//   500  a kernel thread (empty command line)
//   600  another service, cgroup v1 lines only
// btime is 1700000000.

#include "probes/process.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <uv.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace covet::probes {
namespace {

const std::string kProcRoot = std::string(COVET_FIXTURES_DIR) + "/proc-process";

config::ProcessProbeConfig by_cmdline(const std::string& pattern) {
  config::ProcessProbeConfig config;
  config.cmdline = pattern;
  config.proc_root = kProcRoot;
  return config;
}

config::ProcessProbeConfig by_cgroup(const std::string& cgroup) {
  config::ProcessProbeConfig config;
  config.cgroup = cgroup;
  config.proc_root = kProcRoot;
  return config;
}

std::optional<std::string> detail(const ProbeResult& result, const std::string& key) {
  for (const auto& [name, value] : result.detail) {
    if (name == key) return value;
  }
  return std::nullopt;
}

const Reading* reading(const ProbeResult& result, const std::string& suffix) {
  for (const Reading& r : result.readings) {
    if (r.name == "covet_sidecar_app_process_" + suffix) return &r;
  }
  return nullptr;
}

std::optional<double> value(const ProbeResult& result, const std::string& suffix) {
  const Reading* r = reading(result, suffix);
  return r ? std::optional<double>(r->value) : std::nullopt;
}

double ticks() { return static_cast<double>(::sysconf(_SC_CLK_TCK)); }

// A pid file in a fresh temp directory, removed with it.
class TempPidFile {
 public:
  explicit TempPidFile(const std::string& contents) {
    char tmpl[] = "/tmp/covet-pidfile-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/app.pid";
    std::ofstream(path_) << contents;
  }
  ~TempPidFile() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string path_;
};

config::ProcessProbeConfig by_pid_file(const std::string& path) {
  config::ProcessProbeConfig config;
  config.pid_file = path;
  config.proc_root = kProcRoot;
  return config;
}

TEST(ProcessProbe, CmdlineSelectsTheOldestMatch) {
  ProcessProbe probe(nullptr, by_cmdline("python3 app\\.py"));
  ProbeResult result = probe.check_now();
  EXPECT_EQ(result.status, Status::passing) << result.error;
  EXPECT_TRUE(result.reason.empty());
  // 100 and 200 match; 300 (ourselves) matches too but is never counted.
  EXPECT_EQ(detail(result, "pid"), "100");
  EXPECT_EQ(detail(result, "count"), "2");
  EXPECT_EQ(detail(result, "fds"), "12/16");
  EXPECT_EQ(detail(result, "rss"), std::to_string(12000 * 1024));
  EXPECT_EQ(detail(result, "restarts"), "0");

  EXPECT_EQ(value(result, "up"), 1);
  EXPECT_EQ(value(result, "count"), 2);
  EXPECT_TRUE(reading(result, "count")->untyped);
  EXPECT_DOUBLE_EQ(*value(result, "cpu_seconds_total"), 300 / ticks());
  EXPECT_TRUE(reading(result, "cpu_seconds_total")->counter);
  EXPECT_EQ(value(result, "resident_memory_bytes"), 12000.0 * 1024);
  EXPECT_EQ(value(result, "virtual_memory_bytes"), 262144.0 * 1024);
  EXPECT_EQ(value(result, "open_fds"), 12);
  EXPECT_EQ(value(result, "max_fds"), 16);
  EXPECT_EQ(value(result, "threads"), 4);
  EXPECT_DOUBLE_EQ(*value(result, "start_time_seconds"), 1700000000 + 5000 / ticks());
  EXPECT_EQ(value(result, "restarts_total"), 0);
  EXPECT_TRUE(reading(result, "restarts_total")->counter);
  EXPECT_TRUE(result.notes.empty()) << result.notes.front();
}

TEST(ProcessProbe, CmdlineSelfAndKernelThreadsNeverMatch) {
  // ".*" matches every non-empty command line: 100, 200 and 600; not 300 (self), not the
  // zombie or the kernel thread (empty command lines).
  ProcessProbe probe(nullptr, by_cmdline(".*"));
  ProbeResult result = probe.check_now();
  EXPECT_EQ(detail(result, "count"), "3");
  EXPECT_EQ(detail(result, "pid"), "100");
  ProcessProbe sidecar(nullptr, by_cmdline("covet-sidecar"));
  EXPECT_EQ(sidecar.check_now().reason, "not_found");
}

TEST(ProcessProbe, StatFallbackWithoutStatus) {
  ProcessProbe probe(nullptr, by_cmdline("--worker"));
  ProbeResult result = probe.check_now();
  EXPECT_EQ(result.status, Status::passing) << result.error;
  EXPECT_EQ(detail(result, "pid"), "200");
  EXPECT_EQ(value(result, "resident_memory_bytes"),
            500.0 * static_cast<double>(::sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(value(result, "virtual_memory_bytes"), 134217728);
  EXPECT_EQ(value(result, "threads"), 2);
  EXPECT_EQ(value(result, "open_fds"), 3);
  EXPECT_EQ(value(result, "max_fds"), 1024);
}

TEST(ProcessProbe, CgroupSelectsProcessesInAndBelowIt) {
  ProcessProbe probe(nullptr, by_cgroup("/system.slice/app.service"));
  ProbeResult result = probe.check_now();
  EXPECT_EQ(result.status, Status::passing) << result.error;
  // 100 and 200 (in a child cgroup); not 300 (self) nor the zombie 400.
  EXPECT_EQ(detail(result, "count"), "2");
  EXPECT_EQ(detail(result, "pid"), "100");

  ProcessProbe workers(nullptr, by_cgroup("/system.slice/app.service/workers"));
  EXPECT_EQ(detail(workers.check_now(), "pid"), "200");
}

TEST(ProcessProbe, CgroupV1Lines) {
  ProcessProbe probe(nullptr, by_cgroup("/other.service"));
  ProbeResult result = probe.check_now();
  EXPECT_EQ(result.status, Status::passing) << result.error;
  EXPECT_EQ(detail(result, "pid"), "600");
  EXPECT_EQ(detail(result, "count"), "1");
  // No limits file: no max_fds, no fd threshold, and a note saying why.
  EXPECT_FALSE(value(result, "max_fds"));
  EXPECT_EQ(detail(result, "fds"), "1/?");
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_NE(result.notes[0].find("max fds: read " + kProcRoot + "/600/limits: no such file"),
            std::string::npos)
      << result.notes[0];
}

TEST(ProcessProbe, NothingMatchesIsNotFound) {
  ProcessProbe probe(nullptr, by_cmdline("^/usr/bin/ruby"));
  ProbeResult result = probe.check_now();
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "not_found");
  EXPECT_EQ(result.error, "no process matches cmdline /^/usr/bin/ruby/");
  EXPECT_EQ(value(result, "up"), 0);
  EXPECT_EQ(value(result, "count"), 0);
  EXPECT_EQ(value(result, "restarts_total"), 0);
  EXPECT_FALSE(value(result, "open_fds"));
  EXPECT_FALSE(detail(result, "pid"));

  ProcessProbe cgroup(nullptr, by_cgroup("/system.slice/gone.service"));
  EXPECT_EQ(cgroup.check_now().error, "no process in cgroup /system.slice/gone.service");
}

TEST(ProcessProbe, MissingProcRootIsAnIoError) {
  config::ProcessProbeConfig config = by_cmdline("x");
  config.proc_root = "/nonexistent/proc";
  ProcessProbe probe(nullptr, config);
  ProbeResult result = probe.check_now();
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "io_error");
  EXPECT_EQ(result.error, "list /nonexistent/proc: no such file or directory");
}

TEST(ProcessProbe, PidFile) {
  TempPidFile pid_file("100\n");
  ProcessProbe probe(nullptr, by_pid_file(pid_file.path()));
  ProbeResult result = probe.check_now();
  EXPECT_EQ(result.status, Status::passing) << result.error;
  EXPECT_EQ(detail(result, "pid"), "100");
  EXPECT_EQ(detail(result, "count"), "1");
  // A pid file names its process even when that is not the oldest match.
  TempPidFile worker("200");
  EXPECT_EQ(detail(ProcessProbe(nullptr, by_pid_file(worker.path())).check_now(), "pid"), "200");
}

TEST(ProcessProbe, PidFileProblemsAreNotFound) {
  const auto check = [](const std::string& path) {
    return ProcessProbe(nullptr, by_pid_file(path)).check_now();
  };
  TempPidFile dir("1");
  const std::string missing = dir.dir() + "/missing.pid";
  ProbeResult result = check(missing);
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "not_found");
  EXPECT_EQ(result.error, "pid_file: read " + missing + ": no such file or directory");
  EXPECT_EQ(value(result, "up"), 0);
  EXPECT_EQ(value(result, "count"), 0);

  TempPidFile garbage("app\n");
  result = check(garbage.path());
  EXPECT_EQ(result.reason, "not_found");
  EXPECT_EQ(result.error, "pid_file " + garbage.path() + ": \"app\" is not a process ID");

  TempPidFile empty("");
  EXPECT_EQ(check(empty.path()).error, "pid_file " + empty.path() + ": \"\" is not a process ID");

  TempPidFile dead("999\n");
  result = check(dead.path());
  EXPECT_EQ(result.reason, "not_found");
  EXPECT_EQ(result.error, "pid_file " + dead.path() + ": process 999 is not running");

  TempPidFile zombie("400\n");
  result = check(zombie.path());
  EXPECT_EQ(result.reason, "not_found");
  EXPECT_EQ(result.error,
            "pid_file " + zombie.path() +
                ": process 400 is not running (exited, not yet reaped by its parent)");

  // A directory where the file should be.
  result = check(dir.dir());
  EXPECT_EQ(result.reason, "not_found");
  EXPECT_EQ(result.error, "pid_file: read " + dir.dir() + ": is a directory");
}

TEST(ProcessProbe, FdThresholds) {
  // 12 of 16 open: 75%.
  config::ProcessProbeConfig config = by_cmdline("--port 8000");
  ProbeResult passing = ProcessProbe(nullptr, config).check_now();
  EXPECT_EQ(passing.status, Status::passing);

  config.fd_warn_percent = 75;
  ProbeResult warning = ProcessProbe(nullptr, config).check_now();
  EXPECT_EQ(warning.status, Status::warning);
  EXPECT_EQ(warning.reason, "fds");
  EXPECT_EQ(warning.error,
            "process 100: 12/16 open fds (75.0% of the soft limit) is at or above the warn "
            "threshold 75%");

  config.fd_warn_percent = 50;
  config.fd_fail_percent = 75;
  ProbeResult failing = ProcessProbe(nullptr, config).check_now();
  EXPECT_EQ(failing.status, Status::failing);
  EXPECT_EQ(failing.reason, "fds");
  EXPECT_EQ(failing.error,
            "process 100: 12/16 open fds (75.0% of the soft limit) is at or above the fail "
            "threshold 75%");
  // The readings are there whatever the status.
  EXPECT_EQ(value(failing, "up"), 1);
  EXPECT_EQ(value(failing, "open_fds"), 12);
}

// Restart counting happens in evaluate(), on snapshots: the probe keeps the last identity.
ProcessSnapshot found(pid_t pid, std::uint64_t start_ticks) {
  ProcessSnapshot snapshot;
  snapshot.count = 1;
  snapshot.main = MainProcess{};
  snapshot.main->identity = ProcessIdentity{pid, start_ticks};
  return snapshot;
}

ProcessSnapshot not_found() {
  ProcessSnapshot snapshot;
  snapshot.reason = "not_found";
  snapshot.error = "no process matches cmdline /app/";
  return snapshot;
}

TEST(ProcessProbe, RestartsCountPidChanges) {
  ProcessProbe probe(nullptr, by_cmdline("app"));
  EXPECT_EQ(detail(probe.evaluate(found(100, 5000)), "restarts"), "0");
  EXPECT_EQ(detail(probe.evaluate(found(100, 5000)), "restarts"), "0");
  ProbeResult restarted = probe.evaluate(found(101, 6000));
  EXPECT_EQ(detail(restarted, "restarts"), "1");
  EXPECT_EQ(detail(restarted, "pid"), "101");
  EXPECT_EQ(value(restarted, "restarts_total"), 1);
  EXPECT_EQ(restarted.status, Status::passing);
}

TEST(ProcessProbe, RestartsCountSamePidWithNewStartTime) {
  ProcessProbe probe(nullptr, by_pid_file("/run/app.pid"));
  probe.evaluate(found(1, 5000));
  EXPECT_EQ(value(probe.evaluate(found(1, 5100)), "restarts_total"), 1);
  EXPECT_EQ(value(probe.evaluate(found(1, 5100)), "restarts_total"), 1);
}

TEST(ProcessProbe, RestartsSurviveChecksThatFoundNothing) {
  ProcessProbe probe(nullptr, by_cmdline("app"));
  probe.evaluate(found(100, 5000));
  ProbeResult gone = probe.evaluate(not_found());
  EXPECT_EQ(gone.status, Status::failing);
  EXPECT_EQ(gone.reason, "not_found");
  EXPECT_EQ(value(gone, "restarts_total"), 0);
  probe.evaluate(not_found());
  // Gone, then back as a new process: one restart, however many empty checks in between.
  EXPECT_EQ(value(probe.evaluate(found(130, 9000)), "restarts_total"), 1);
  EXPECT_EQ(value(probe.evaluate(not_found()), "restarts_total"), 1);
  EXPECT_EQ(probe.restarts(), 1u);
  // Nothing found before the first sighting is no restart either.
  ProcessProbe late(nullptr, by_cmdline("app"));
  late.evaluate(not_found());
  EXPECT_EQ(value(late.evaluate(found(7, 10)), "restarts_total"), 0);
}

// Through libuv's thread pool, as the scheduler runs it: one completion per check, on the
// loop thread; a cancelled check never completes.
TEST(ProcessProbe, RunsOnTheThreadPool) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  {
    ProcessProbe probe(&loop, by_cmdline("python3 app\\.py"));
    int completions = 0;
    ProbeResult last;
    probe.start([&](ProbeResult result) {
      ++completions;
      last = std::move(result);
    });
    EXPECT_EQ(completions, 0);  // not inline: the reads happen on the pool
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(completions, 1);
    EXPECT_EQ(last.status, Status::passing) << last.error;
    EXPECT_EQ(detail(last, "pid"), "100");

    probe.start([&](ProbeResult) { ++completions; });
    probe.cancel();
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(completions, 1);

    // Destroyed with a check in flight: the job finishes without it.
    auto doomed = std::make_unique<ProcessProbe>(&loop, by_cmdline("app"));
    doomed->start([&](ProbeResult) { ++completions; });
    doomed.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(completions, 1);
  }
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace covet::probes
