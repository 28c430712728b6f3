// libFuzzer target for the process probe's parsers and rules (probes/process_stats.h): every
// parser gets the same arbitrary bytes, as if /proc/<pid>/stat, status, cmdline, cgroup or a
// pid file held them (a process chooses its own comm and command line, so these are
// attacker-controlled on a shared machine). No file I/O.
//
// Properties checked, beyond "no crash, no sanitizer report, no exception":
//  - a parsed stat line has a positive PID, a comm taken from inside the input, and
//    numbers that parse_proc_pid_stat agrees with;
//  - a command line never grows and has no NUL left;
//  - cgroup containment is monotonic: inside /a/b implies inside /a and inside /;
//  - a PID from a pid file is in (0, 2^31);
//  - the main process is one of the candidates and no candidate is older;
//  - restarts never exceed the number of checks after the first;
//  - the fd level never drops as more fds are open.
//
//   ./process_stats_fuzz -max_total_time=60 tests/fuzz/corpus/process_stats

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "probes/process_stats.h"
#include "probes/procfs.h"

namespace {

using namespace covet::probes;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "process_stats_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void check_stat(std::string_view text) {
  auto stat = parse_process_stat(text);
  if (!stat) return;
  if (stat->pid <= 0) fail("parse_process_stat returned a non-positive PID", text);
  if (text.find(stat->comm) == std::string_view::npos) fail("comm is not from the input", text);
  auto numbers = parse_proc_pid_stat(text);
  if (!numbers) fail("parse_process_stat accepted what parse_proc_pid_stat rejects", text);
  if (numbers->starttime_ticks != stat->numbers.starttime_ticks ||
      numbers->utime_ticks != stat->numbers.utime_ticks) {
    fail("parse_process_stat and parse_proc_pid_stat disagree", text);
  }
}

void check_cmdline(std::string_view raw) {
  std::string text = cmdline_to_text(raw);
  if (text.size() > raw.size()) fail("cmdline_to_text grew the input", raw);
  if (text.find('\0') != std::string::npos) fail("cmdline_to_text left a NUL", raw);
}

// The first line of the input is a cgroup path, the rest a /proc/<pid>/cgroup file.
void check_cgroup(std::string_view text) {
  std::string_view rest = text;
  std::string_view cgroup = detail::next_line(rest);
  if (!cgroup_file_contains(rest, cgroup)) return;
  if (!cgroup_file_contains(rest, "/")) fail("inside a cgroup but not inside /", text);
  std::string_view parent = cgroup;
  while (parent.size() > 1 && parent.back() == '/') parent.remove_suffix(1);
  std::size_t slash = parent.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return;
  parent = parent.substr(0, slash);
  if (!cgroup_file_contains(rest, parent)) fail("inside a cgroup but not inside its parent", text);
}

void check_pid_file(std::string_view text) {
  auto pid = parse_pid_file(text);
  if (pid && *pid <= 0) fail("parse_pid_file returned a non-positive PID", text);
}

// Candidates from the bytes, 8 at a time: a 2-byte PID and a 6-byte start time.
void check_selection_and_restarts(const std::uint8_t* data, std::size_t size) {
  std::vector<ProcessIdentity> candidates;
  for (std::size_t i = 0; i + 8 <= size && candidates.size() < 64; i += 8) {
    ProcessIdentity identity;
    identity.pid = static_cast<pid_t>((data[i] << 8 | data[i + 1]) + 1);
    for (std::size_t b = 2; b < 8; ++b) {
      identity.start_ticks = identity.start_ticks << 8 | data[i + b];
    }
    candidates.push_back(identity);
  }
  auto main = select_main_process(candidates);
  if (candidates.empty() != !main) fail("select_main_process and an empty list", "");
  if (main) {
    bool listed = false;
    for (const ProcessIdentity& candidate : candidates) {
      listed = listed || candidate == *main;
      if (candidate.start_ticks < main->start_ticks ||
          (candidate.start_ticks == main->start_ticks && candidate.pid < main->pid)) {
        fail("select_main_process skipped an older candidate", "");
      }
    }
    if (!listed) fail("select_main_process returned a process not in the list", "");
  }
  RestartTracker tracker;
  for (const ProcessIdentity& candidate : candidates) tracker.observe(candidate);
  if (!candidates.empty() && tracker.restarts() > candidates.size() - 1) {
    fail("more restarts than checks after the first", "");
  }
}

void check_fd_levels(const std::uint8_t* data, std::size_t size) {
  if (size < 6) return;
  const std::uint64_t limit = static_cast<std::uint64_t>(data[0] << 8 | data[1]);
  const std::uint64_t open = static_cast<std::uint64_t>(data[2] << 8 | data[3]);
  const double warn = 1 + data[4] % 100;
  const double fail_at = warn + static_cast<double>(data[5] % 101) * (100 - warn) / 100;
  if (fd_level(open + 1, limit, warn, fail_at) < fd_level(open, limit, warn, fail_at)) {
    fail("the fd level dropped as more fds were open", "");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_stat(text);
  check_cmdline(text);
  check_cgroup(text);
  check_pid_file(text);
  (void)parse_proc_limits_max_open_files(text);
  (void)parse_proc_stat_boot_time(text);
  (void)is_exited_state(size > 0 ? text.front() : '?');
  check_selection_and_restarts(data, size);
  check_fd_levels(data, size);
  return 0;
}
