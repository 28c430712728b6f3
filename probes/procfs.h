#pragma once
// Parsers for the /proc and cgroup files the disk and memory probes and the process metrics
// read, plus the one helper that reads such a file. Every parser is a pure function over a
// buffer (no I/O, no errno, no allocation beyond its result), so each is tested against
// checked-in fixtures and fuzzed (tests/fuzz/procfs_fuzz.cpp). A parser that cannot find
// what it was asked for returns std::nullopt: the caller decides whether that is an error.
//
// Formats are documented in proc(5) and the kernel's Documentation/admin-guide/cgroup-v1/
// memory.rst, cgroup-v2.rst and accounting/psi.rst.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace covet::probes {

// ---- Reading -------------------------------------------------------------------------

struct FileContents {
  std::string contents;
  std::string error;   // "read PATH: reason"; empty on success
  int error_code = 0;  // the errno behind `error`, so callers can treat ENOENT as "absent"
  bool ok() const { return error.empty(); }
};

// /proc and cgroup files report a size of 0, so this reads until EOF instead of trusting
// stat(). A file longer than `max_bytes` is an error rather than silently truncated: a
// parser given half a file would answer wrongly, not fail.
inline constexpr std::size_t kSmallFileMaxBytes = 64 * 1024;
FileContents read_small_file(const std::string& path, std::size_t max_bytes = kSmallFileMaxBytes);

// strerror(errnum) in lower case ("no such file or directory"), for "operation PATH: reason"
// messages. Thread-safe (the disk probe calls it on libuv's thread pool).
std::string errno_message(int errnum);

// btime from PROC_ROOT/stat: when the machine booted, in seconds since the epoch. Process
// start times in /proc/<pid>/stat are counted from it.
std::optional<std::uint64_t> read_boot_time_seconds(const std::string& proc_root);

// ---- /proc/meminfo -------------------------------------------------------------------

struct MemInfo {
  std::uint64_t total_bytes = 0;      // MemTotal
  std::uint64_t available_bytes = 0;  // MemAvailable (kernel >= 3.14)
};
// Both keys are required.
std::optional<MemInfo> parse_meminfo(std::string_view text);

// ---- /proc/<pid>/mountinfo -----------------------------------------------------------

struct MountInfo {
  std::string mount_point;  // unescaped: "/mnt/my disk", not "/mnt/my\040disk"
  std::string fstype;       // "ext4"
  std::string source;       // "/dev/vda1", "tmpfs", "server:/export"
};
// The mount that contains `absolute_path`: the longest mount point that is a prefix of it
// on whole path components ("/var" contains "/var/lib", not "/variable"). When several
// mounts share a mount point, the last one listed is the one on top, so it wins.
// `absolute_path` should already be resolved (realpath); no symlink handling here.
std::optional<MountInfo> find_mount(std::string_view mountinfo, std::string_view absolute_path);

// Undoes the kernel's octal escapes in mountinfo fields (\040 space, \011 tab, \012 newline,
// \134 backslash). A backslash not followed by three octal digits is kept as is.
std::string unescape_mountinfo_field(std::string_view field);

// ---- /proc/<pid>/cgroup --------------------------------------------------------------

struct ProcCgroup {
  std::optional<std::string> v1_memory_path;  // from "N:...memory...:/path"
  std::optional<std::string> v2_path;         // from "0::/path" (the unified hierarchy)
};
// Both may be present (a hybrid host such as this project's CI) or neither.
ProcCgroup parse_proc_cgroup(std::string_view text);

// ---- cgroup memory files (v1 and v2) -------------------------------------------------

struct ResourceLimit {
  std::uint64_t value = 0;  // meaningful only when !unlimited
  bool unlimited = false;
};

// A file holding one unsigned number and a newline: memory.current, memory.usage_in_bytes.
std::optional<std::uint64_t> parse_single_u64(std::string_view text);

// v2 memory.max: a number of bytes, or "max" for no limit.
std::optional<ResourceLimit> parse_cgroup_v2_memory_max(std::string_view text);

// v1 memory.limit_in_bytes has no word for "no limit": it holds PAGE_COUNTER_MAX in bytes
// (9223372036854771712 on x86-64 with 4 KiB pages; other page sizes give other values).
// Anything at or above 2^62 is treated as unlimited: no machine has that much memory.
inline constexpr std::uint64_t kCgroupV1UnlimitedAtLeast = std::uint64_t{1} << 62;
std::optional<ResourceLimit> parse_cgroup_v1_memory_limit(std::string_view text);

// The value of `key` in a flat-keyed file of "key value" lines: memory.stat
// ("inactive_file", "total_inactive_file"), memory.events and memory.oom_control
// ("oom_kill"). Keys match whole words: "oom_kill" does not match "oom_kill_disable".
std::optional<std::uint64_t> parse_flat_keyed_u64(std::string_view text, std::string_view key);

// ---- Pressure stall information (memory.pressure, /proc/pressure/memory) -------------

struct PressureLine {
  double avg10 = 0;  // percent of wall time stalled over the last 10 s
  double avg60 = 0;
  double avg300 = 0;
  std::uint64_t total_microseconds = 0;  // cumulative stall time
};
struct Pressure {
  std::optional<PressureLine> some;  // at least one task stalled
  std::optional<PressureLine> full;  // all non-idle tasks stalled (absent for CPU before 5.13)
};
// std::nullopt unless at least one well-formed line is present.
std::optional<Pressure> parse_pressure(std::string_view text);

// ---- /proc/<pid>/stat, /proc/<pid>/status, /proc/<pid>/limits, /proc/stat ------------

struct ProcPidStat {
  std::uint64_t utime_ticks = 0;  // user CPU, in sysconf(_SC_CLK_TCK) ticks
  std::uint64_t stime_ticks = 0;  // system CPU, same unit
  std::uint64_t num_threads = 0;
  std::uint64_t starttime_ticks = 0;  // since boot
  std::uint64_t vsize_bytes = 0;
  std::int64_t rss_pages = 0;  // signed in the kernel's format ("%ld")
};
// comm (field 2) is the executable name in parentheses and may itself contain spaces and
// ") (", so fields are counted from the LAST ')' in the line.
std::optional<ProcPidStat> parse_proc_pid_stat(std::string_view text);

struct ProcPidStatus {
  std::optional<std::uint64_t> vm_rss_bytes;    // VmRSS (absent for kernel threads, zombies)
  std::optional<std::uint64_t> rss_anon_bytes;  // RssAnon (kernel >= 4.5)
  std::optional<std::uint64_t> vm_size_bytes;   // VmSize
  std::optional<std::uint64_t> threads;         // Threads
};
ProcPidStatus parse_proc_pid_status(std::string_view text);

// The soft limit of "Max open files" in /proc/<pid>/limits.
std::optional<ResourceLimit> parse_proc_limits_max_open_files(std::string_view text);

// "btime" in /proc/stat: boot time in seconds since the epoch.
std::optional<std::uint64_t> parse_proc_stat_boot_time(std::string_view text);

namespace detail {

// Strict decimal parsers: the whole token must be the number (no sign, no spaces, no
// trailing garbage), and overflow is a failure rather than a clamp.
std::optional<std::uint64_t> parse_u64(std::string_view token);
std::optional<std::int64_t> parse_i64(std::string_view token);
std::optional<double> parse_double(std::string_view token);

// "12345 kB" (meminfo, status) to bytes; a bare number is taken as bytes.
std::optional<std::uint64_t> parse_kibibytes_value(std::string_view value);

// Splits off the first line of `text` (without its '\n') and advances `text` past it.
std::string_view next_line(std::string_view& text);
// Splits off the next whitespace-separated token of `text` and advances past it; empty
// when none is left.
std::string_view next_token(std::string_view& text);
std::string_view trim(std::string_view text);

}  // namespace detail
}  // namespace covet::probes
