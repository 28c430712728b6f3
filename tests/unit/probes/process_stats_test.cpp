#include "probes/process_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace covet::probes {
namespace {

std::string fixture(const std::string& relative) {
  std::ifstream in(std::string(COVET_FIXTURES_DIR) + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in) << relative;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// ---- /proc/<pid>/stat ----

TEST(ProcessStat, CommWithParenthesesAndSpaces) {
  auto stat = parse_process_stat(fixture("proc-process/100/stat"));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, 100);
  EXPECT_EQ(stat->comm, "my (weird) app");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->numbers.utime_ticks, 250u);
  EXPECT_EQ(stat->numbers.stime_ticks, 50u);
  EXPECT_EQ(stat->numbers.num_threads, 4u);
  EXPECT_EQ(stat->numbers.starttime_ticks, 5000u);
  EXPECT_EQ(stat->numbers.vsize_bytes, 268435456u);
  EXPECT_EQ(stat->numbers.rss_pages, 3000);
}

TEST(ProcessStat, CommThatLooksLikeFields) {
  // A process can call itself ") S 1 2 3": only the last ')' ends comm.
  auto stat = parse_process_stat(
      "42 () S 1 2 3) R 1 42 42 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 900 4096 2 0 0 0\n");
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, 42);
  EXPECT_EQ(stat->comm, ") S 1 2 3");
  EXPECT_EQ(stat->state, 'R');
  EXPECT_EQ(stat->numbers.utime_ticks, 7u);
  EXPECT_EQ(stat->numbers.starttime_ticks, 900u);
}

TEST(ProcessStat, OwnProcess) {
  FileContents file = read_small_file("/proc/self/stat");
  ASSERT_TRUE(file.ok()) << file.error;
  auto stat = parse_process_stat(file.contents);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->pid, ::getpid());
  EXPECT_EQ(stat->state, 'R');
  EXPECT_FALSE(is_exited_state(stat->state));
}

TEST(ProcessStat, Malformed) {
  EXPECT_FALSE(parse_process_stat(""));
  EXPECT_FALSE(parse_process_stat("100 (app S 1"));                                       // no ')'
  EXPECT_FALSE(parse_process_stat("100 app) S 1"));                                       // no '('
  EXPECT_FALSE(parse_process_stat(")( S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"));   // order
  EXPECT_FALSE(parse_process_stat("(x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"));  // no pid
  EXPECT_FALSE(parse_process_stat("0 (x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"));
  EXPECT_FALSE(parse_process_stat("-5 (x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"));
  EXPECT_FALSE(parse_process_stat("5 (x) SS 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1 1"));
  EXPECT_FALSE(parse_process_stat("5 (x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 1 1"));  // short
}

TEST(ProcessStat, ExitedStates) {
  auto zombie = parse_process_stat(fixture("proc-process/400/stat"));
  ASSERT_TRUE(zombie);
  EXPECT_EQ(zombie->state, 'Z');
  EXPECT_TRUE(is_exited_state('Z'));
  EXPECT_TRUE(is_exited_state('X'));
  for (char running : {'R', 'S', 'D', 'T', 't', 'I', 'W', 'P'}) {
    EXPECT_FALSE(is_exited_state(running)) << running;
  }
}

// ---- /proc/<pid>/status ----

TEST(ProcessStatusFile, Fixture) {
  ProcPidStatus status = parse_proc_pid_status(fixture("proc-process/100/status"));
  EXPECT_EQ(status.vm_rss_bytes, 12000u * 1024);
  EXPECT_EQ(status.vm_size_bytes, 262144u * 1024);
  EXPECT_EQ(status.threads, 4u);
}

TEST(ProcessStatusFile, MissingAndMalformed) {
  ProcPidStatus none = parse_proc_pid_status("Name:\tkworker\nState:\tI (idle)\n");
  EXPECT_FALSE(none.vm_rss_bytes);
  EXPECT_FALSE(none.vm_size_bytes);
  EXPECT_FALSE(none.threads);
  ProcPidStatus bad = parse_proc_pid_status("VmRSS:\tlots kB\nThreads:\t-1\nVmSize:\t1 MB\n");
  EXPECT_FALSE(bad.vm_rss_bytes);
  EXPECT_FALSE(bad.threads);
  EXPECT_FALSE(bad.vm_size_bytes);
}

TEST(ProcessStatusFile, OwnProcess) {
  FileContents file = read_small_file("/proc/self/status");
  ASSERT_TRUE(file.ok());
  ProcPidStatus status = parse_proc_pid_status(file.contents);
  ASSERT_TRUE(status.vm_rss_bytes);
  EXPECT_GT(*status.vm_rss_bytes, 0u);
  ASSERT_TRUE(status.threads);
  EXPECT_GE(*status.threads, 1u);
}

// ---- cmdline, cgroup, pid files ----

TEST(Cmdline, NulsBecomeSpaces) {
  EXPECT_EQ(cmdline_to_text(fixture("proc-process/100/cmdline")),
            "/usr/bin/python3 app.py --port 8000");
  EXPECT_EQ(cmdline_to_text(std::string("/bin/sleep\0"
                                        "1000\0",
                                        16)),
            "/bin/sleep 1000");
  EXPECT_EQ(cmdline_to_text(""), "");
  EXPECT_EQ(cmdline_to_text(std::string("\0\0", 2)), "");
  // A process that rewrote its argv into one string with spaces (nginx: "master process").
  EXPECT_EQ(cmdline_to_text("nginx: master process /usr/sbin/nginx"),
            "nginx: master process /usr/sbin/nginx");
}

TEST(CgroupMatch, V2ExactAndBelow) {
  const std::string v2 = fixture("proc-process/100/cgroup");
  EXPECT_TRUE(cgroup_file_contains(v2, "/system.slice/app.service"));
  EXPECT_TRUE(cgroup_file_contains(v2, "/system.slice/app.service/"));
  EXPECT_TRUE(cgroup_file_contains(v2, "/system.slice"));
  EXPECT_TRUE(cgroup_file_contains(v2, "/"));
  EXPECT_FALSE(cgroup_file_contains(v2, "/system.slice/app"));  // whole components only
  EXPECT_FALSE(cgroup_file_contains(v2, "/system.slice/app.service/workers"));
  EXPECT_FALSE(cgroup_file_contains(v2, "system.slice/app.service"));  // not absolute
  EXPECT_FALSE(cgroup_file_contains(v2, ""));
  EXPECT_TRUE(
      cgroup_file_contains(fixture("proc-process/200/cgroup"), "/system.slice/app.service"));
}

TEST(CgroupMatch, V1AnyLine) {
  const std::string v1 = fixture("proc-process/600/cgroup");
  EXPECT_TRUE(cgroup_file_contains(v1, "/other.service"));
  EXPECT_FALSE(cgroup_file_contains(v1, "/system.slice/app.service"));
  // A pod on a v1 node: the container's cgroup is below the pod's.
  EXPECT_TRUE(
      cgroup_file_contains("4:memory:/kubepods/burstable/pod1234/abcdef\n1:name=systemd:/kubepods/"
                           "burstable/pod1234/abcdef\n",
                           "/kubepods/burstable/pod1234"));
  EXPECT_FALSE(cgroup_file_contains("4:memory:/kubepods/burstable/pod12345/abcdef\n",
                                    "/kubepods/burstable/pod1234"));
  // A path with ':' in it is the rest of the line.
  EXPECT_TRUE(cgroup_file_contains("0::/a:b/c\n", "/a:b"));
  // Malformed lines match nothing.
  EXPECT_FALSE(cgroup_file_contains("/system.slice/app.service\n0:/x\n", "/system.slice"));
}

TEST(PidFile, Parse) {
  EXPECT_EQ(parse_pid_file("1234\n"), 1234);
  EXPECT_EQ(parse_pid_file("  77  "), 77);
  EXPECT_EQ(parse_pid_file("4194304"), 4194304);
  EXPECT_FALSE(parse_pid_file(""));
  EXPECT_FALSE(parse_pid_file("\n"));
  EXPECT_FALSE(parse_pid_file("0\n"));
  EXPECT_FALSE(parse_pid_file("-1\n"));
  EXPECT_FALSE(parse_pid_file("12 34\n"));
  EXPECT_FALSE(parse_pid_file("1234abc"));
  EXPECT_FALSE(parse_pid_file("0x10"));
  EXPECT_FALSE(parse_pid_file("99999999999"));
}

// ---- selection ----

TEST(SelectMainProcess, OldestWinsThenLowestPid) {
  EXPECT_FALSE(select_main_process({}));
  std::vector<ProcessIdentity> candidates{{300, 900}, {200, 500}, {100, 700}};
  EXPECT_EQ(select_main_process(candidates), (ProcessIdentity{200, 500}));
  // A tie on start time (forked within one tick): the lower PID.
  candidates = {{310, 500}, {305, 500}, {320, 800}};
  EXPECT_EQ(select_main_process(candidates), (ProcessIdentity{305, 500}));
  // The oldest is not the lowest PID after PID wrap-around.
  candidates = {{5, 9000}, {32000, 100}};
  EXPECT_EQ(select_main_process(candidates), (ProcessIdentity{32000, 100}));
}

// ---- restarts ----

TEST(RestartTracker, FirstCheckIsNoRestart) {
  RestartTracker tracker;
  EXPECT_EQ(tracker.observe({100, 5000}), 0u);
  EXPECT_EQ(tracker.observe({100, 5000}), 0u);
  EXPECT_EQ(tracker.restarts(), 0u);
}

TEST(RestartTracker, PidChangeIsARestart) {
  RestartTracker tracker;
  tracker.observe({100, 5000});
  EXPECT_EQ(tracker.observe({101, 7000}), 1u);
  EXPECT_EQ(tracker.observe({101, 7000}), 1u);
  EXPECT_EQ(tracker.observe({102, 9000}), 2u);
}

TEST(RestartTracker, SamePidNewStartTimeIsARestart) {
  // The PID was reused by the new process (a container's PID 1 always is).
  RestartTracker tracker;
  tracker.observe({1, 5000});
  EXPECT_EQ(tracker.observe({1, 5200}), 1u);
  EXPECT_EQ(tracker.observe({1, 5200}), 1u);
}

// ---- fd thresholds ----

TEST(FdLevel, Thresholds) {
  EXPECT_EQ(fd_level(12, 1024, 80, 95), FdLevel::ok);
  EXPECT_EQ(fd_level(819, 1024, 80, 95), FdLevel::ok);    // 79.98%
  EXPECT_EQ(fd_level(820, 1024, 80, 95), FdLevel::warn);  // 80.08%
  EXPECT_EQ(fd_level(972, 1024, 80, 95), FdLevel::warn);  // 94.9%
  EXPECT_EQ(fd_level(973, 1024, 80, 95), FdLevel::fail);  // 95.02%
  EXPECT_EQ(fd_level(80, 100, 80, 95), FdLevel::warn);    // at the threshold
  EXPECT_EQ(fd_level(95, 100, 80, 95), FdLevel::fail);
  EXPECT_EQ(fd_level(64, 64, 80, 95), FdLevel::fail);
  EXPECT_EQ(fd_level(70, 64, 80, 95), FdLevel::fail);  // above a lowered limit
  EXPECT_EQ(fd_level(99, 100, 80, 100), FdLevel::warn);
  EXPECT_EQ(fd_level(0, 0, 80, 95), FdLevel::ok);
  EXPECT_EQ(fd_level(1, 0, 80, 95), FdLevel::fail);
}

}  // namespace
}  // namespace covet::probes
