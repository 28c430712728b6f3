#include "probes/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string_view>

#include "probes/procfs.h"

namespace covet::probes {
namespace {

struct ReadingDescriptor {
  std::string_view name;
  std::string_view help;
  bool counter = false;
  bool untyped = false;
};
constexpr ReadingDescriptor kUp{"covet_sidecar_app_process_up",
                                "1 when a process matches the probe's selector, else 0."};
// Untyped: a gauge whose name ends in _count reads as half of a histogram to the
// exposition lint, and the name is the one the product documents.
constexpr ReadingDescriptor kCount{"covet_sidecar_app_process_count",
                                   "Processes matching the probe's selector.", false, true};
constexpr ReadingDescriptor kCpuSecondsTotal{
    "covet_sidecar_app_process_cpu_seconds_total",
    "User and system CPU time of the main process in seconds.", true};
constexpr ReadingDescriptor kResidentMemoryBytes{
    "covet_sidecar_app_process_resident_memory_bytes",
    "Resident memory of the main process in bytes (VmRSS)."};
constexpr ReadingDescriptor kVirtualMemoryBytes{
    "covet_sidecar_app_process_virtual_memory_bytes",
    "Virtual memory of the main process in bytes (VmSize)."};
constexpr ReadingDescriptor kOpenFds{"covet_sidecar_app_process_open_fds",
                                     "Open file descriptors of the main process."};
constexpr ReadingDescriptor kMaxFds{
    "covet_sidecar_app_process_max_fds",
    "Soft limit on open file descriptors of the main process (RLIMIT_NOFILE)."};
constexpr ReadingDescriptor kThreads{"covet_sidecar_app_process_threads",
                                     "Threads of the main process."};
constexpr ReadingDescriptor kStartTimeSeconds{
    "covet_sidecar_app_process_start_time_seconds",
    "Start time of the main process in seconds since the Unix epoch."};
constexpr ReadingDescriptor kRestartsTotal{
    "covet_sidecar_app_process_restarts_total",
    "Times the main process changed (PID or start time) between checks.", true};

constexpr std::string_view kNotFound = "not_found";
constexpr std::string_view kIoError = "io_error";
constexpr std::string_view kFds = "fds";

// Kernels before 4.2 returned at most one page of a command line, and std::regex's
// backtracking recursion grows with the input: the first 4 KiB is what a name is matched
// against.
constexpr std::size_t kCmdlineMatchBytes = 4096;

void add_reading(ProbeResult& result, const ReadingDescriptor& descriptor, double value) {
  result.readings.push_back(Reading{std::string(descriptor.name),
                                    std::string(descriptor.help),
                                    {},
                                    value,
                                    descriptor.counter,
                                    descriptor.untyped});
}

// Closes the directory on every path out.
class ScopedDir {
 public:
  explicit ScopedDir(const std::string& path) : dir_(::opendir(path.c_str())) {}
  ~ScopedDir() {
    if (dir_ != nullptr) ::closedir(dir_);
  }
  ScopedDir(const ScopedDir&) = delete;
  ScopedDir& operator=(const ScopedDir&) = delete;
  DIR* get() const { return dir_; }

 private:
  DIR* dir_;
};

struct DirEntries {
  std::vector<std::string> names;  // without "." and ".."
  int error_code = 0;              // opendir's or readdir's errno; 0 on success
};

DirEntries list_dir(const std::string& path) {
  DirEntries entries;
  ScopedDir dir(path);
  if (dir.get() == nullptr) {
    entries.error_code = errno;
    return entries;
  }
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      entries.error_code = errno;
      break;
    }
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") entries.names.emplace_back(name);
  }
  return entries;
}

// The first `max_bytes` of a file: a command line longer than that is matched on its start
// rather than skipped.
std::optional<std::string> read_prefix(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string contents(max_bytes, '\0');
  std::size_t used = 0;
  while (used < max_bytes) {
    ssize_t n = ::read(fd, contents.data() + used, max_bytes - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  contents.resize(used);
  return contents;
}

std::optional<pid_t> pid_of_entry(std::string_view name) {
  if (name.empty() || name.front() < '1' || name.front() > '9') return std::nullopt;
  return parse_pid_file(name);
}

// Our own PID as PROC_ROOT sees it (the target of its "self" link): never a candidate, a
// pattern that happens to match our own command line must not select the sidecar.
std::optional<pid_t> self_pid(const std::string& proc_root) {
  std::array<char, 32> target{};
  const std::string link = proc_root + "/self";
  ssize_t n = ::readlink(link.c_str(), target.data(), target.size() - 1);
  if (n <= 0) return std::nullopt;
  return parse_pid_file(std::string_view(target.data(), static_cast<std::size_t>(n)));
}

std::string pid_dir(const std::string& proc_root, pid_t pid) {
  return proc_root + "/" + std::to_string(pid);
}

// A candidate that is running: its stat parses and it is not a zombie.
std::optional<ProcessStat> running_stat(const std::string& proc_root, pid_t pid) {
  FileContents file = read_small_file(pid_dir(proc_root, pid) + "/stat");
  if (!file.ok()) return std::nullopt;
  std::optional<ProcessStat> stat = parse_process_stat(file.contents);
  if (!stat || is_exited_state(stat->state)) return std::nullopt;
  return stat;
}

// Whether `pid` is selected by the cmdline regex or the cgroup. A process that exits while
// it is being looked at simply does not match.
bool matches(const ProcessSelector& selector, pid_t pid, ProcessSnapshot& snapshot,
             bool& regex_failed) {
  const std::string dir = pid_dir(selector.config.proc_root, pid);
  if (selector.cmdline) {
    std::optional<std::string> raw = read_prefix(dir + "/cmdline", kCmdlineMatchBytes);
    if (!raw) return false;
    // Kernel threads and zombies have an empty command line; a pattern like ".*" must not
    // select them.
    std::string text = cmdline_to_text(*raw);
    if (text.empty()) return false;
    try {
      return std::regex_search(text, *selector.cmdline);
    } catch (const std::regex_error& error) {
      // error_complexity / error_stack on a pathological pattern and input: no match.
      if (!regex_failed) {
        snapshot.notes.push_back(fmt::format("match cmdline of process {}: {}", pid, error.what()));
        regex_failed = true;
      }
      return false;
    }
  }
  FileContents cgroup = read_small_file(dir + "/cgroup");
  return cgroup.ok() && cgroup_file_contains(cgroup.contents, selector.config.cgroup);
}

struct Candidate {
  ProcessIdentity identity;
  ProcessStat stat;
};

// Every running process the cmdline or cgroup selector matches; sets snapshot.reason and
// error when /proc itself cannot be listed.
std::vector<Candidate> find_candidates(const ProcessSelector& selector, ProcessSnapshot& snapshot) {
  std::vector<Candidate> candidates;
  const std::string& proc_root = selector.config.proc_root;
  DirEntries entries = list_dir(proc_root);
  if (entries.error_code != 0) {
    snapshot.reason = kIoError;
    snapshot.error = "list " + proc_root + ": " + errno_message(entries.error_code);
    return candidates;
  }
  const std::optional<pid_t> self = self_pid(proc_root);
  bool regex_failed = false;
  for (const std::string& name : entries.names) {
    std::optional<pid_t> pid = pid_of_entry(name);
    if (!pid || pid == self) continue;
    if (!matches(selector, *pid, snapshot, regex_failed)) continue;
    std::optional<ProcessStat> stat = running_stat(proc_root, *pid);
    if (!stat) continue;
    candidates.push_back({ProcessIdentity{*pid, stat->numbers.starttime_ticks}, std::move(*stat)});
  }
  return candidates;
}

// "\"12a\"", shown in a message: at most 32 bytes, control characters as '?'.
std::string shown_contents(std::string_view text) {
  text = detail::trim(text);
  std::string shown = "\"";
  for (char c : text.substr(0, 32)) {
    shown.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (text.size() > 32) shown += "...";
  return shown + "\"";
}

// The process a pid file names, or the reason it cannot be used.
std::optional<ProcessStat> pid_file_process(const ProcessSelector& selector,
                                            ProcessSnapshot& snapshot) {
  const std::string& path = selector.config.pid_file;
  snapshot.reason = kNotFound;
  // A pid file is a few bytes; a large file at that path is not one.
  FileContents file = read_small_file(path, 256);
  if (!file.ok()) {
    snapshot.error = "pid_file: " + file.error;
    return std::nullopt;
  }
  std::optional<pid_t> pid = parse_pid_file(file.contents);
  if (!pid) {
    snapshot.error =
        "pid_file " + path + ": " + shown_contents(file.contents) + " is not a process ID";
    return std::nullopt;
  }
  FileContents stat_file = read_small_file(pid_dir(selector.config.proc_root, *pid) + "/stat");
  if (!stat_file.ok() && (stat_file.error_code == ENOENT || stat_file.error_code == ESRCH)) {
    snapshot.error = fmt::format("pid_file {}: process {} is not running", path, *pid);
    return std::nullopt;
  }
  if (!stat_file.ok()) {
    snapshot.reason = kIoError;
    snapshot.error = fmt::format("pid_file {}: process {}: {}", path, *pid, stat_file.error);
    return std::nullopt;
  }
  std::optional<ProcessStat> stat = parse_process_stat(stat_file.contents);
  if (!stat) {
    snapshot.reason = kIoError;
    snapshot.error = fmt::format("pid_file {}: process {}: cannot parse {}/stat", path, *pid,
                                 pid_dir(selector.config.proc_root, *pid));
    return std::nullopt;
  }
  if (is_exited_state(stat->state)) {
    snapshot.error =
        fmt::format("pid_file {}: process {} is not running (exited, not yet reaped by its parent)",
                    path, *pid);
    return std::nullopt;
  }
  snapshot.reason.clear();
  return stat;
}

// Reads what the probe reports about the main process, beyond its stat line.
MainProcess describe(const ProcessSelector& selector, const ProcessStat& stat,
                     std::vector<std::string>& notes) {
  const std::string& proc_root = selector.config.proc_root;
  const std::string dir = pid_dir(proc_root, stat.pid);
  const auto ticks = static_cast<double>(selector.clock_ticks_per_second);

  MainProcess main;
  main.identity = ProcessIdentity{stat.pid, stat.numbers.starttime_ticks};
  main.cpu_seconds =
      static_cast<double>(stat.numbers.utime_ticks + stat.numbers.stime_ticks) / ticks;
  main.threads = stat.numbers.num_threads;
  main.virtual_bytes = stat.numbers.vsize_bytes;
  main.resident_bytes = stat.numbers.rss_pages > 0
                            ? static_cast<std::uint64_t>(stat.numbers.rss_pages) *
                                  static_cast<std::uint64_t>(selector.page_size)
                            : 0;
  // status says the same in kB, and is what `ps` and people read; stat is the fallback.
  if (FileContents status_file = read_small_file(dir + "/status"); status_file.ok()) {
    ProcPidStatus status = parse_proc_pid_status(status_file.contents);
    if (status.vm_rss_bytes) main.resident_bytes = *status.vm_rss_bytes;
    if (status.vm_size_bytes) main.virtual_bytes = *status.vm_size_bytes;
    if (status.threads) main.threads = *status.threads;
  }

  DirEntries fds = list_dir(dir + "/fd");
  if (fds.error_code == 0) {
    main.open_fds = fds.names.size();
  } else {
    // EACCES: the process belongs to another user and we are not root.
    notes.push_back(fmt::format("open fds: list {}/fd: {}", dir, errno_message(fds.error_code)));
  }
  FileContents limits = read_small_file(dir + "/limits");
  if (limits.ok()) main.max_fds = parse_proc_limits_max_open_files(limits.contents);
  if (!main.max_fds) {
    notes.push_back(limits.ok() ? "max fds: no \"Max open files\" line in " + dir + "/limits"
                                : "max fds: " + limits.error);
  }
  if (std::optional<std::uint64_t> boot_time = read_boot_time_seconds(proc_root)) {
    main.start_time_seconds =
        static_cast<double>(*boot_time) + static_cast<double>(stat.numbers.starttime_ticks) / ticks;
  } else {
    notes.push_back("start time: no btime in " + proc_root + "/stat");
  }
  return main;
}

std::string what_was_selected(const config::ProcessProbeConfig& config) {
  if (!config.cmdline.empty()) return "cmdline /" + config.cmdline + "/";
  if (!config.cgroup.empty()) return "cgroup " + config.cgroup;
  return "pid_file " + config.pid_file;
}

std::string fds_text(const MainProcess& main) {
  std::string open = main.open_fds ? std::to_string(*main.open_fds) : "?";
  std::string max = !main.max_fds             ? "?"
                    : main.max_fds->unlimited ? "unlimited"
                                              : std::to_string(main.max_fds->value);
  return open + "/" + max;
}

}  // namespace

ProcessProbe::ProcessProbe(uv_loop_t* loop, config::ProcessProbeConfig config) : pool_(loop) {
  auto selector = std::make_shared<ProcessSelector>();
  if (!config.cmdline.empty()) {
    try {
      selector->cmdline.emplace(config.cmdline, std::regex::ECMAScript);
    } catch (const std::regex_error& error) {
      // The loader compiled it already; only a config built in code gets here.
      selector->regex_error = error.what();
    }
  }
  if (long ticks = ::sysconf(_SC_CLK_TCK); ticks > 0) selector->clock_ticks_per_second = ticks;
  if (long page = ::sysconf(_SC_PAGESIZE); page > 0) selector->page_size = page;
  selector->config = std::move(config);
  selector_ = std::move(selector);
}

ProcessProbe::~ProcessProbe() = default;  // the pool check abandons a check still in flight

void ProcessProbe::start(Completion done) {
  // Normally a no-op: the scheduler cancels a check before starting the next one.
  cancel();
  if (pool_.stuck()) {
    // The previous check is still blocked in /proc. Like the disk probe, do not take a
    // second pool thread (DNS and file requests share the few there are): skip until it
    // returns.
    ProbeResult result;
    result.status = Status::failing;
    result.reason = "timeout";
    result.error = "process check for " + what_was_selected(selector_->config) +
                   ": the previous check has not returned yet (a /proc read is blocked); "
                   "skipping checks until it does";
    done(std::move(result));
    return;
  }

  // The read shares the selector (read-only); the snapshot is evaluated here, on the loop,
  // because restart counting is this probe's state. cancel(), which the destructor calls,
  // drops the callback and with it the pointer back here.
  PoolCheck<ProcessSnapshot>::Done evaluate_then_report = [this, done](ProcessSnapshot snapshot) {
    done(evaluate(snapshot));
  };
  const int rc = pool_.start([selector = selector_] { return read_snapshot(*selector); },
                             evaluate_then_report);
  if (rc != 0) {
    // Only fails on invalid arguments; report it rather than hang the scheduler.
    ProbeResult result;
    result.status = Status::failing;
    result.reason = std::string(kIoError);
    result.error = std::string("queue process check: ") + uv_strerror(rc);
    done(std::move(result));
  }
}

void ProcessProbe::cancel() { pool_.cancel(); }

ProcessSnapshot ProcessProbe::read_snapshot(const ProcessSelector& selector) {
  ProcessSnapshot snapshot;
  const config::ProcessProbeConfig& config = selector.config;
  if (!selector.regex_error.empty()) {
    snapshot.reason = kIoError;
    snapshot.error = "cmdline /" + config.cmdline + "/: " + selector.regex_error;
    return snapshot;
  }
  std::optional<ProcessStat> main_stat;
  if (!config.pid_file.empty()) {
    main_stat = pid_file_process(selector, snapshot);
    snapshot.count = main_stat ? 1 : 0;
  } else {
    std::vector<Candidate> candidates = find_candidates(selector, snapshot);
    if (!snapshot.reason.empty()) return snapshot;
    snapshot.count = candidates.size();
    std::vector<ProcessIdentity> identities;
    identities.reserve(candidates.size());
    for (const Candidate& candidate : candidates) identities.push_back(candidate.identity);
    if (std::optional<ProcessIdentity> oldest = select_main_process(identities)) {
      for (Candidate& candidate : candidates) {
        if (candidate.identity == *oldest) main_stat = std::move(candidate.stat);
      }
    } else {
      snapshot.reason = kNotFound;
      snapshot.error = config.cmdline.empty() ? "no process in " + what_was_selected(config)
                                              : "no process matches " + what_was_selected(config);
    }
  }
  if (main_stat) snapshot.main = describe(selector, *main_stat, snapshot.notes);
  return snapshot;
}

ProbeResult ProcessProbe::evaluate(const ProcessSnapshot& snapshot) {
  ProbeResult result;
  result.notes = snapshot.notes;
  add_reading(result, kUp, snapshot.main ? 1 : 0);
  add_reading(result, kCount, static_cast<double>(snapshot.count));
  if (!snapshot.main) {
    add_reading(result, kRestartsTotal, static_cast<double>(restarts_.restarts()));
    result.status = Status::failing;
    result.reason = snapshot.reason.empty() ? std::string(kNotFound) : snapshot.reason;
    result.error = snapshot.error;
    result.detail = {{"count", std::to_string(snapshot.count)},
                     {"restarts", std::to_string(restarts_.restarts())}};
    return result;
  }

  const MainProcess& main = *snapshot.main;
  const std::uint64_t restarts = restarts_.observe(main.identity);
  add_reading(result, kCpuSecondsTotal, main.cpu_seconds);
  add_reading(result, kResidentMemoryBytes, static_cast<double>(main.resident_bytes));
  add_reading(result, kVirtualMemoryBytes, static_cast<double>(main.virtual_bytes));
  if (main.open_fds) add_reading(result, kOpenFds, static_cast<double>(*main.open_fds));
  if (main.max_fds && !main.max_fds->unlimited) {
    add_reading(result, kMaxFds, static_cast<double>(main.max_fds->value));
  }
  add_reading(result, kThreads, static_cast<double>(main.threads));
  if (main.start_time_seconds) add_reading(result, kStartTimeSeconds, *main.start_time_seconds);
  add_reading(result, kRestartsTotal, static_cast<double>(restarts));

  result.detail = {{"pid", std::to_string(main.identity.pid)},
                   {"count", std::to_string(snapshot.count)},
                   {"fds", fds_text(main)},
                   {"rss", std::to_string(main.resident_bytes)},
                   {"restarts", std::to_string(restarts)}};

  result.status = Status::passing;
  const config::ProcessProbeConfig& config = selector_->config;
  if (main.open_fds && main.max_fds && !main.max_fds->unlimited) {
    const FdLevel level = fd_level(*main.open_fds, main.max_fds->value, config.fd_warn_percent,
                                   config.fd_fail_percent);
    if (level != FdLevel::ok) {
      const bool failing = level == FdLevel::fail;
      const double percent = main.max_fds->value == 0
                                 ? 100
                                 : static_cast<double>(*main.open_fds) /
                                       static_cast<double>(main.max_fds->value) * 100;
      result.status = failing ? Status::failing : Status::warning;
      result.reason = std::string(kFds);
      result.error = fmt::format(
          "process {}: {} open fds ({:.1f}% of the soft limit) is at or above the {} threshold "
          "{:g}%",
          main.identity.pid, fds_text(main), percent, failing ? "fail" : "warn",
          failing ? config.fd_fail_percent : config.fd_warn_percent);
    }
  }
  return result;
}

}  // namespace covet::probes
