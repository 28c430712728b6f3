#include "probes/process_stats.h"

#include <algorithm>
#include <limits>

namespace covet::probes {
namespace {

// Linux's PID_MAX_LIMIT (4194304 on 64-bit) is far below this; anything larger is not a PID.
constexpr std::uint64_t kMaxPid = std::numeric_limits<std::int32_t>::max();

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::optional<pid_t> parse_pid(std::string_view token) {
  auto value = detail::parse_u64(token);
  if (!value || *value == 0 || *value > kMaxPid) return std::nullopt;
  return static_cast<pid_t>(*value);
}

// "/a/b" contains "/a/b" and "/a/b/c", not "/a/bc". `cgroup` has no trailing '/' unless it
// is "/" itself.
bool path_contains(std::string_view cgroup, std::string_view path) {
  if (cgroup == "/") return !path.empty() && path.front() == '/';
  if (!path.starts_with(cgroup)) return false;
  return path.size() == cgroup.size() || path[cgroup.size()] == '/';
}

}  // namespace

std::optional<ProcessStat> parse_process_stat(std::string_view text) {
  // "1234 (my (weird) app) S 1 ..."
  std::size_t open = text.find('(');
  std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  auto pid = parse_pid(detail::trim(text.substr(0, open)));
  if (!pid) return std::nullopt;
  auto numbers = parse_proc_pid_stat(text);
  if (!numbers) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  std::string_view state = detail::next_token(rest);
  // parse_proc_pid_stat already required the token; the kernel writes one character.
  if (state.size() != 1) return std::nullopt;
  return ProcessStat{*pid, std::string(text.substr(open + 1, close - open - 1)), state.front(),
                     *numbers};
}

bool is_exited_state(char state) { return state == 'Z' || state == 'X' || state == 'x'; }

std::string cmdline_to_text(std::string_view raw) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::string text(raw);
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

bool cgroup_file_contains(std::string_view proc_pid_cgroup, std::string_view cgroup) {
  while (cgroup.size() > 1 && cgroup.back() == '/') cgroup.remove_suffix(1);
  if (cgroup.empty() || cgroup.front() != '/') return false;
  while (!proc_pid_cgroup.empty()) {
    // "hierarchy-ID:controller-list:cgroup-path"; the path is the rest of the line and may
    // itself contain ':'.
    std::string_view line = detail::next_line(proc_pid_cgroup);
    std::size_t first_colon = line.find(':');
    if (first_colon == std::string_view::npos) continue;
    std::size_t second_colon = line.find(':', first_colon + 1);
    if (second_colon == std::string_view::npos) continue;
    if (path_contains(cgroup, line.substr(second_colon + 1))) return true;
  }
  return false;
}

std::optional<pid_t> parse_pid_file(std::string_view text) {
  std::string_view token = detail::trim(text);
  for (char c : token) {
    if (is_space(c)) return std::nullopt;  // two numbers, or a number and a word
  }
  return parse_pid(token);
}

std::optional<ProcessIdentity> select_main_process(std::span<const ProcessIdentity> candidates) {
  const auto older = [](const ProcessIdentity& a, const ProcessIdentity& b) {
    return a.start_ticks != b.start_ticks ? a.start_ticks < b.start_ticks : a.pid < b.pid;
  };
  auto oldest = std::min_element(candidates.begin(), candidates.end(), older);
  if (oldest == candidates.end()) return std::nullopt;
  return *oldest;
}

std::uint64_t RestartTracker::observe(const ProcessIdentity& main) {
  if (last_ && *last_ != main) ++restarts_;
  last_ = main;
  return restarts_;
}

FdLevel fd_level(std::uint64_t open_fds, std::uint64_t limit, double warn_percent,
                 double fail_percent) {
  if (limit == 0) return open_fds == 0 ? FdLevel::ok : FdLevel::fail;
  double percent = static_cast<double>(open_fds) / static_cast<double>(limit) * 100;
  if (percent >= fail_percent) return FdLevel::fail;
  if (percent >= warn_percent) return FdLevel::warn;
  return FdLevel::ok;
}

}  // namespace covet::probes
