#include "probes/procfs.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace covet::probes {
namespace {

std::string fixture(const std::string& relative_path) {
  FileContents file = read_small_file(std::string(COVET_FIXTURES_DIR) + "/" + relative_path);
  EXPECT_TRUE(file.ok()) << file.error;
  return file.contents;
}

// ---- read_small_file ------------------------------------------------------------------

TEST(ReadSmallFile, ReadsProcFilesThatReportSizeZero) {
  FileContents file = read_small_file("/proc/self/status");
  ASSERT_TRUE(file.ok()) << file.error;
  EXPECT_NE(file.contents.find("VmRSS:"), std::string::npos);
}

TEST(ReadSmallFile, MissingFileIsAnErrorWithPathAndReason) {
  FileContents file = read_small_file("/nonexistent/covet/file");
  EXPECT_FALSE(file.ok());
  EXPECT_EQ(file.error_code, ENOENT);
  EXPECT_EQ(file.error, "read /nonexistent/covet/file: no such file or directory");
  EXPECT_TRUE(file.contents.empty());
}

TEST(ReadSmallFile, FileOverTheCapIsAnErrorNotATruncation) {
  std::string path = std::string(COVET_FIXTURES_DIR) + "/proc/meminfo";
  FileContents file = read_small_file(path, 10);
  EXPECT_FALSE(file.ok());
  EXPECT_EQ(file.error, "read " + path + ": larger than 10 bytes");
  EXPECT_TRUE(file.contents.empty());
}

TEST(ReadSmallFile, DirectoryIsAnError) {
  FileContents file = read_small_file("/proc/self");
  EXPECT_FALSE(file.ok());
  EXPECT_EQ(file.error, "read /proc/self: is a directory");
}

TEST(ErrnoMessage, LowerCaseForUseAfterAColon) {
  EXPECT_EQ(errno_message(EROFS), "read-only file system");
  EXPECT_EQ(errno_message(EACCES), "permission denied");
}

TEST(ReadBootTime, FromFixtureAndFromThisMachine) {
  EXPECT_EQ(read_boot_time_seconds(std::string(COVET_FIXTURES_DIR) + "/proc"), 1795549268u);
  auto boot_time = read_boot_time_seconds("/proc");
  ASSERT_TRUE(boot_time);
  EXPECT_GT(*boot_time, 1'000'000'000u);
  EXPECT_FALSE(read_boot_time_seconds("/nonexistent"));
}

// ---- detail helpers -------------------------------------------------------------------

TEST(ParseNumbers, StrictWholeTokenNoSignNoOverflow) {
  EXPECT_EQ(detail::parse_u64("0"), 0u);
  EXPECT_EQ(detail::parse_u64("18446744073709551615"), 18446744073709551615u);
  EXPECT_FALSE(detail::parse_u64("18446744073709551616"));
  EXPECT_FALSE(detail::parse_u64(""));
  EXPECT_FALSE(detail::parse_u64("-1"));
  EXPECT_FALSE(detail::parse_u64("+1"));
  EXPECT_FALSE(detail::parse_u64("12a"));
  EXPECT_FALSE(detail::parse_u64(" 12"));
  EXPECT_EQ(detail::parse_i64("-5"), -5);
  EXPECT_FALSE(detail::parse_i64("--5"));
  EXPECT_EQ(detail::parse_double("1.53"), 1.53);
  EXPECT_FALSE(detail::parse_double("inf"));
  EXPECT_FALSE(detail::parse_double("nan"));
  EXPECT_FALSE(detail::parse_double("1e5"));
  EXPECT_FALSE(detail::parse_double("1.5x"));
}

TEST(ParseKibibytes, UnitsAndOverflow) {
  EXPECT_EQ(detail::parse_kibibytes_value("   2116 kB"), 2116u * 1024);
  EXPECT_EQ(detail::parse_kibibytes_value(" 0"), 0u);
  EXPECT_FALSE(detail::parse_kibibytes_value("2116 MB"));
  EXPECT_FALSE(detail::parse_kibibytes_value("2116 kB extra"));
  EXPECT_FALSE(detail::parse_kibibytes_value("18446744073709551615 kB"));
  EXPECT_FALSE(detail::parse_kibibytes_value(""));
}

TEST(Tokenizer, LinesAndTokens) {
  std::string_view text = "a b\n\nc";
  EXPECT_EQ(detail::next_line(text), "a b");
  EXPECT_EQ(detail::next_line(text), "");
  EXPECT_EQ(detail::next_line(text), "c");
  EXPECT_TRUE(text.empty());
  EXPECT_EQ(detail::next_line(text), "");

  std::string_view tokens = "  one\ttwo  ";
  EXPECT_EQ(detail::next_token(tokens), "one");
  EXPECT_EQ(detail::next_token(tokens), "two");
  EXPECT_EQ(detail::next_token(tokens), "");
  EXPECT_EQ(detail::trim(" \t x y \n"), "x y");
  EXPECT_EQ(detail::trim("   "), "");
}

// ---- meminfo --------------------------------------------------------------------------

TEST(ParseMeminfo, Fixture) {
  auto meminfo = parse_meminfo(fixture("proc/meminfo"));
  ASSERT_TRUE(meminfo);
  EXPECT_EQ(meminfo->total_bytes, 16000000ull * 1024);
  EXPECT_EQ(meminfo->available_bytes, 12000000ull * 1024);
}

TEST(ParseMeminfo, ThisMachine) {
  FileContents file = read_small_file("/proc/meminfo");
  ASSERT_TRUE(file.ok()) << file.error;
  auto meminfo = parse_meminfo(file.contents);
  ASSERT_TRUE(meminfo);
  EXPECT_GT(meminfo->total_bytes, 0u);
  EXPECT_LE(meminfo->available_bytes, meminfo->total_bytes);
}

TEST(ParseMeminfo, Malformed) {
  EXPECT_FALSE(parse_meminfo(""));
  EXPECT_FALSE(parse_meminfo("MemTotal:       16000000 kB\n"));  // no MemAvailable
  EXPECT_FALSE(parse_meminfo("MemAvailable:   16000000 kB\n"));
  EXPECT_FALSE(parse_meminfo("MemTotal: lots kB\nMemAvailable: 1 kB\n"));
  EXPECT_FALSE(parse_meminfo("MemTotal: 1 kB\nMemAvailable: -1 kB\n"));
  EXPECT_FALSE(parse_meminfo("MemTotal: 1 kB\nMemAvail"));            // truncated
  EXPECT_FALSE(parse_meminfo("MemTotal 1 kB\nMemAvailable 1 kB\n"));  // no colons
  auto no_trailing_newline = parse_meminfo("MemTotal: 2 kB\nMemAvailable: 1 kB");
  ASSERT_TRUE(no_trailing_newline);
  EXPECT_EQ(no_trailing_newline->available_bytes, 1024u);
}

// ---- mountinfo ------------------------------------------------------------------------

TEST(FindMount, LongestComponentPrefixWins) {
  std::string mountinfo = fixture("proc/self/mountinfo");
  auto app = find_mount(mountinfo, "/var/lib/app/data");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->mount_point, "/var/lib/app");
  EXPECT_EQ(app->fstype, "ext4");
  EXPECT_EQ(app->source, "/dev/sdb1");

  auto var = find_mount(mountinfo, "/var/log");
  ASSERT_TRUE(var);
  EXPECT_EQ(var->mount_point, "/var");
  EXPECT_EQ(var->fstype, "xfs");

  // "/variable" is its own mount, and "/var" must not claim "/variable2".
  EXPECT_EQ(find_mount(mountinfo, "/variable")->mount_point, "/variable");
  EXPECT_EQ(find_mount(mountinfo, "/variable2/x")->mount_point, "/");
  EXPECT_EQ(find_mount(mountinfo, "/var")->mount_point, "/var");
  EXPECT_EQ(find_mount(mountinfo, "/")->mount_point, "/");
  EXPECT_EQ(find_mount(mountinfo, "/etc/passwd")->source, "/dev/sda1");
  EXPECT_EQ(find_mount(mountinfo, "/srv/nfs/x")->source, "fileserver:/export/data");
}

TEST(FindMount, EscapedSpaceInMountPoint) {
  auto mount = find_mount(fixture("proc/self/mountinfo"), "/mnt/my disk/photos");
  ASSERT_TRUE(mount);
  EXPECT_EQ(mount->mount_point, "/mnt/my disk");
  EXPECT_EQ(mount->source, "/dev/sdc1");
  EXPECT_EQ(find_mount(fixture("proc/self/mountinfo"), "/mnt/my")->mount_point, "/");
}

TEST(FindMount, LaterMountOnTheSameMountPointIsOnTop) {
  auto mount = find_mount(fixture("proc/self/mountinfo"), "/tmp/x");
  ASSERT_TRUE(mount);
  EXPECT_EQ(mount->source, "tmpfs-on-top");
}

TEST(FindMount, ThisMachineRoot) {
  FileContents file = read_small_file("/proc/self/mountinfo", 4 * 1024 * 1024);
  ASSERT_TRUE(file.ok()) << file.error;
  auto mount = find_mount(file.contents, "/");
  ASSERT_TRUE(mount);
  EXPECT_EQ(mount->mount_point, "/");
  EXPECT_FALSE(mount->fstype.empty());
}

TEST(FindMount, Malformed) {
  EXPECT_FALSE(find_mount("", "/"));
  EXPECT_FALSE(find_mount("22 1 8:1 / / rw,relatime shared:1", "/"));         // no separator
  EXPECT_FALSE(find_mount("22 1 8:1 / / rw,relatime shared:1 - ext4", "/"));  // no source
  EXPECT_FALSE(find_mount("22 1 8:1 /", "/"));                                // truncated
  EXPECT_FALSE(find_mount("22 1 8:1 / / rw - ext4 /dev/sda1 rw", "relative/path"));
  // A garbage line does not hide a good one.
  auto mount = find_mount("garbage\n\n22 1 8:1 / / rw - ext4 /dev/sda1 rw\n- - -\n", "/x");
  ASSERT_TRUE(mount);
  EXPECT_EQ(mount->source, "/dev/sda1");
}

TEST(UnescapeMountinfoField, OctalEscapes) {
  EXPECT_EQ(unescape_mountinfo_field("/mnt/a\\040b"), "/mnt/a b");
  EXPECT_EQ(unescape_mountinfo_field("\\011\\012\\134"), "\t\n\\");
  EXPECT_EQ(unescape_mountinfo_field("a\\04"), "a\\04");    // truncated escape kept
  EXPECT_EQ(unescape_mountinfo_field("a\\089"), "a\\089");  // not octal
  EXPECT_EQ(unescape_mountinfo_field("a\\777"), "a\\777");  // not a byte
  EXPECT_EQ(unescape_mountinfo_field("\\"), "\\");
  EXPECT_EQ(unescape_mountinfo_field(""), "");
}

// ---- /proc/<pid>/cgroup ---------------------------------------------------------------

TEST(ParseProcCgroup, HybridV1Fixture) {
  ProcCgroup cgroup = parse_proc_cgroup(fixture("proc/self/cgroup"));
  EXPECT_EQ(cgroup.v1_memory_path, "/kubepods/burstable/pod1234/abcd");
  EXPECT_EQ(cgroup.v2_path, "/kubepods/burstable/pod1234/abcd");
}

TEST(ParseProcCgroup, V2Fixture) {
  ProcCgroup cgroup = parse_proc_cgroup(fixture("proc-cgroup2/self/cgroup"));
  EXPECT_FALSE(cgroup.v1_memory_path);
  EXPECT_EQ(cgroup.v2_path,
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
            "cri-containerd-abcd.scope");
}

TEST(ParseProcCgroup, ControllerListsAndOddPaths) {
  ProcCgroup cgroup = parse_proc_cgroup("5:cpu,memory:/a:b\n0::/\n");
  EXPECT_EQ(cgroup.v1_memory_path, "/a:b");
  EXPECT_EQ(cgroup.v2_path, "/");
  // "memory" must be a whole controller name.
  EXPECT_FALSE(parse_proc_cgroup("5:memoryx,xmemory:/a\n").v1_memory_path);
  EXPECT_FALSE(parse_proc_cgroup("1:name=memory:/a\n").v1_memory_path);
}

TEST(ParseProcCgroup, Malformed) {
  ProcCgroup empty = parse_proc_cgroup("");
  EXPECT_FALSE(empty.v1_memory_path);
  EXPECT_FALSE(empty.v2_path);
  EXPECT_FALSE(parse_proc_cgroup("0:").v2_path);
  EXPECT_FALSE(parse_proc_cgroup("0::").v2_path);  // no path
  EXPECT_FALSE(parse_proc_cgroup("4:memory").v1_memory_path);
  EXPECT_FALSE(parse_proc_cgroup("4:memory:relative").v1_memory_path);
  EXPECT_FALSE(parse_proc_cgroup("1::/not-v2\n").v2_path);
}

// ---- cgroup memory files --------------------------------------------------------------

TEST(ParseCgroupFiles, SingleNumbers) {
  EXPECT_EQ(parse_single_u64("436207616\n"), 436207616u);
  EXPECT_FALSE(parse_single_u64(""));
  EXPECT_FALSE(parse_single_u64("\n"));
  EXPECT_FALSE(parse_single_u64("12 34\n"));
  EXPECT_FALSE(parse_single_u64("max\n"));
}

TEST(ParseCgroupFiles, V2MemoryMax) {
  auto unlimited = parse_cgroup_v2_memory_max("max\n");
  ASSERT_TRUE(unlimited);
  EXPECT_TRUE(unlimited->unlimited);
  auto limit = parse_cgroup_v2_memory_max("536870912\n");
  ASSERT_TRUE(limit);
  EXPECT_FALSE(limit->unlimited);
  EXPECT_EQ(limit->value, 536870912u);
  EXPECT_FALSE(parse_cgroup_v2_memory_max("maximum\n"));
  EXPECT_FALSE(parse_cgroup_v2_memory_max(""));
}

TEST(ParseCgroupFiles, V1LimitHugeMeansUnlimited) {
  auto page_counter_max = parse_cgroup_v1_memory_limit("9223372036854771712\n");
  ASSERT_TRUE(page_counter_max);
  EXPECT_TRUE(page_counter_max->unlimited);
  auto at_threshold = parse_cgroup_v1_memory_limit(std::to_string(kCgroupV1UnlimitedAtLeast));
  ASSERT_TRUE(at_threshold);
  EXPECT_TRUE(at_threshold->unlimited);
  auto just_below =
      parse_cgroup_v1_memory_limit(std::to_string(kCgroupV1UnlimitedAtLeast - 1) + "\n");
  ASSERT_TRUE(just_below);
  EXPECT_FALSE(just_below->unlimited);
  EXPECT_EQ(parse_cgroup_v1_memory_limit("1073741824\n")->value, 1073741824u);
  EXPECT_FALSE(parse_cgroup_v1_memory_limit("-1\n"));
  EXPECT_FALSE(parse_cgroup_v1_memory_limit("max\n"));
}

TEST(ParseFlatKeyed, MemoryStatEventsOomControl) {
  std::string v2 =
      "cgroup-v2/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod1234.slice/cri-containerd-abcd.scope/";
  EXPECT_EQ(parse_flat_keyed_u64(fixture(v2 + "memory.stat"), "inactive_file"), 33554432u);
  EXPECT_EQ(parse_flat_keyed_u64(fixture(v2 + "memory.events"), "oom_kill"), 3u);
  std::string v1 = "cgroup-v1/memory/kubepods/burstable/pod1234/abcd/";
  EXPECT_EQ(parse_flat_keyed_u64(fixture(v1 + "memory.stat"), "total_inactive_file"), 104857600u);
  EXPECT_EQ(parse_flat_keyed_u64(fixture(v1 + "memory.oom_control"), "oom_kill"), 2u);
}

TEST(ParseFlatKeyed, WholeKeysAndMalformedValues) {
  // "oom_kill" must not match "oom_kill_disable"; "inactive_file" not "total_inactive_file".
  EXPECT_FALSE(parse_flat_keyed_u64("oom_kill_disable 0\nunder_oom 0\n", "oom_kill"));
  EXPECT_EQ(parse_flat_keyed_u64("total_inactive_file 5\ninactive_file 7\n", "inactive_file"), 7u);
  EXPECT_FALSE(parse_flat_keyed_u64("", "oom_kill"));
  EXPECT_FALSE(parse_flat_keyed_u64("oom_kill\n", "oom_kill"));
  EXPECT_FALSE(parse_flat_keyed_u64("oom_kill x\n", "oom_kill"));
  EXPECT_FALSE(parse_flat_keyed_u64("oom_kill 1 2\n", "oom_kill"));
  EXPECT_FALSE(parse_flat_keyed_u64("oom_kill -1\n", "oom_kill"));
  EXPECT_EQ(parse_flat_keyed_u64("oom_kill 4", "oom_kill"), 4u);  // no trailing newline
}

// ---- PSI ------------------------------------------------------------------------------

TEST(ParsePressure, Fixture) {
  auto pressure = parse_pressure(fixture("cgroup-v2-max/memory.pressure"));
  ASSERT_TRUE(pressure);
  ASSERT_TRUE(pressure->some);
  ASSERT_TRUE(pressure->full);
  EXPECT_DOUBLE_EQ(pressure->some->avg10, 1.53);
  EXPECT_DOUBLE_EQ(pressure->some->avg60, 0.80);
  EXPECT_DOUBLE_EQ(pressure->some->avg300, 0.20);
  EXPECT_EQ(pressure->some->total_microseconds, 1234567u);
  EXPECT_EQ(pressure->full->total_microseconds, 234567u);
}

TEST(ParsePressure, ThisMachineWhenPresent) {
  FileContents file = read_small_file("/proc/pressure/memory");
  if (!file.ok()) GTEST_SKIP() << file.error;
  auto pressure = parse_pressure(file.contents);
  ASSERT_TRUE(pressure);
  EXPECT_TRUE(pressure->some);
}

TEST(ParsePressure, Malformed) {
  EXPECT_FALSE(parse_pressure(""));
  EXPECT_FALSE(parse_pressure("some\n"));
  EXPECT_FALSE(parse_pressure("some avg10=1.00 avg60=1.00 avg300=1.00\n"));  // no total
  EXPECT_FALSE(parse_pressure("some avg10=x avg60=1.00 avg300=1.00 total=1\n"));
  EXPECT_FALSE(parse_pressure("some avg10=1 avg60=1 avg300=1 total=-1\n"));
  EXPECT_FALSE(parse_pressure("some avg10 avg60=1 avg300=1 total=1\n"));
  EXPECT_FALSE(parse_pressure("other avg10=1 avg60=1 avg300=1 total=1\n"));
  // One good line is enough; an unknown field is skipped.
  auto only_full = parse_pressure("some garbage\nfull avg10=1 avg60=2 avg300=3 total=4 new=5");
  ASSERT_TRUE(only_full);
  EXPECT_FALSE(only_full->some);
  ASSERT_TRUE(only_full->full);
  EXPECT_EQ(only_full->full->total_microseconds, 4u);
}

// ---- /proc/<pid>/stat -----------------------------------------------------------------

TEST(ParseProcPidStat, CommWithParenthesesAndSpaces) {
  auto stat = parse_proc_pid_stat(fixture("proc/self/stat"));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->utime_ticks, 250u);
  EXPECT_EQ(stat->stime_ticks, 125u);
  EXPECT_EQ(stat->num_threads, 7u);
  EXPECT_EQ(stat->starttime_ticks, 39142u);
  EXPECT_EQ(stat->vsize_bytes, 104857600u);
  EXPECT_EQ(stat->rss_pages, 3840);
}

TEST(ParseProcPidStat, ThisProcess) {
  FileContents file = read_small_file("/proc/self/stat");
  ASSERT_TRUE(file.ok()) << file.error;
  auto stat = parse_proc_pid_stat(file.contents);
  ASSERT_TRUE(stat);
  EXPECT_GE(stat->num_threads, 1u);
  EXPECT_GT(stat->rss_pages, 0);
  EXPECT_GT(stat->vsize_bytes, 0u);
}

TEST(ParseProcPidStat, Malformed) {
  EXPECT_FALSE(parse_proc_pid_stat(""));
  EXPECT_FALSE(parse_proc_pid_stat("12345 (no closing paren S 1 2 3"));
  EXPECT_FALSE(parse_proc_pid_stat("12345 (cat) R 5427 5427"));  // truncated
  EXPECT_FALSE(parse_proc_pid_stat(")"));
  // Garbage in a field we use.
  EXPECT_FALSE(
      parse_proc_pid_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 ten 5 0 0 20 0 1 0 100 4096 10 0"));
  // Negative rss is the kernel's signed format, not an error.
  auto negative_rss =
      parse_proc_pid_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0 100 4096 -1");
  ASSERT_TRUE(negative_rss);
  EXPECT_EQ(negative_rss->rss_pages, -1);
}

// ---- /proc/<pid>/status ---------------------------------------------------------------

TEST(ParseProcPidStatus, Fixture) {
  ProcPidStatus status = parse_proc_pid_status(fixture("proc/self/status"));
  EXPECT_EQ(status.vm_rss_bytes, 15360u * 1024);
  EXPECT_EQ(status.rss_anon_bytes, 1664u * 1024);
}

TEST(ParseProcPidStatus, MissingAndMalformed) {
  ProcPidStatus empty = parse_proc_pid_status("");
  EXPECT_FALSE(empty.vm_rss_bytes);
  EXPECT_FALSE(empty.rss_anon_bytes);
  ProcPidStatus garbage = parse_proc_pid_status("VmRSS:\tmany kB\nRssAnon:\t12 kB\n");
  EXPECT_FALSE(garbage.vm_rss_bytes);
  EXPECT_EQ(garbage.rss_anon_bytes, 12u * 1024);
  EXPECT_FALSE(parse_proc_pid_status("VmRSS:").vm_rss_bytes);
}

// ---- limits, /proc/stat ---------------------------------------------------------------

TEST(ParseProcLimits, MaxOpenFilesSoftLimit) {
  auto limit = parse_proc_limits_max_open_files(fixture("proc/self/limits"));
  ASSERT_TRUE(limit);
  EXPECT_FALSE(limit->unlimited);
  EXPECT_EQ(limit->value, 20000u);
  auto unlimited = parse_proc_limits_max_open_files(
      "Max open files            unlimited            unlimited            files\n");
  ASSERT_TRUE(unlimited);
  EXPECT_TRUE(unlimited->unlimited);
  EXPECT_FALSE(parse_proc_limits_max_open_files(""));
  EXPECT_FALSE(parse_proc_limits_max_open_files("Max open files"));
  EXPECT_FALSE(parse_proc_limits_max_open_files("Max open filesX 10 10 files"));
  EXPECT_FALSE(parse_proc_limits_max_open_files("Max open files  lots  10  files"));
}

TEST(ParseProcStat, BootTime) {
  EXPECT_EQ(parse_proc_stat_boot_time(fixture("proc/stat")), 1795549268u);
  EXPECT_FALSE(parse_proc_stat_boot_time(""));
  EXPECT_FALSE(parse_proc_stat_boot_time("btime\n"));
  EXPECT_FALSE(parse_proc_stat_boot_time("btime soon\n"));
  EXPECT_FALSE(parse_proc_stat_boot_time("btimes 5\n"));
}

}  // namespace
}  // namespace covet::probes
