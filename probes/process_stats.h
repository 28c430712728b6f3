#pragma once
// Pure pieces of the process probe (probes/process.h): parsers for what /proc says about one
// process, the rule that picks the main process among several matches, restart counting
// and the open-file-descriptor thresholds. No I/O here, so each is tested against
// checked-in fixture text and fuzzed (tests/fuzz/process_stats_fuzz.cpp).
//
// The number parsers of probes/procfs.h do the field-level work; /proc/<pid>/limits and the
// btime line of /proc/stat are parsed there (parse_proc_limits_max_open_files,
// parse_proc_stat_boot_time).

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "probes/procfs.h"

namespace covet::probes {

// ---- /proc/<pid>/stat ----------------------------------------------------------------

struct ProcessStat {
  pid_t pid = 0;
  std::string comm;  // without the parentheses; may contain spaces and ')'
  char state = '?';  // R, S, D, Z (zombie), X (dead), T, t, I, ...
  ProcPidStat numbers;
};
// comm is everything between the first '(' and the LAST ')' of the line: a process can name
// itself "my (weird) app" or ") S 1 2", and only the last ')' is the kernel's.
std::optional<ProcessStat> parse_process_stat(std::string_view text);

// A zombie (exited, not yet reaped by its parent) or dead process has no memory, fds or
// threads left: for the probe it is not running, even though /proc/<pid> still exists.
bool is_exited_state(char state);

// ---- /proc/<pid>/cmdline, /proc/<pid>/cgroup, pid files ------------------------------

// The arguments as one line: NUL separators become spaces, the trailing NUL is dropped
// ("/bin/sleep\01000\0" -> "/bin/sleep 1000"). Empty for kernel threads and zombies.
std::string cmdline_to_text(std::string_view raw);

// True when a line of /proc/<pid>/cgroup ("0::/path" on v2, "4:memory:/path" on v1) names
// `cgroup` or a cgroup below it, on whole path components: "/kubepods/pod1" contains
// "/kubepods/pod1/abc" (a container of the pod) but not "/kubepods/pod12". `cgroup` is
// absolute; a trailing '/' is ignored. "/" contains every process.
bool cgroup_file_contains(std::string_view proc_pid_cgroup, std::string_view cgroup);

// The PID a pid file holds: decimal digits, optionally surrounded by whitespace (a trailing
// newline is usual). Zero, negative, too large or anything else: nothing.
std::optional<pid_t> parse_pid_file(std::string_view text);

// ---- Choosing the main process -------------------------------------------------------

struct ProcessIdentity {
  pid_t pid = 0;
  std::uint64_t start_ticks = 0;  // starttime from /proc/<pid>/stat, ticks since boot

  bool operator==(const ProcessIdentity&) const = default;
};

// The oldest process: lowest start time, then lowest PID (two processes forked within one
// clock tick). Nothing for an empty list.
std::optional<ProcessIdentity> select_main_process(std::span<const ProcessIdentity> candidates);

// Counts restarts of the main process across checks: a restart is a check whose main
// process differs, by PID or by start time (a PID reused after a restart), from the last
// one seen. Checks that found no process leave the last one in place, so "gone, then back
// with a new PID" is one restart, however many checks saw nothing in between.
class RestartTracker {
 public:
  // Records the main process of this check; returns the restart count so far.
  std::uint64_t observe(const ProcessIdentity& main);
  std::uint64_t restarts() const { return restarts_; }

 private:
  std::optional<ProcessIdentity> last_;
  std::uint64_t restarts_ = 0;
};

// ---- Open file descriptors -----------------------------------------------------------

enum class FdLevel { ok, warn, fail };
// open_fds against the soft limit: at or above fail_percent -> fail, at or above
// warn_percent -> warn. A limit of 0 (nothing can be opened) with no fds open is ok.
FdLevel fd_level(std::uint64_t open_fds, std::uint64_t limit, double warn_percent,
                 double fail_percent);

}  // namespace covet::probes
