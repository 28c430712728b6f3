#pragma once
// Process probe: is the app's process there, and how is it doing. The process is selected
// by a pid file, by a regex over its command line, or by its cgroup; with several matches
// the oldest is the main process. Reports its CPU time, memory, threads, open fds against
// the soft limit, start time and how often it restarted (the probe remembers the main
// process's PID and start time between checks). Reads /proc only.
//
// Finding the process means reading /proc/<pid>/cmdline or cgroup for every process on the
// machine, and a cmdline read waits on the target's memory map lock, which a process
// stuck in the kernel can hold for a long time. So the reading runs on libuv's thread pool
// as the disk probe's statvfs does, and only the evaluation (restart counting, thresholds)
// runs on the loop.

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "config/config.h"
#include "probes/pool_check.h"
#include "probes/probe.h"
#include "probes/process_stats.h"

namespace covet::probes {

// What one check read about the main process.
struct MainProcess {
  ProcessIdentity identity;
  double cpu_seconds = 0;  // utime + stime
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t threads = 0;
  std::optional<std::uint64_t> open_fds;     // unknown without permission to list fd/
  std::optional<ResourceLimit> max_fds;      // soft RLIMIT_NOFILE
  std::optional<double> start_time_seconds;  // Unix time; unknown without btime
};

// Everything a check read from /proc, before any state or threshold is applied.
struct ProcessSnapshot {
  std::size_t count = 0;            // matching processes (0 or 1 with a pid file)
  std::optional<MainProcess> main;  // empty: nothing matched, or /proc could not be read
  std::string reason;               // when !main: "not_found" or "io_error"
  std::string error;                // when !main: what was looked for and not found
  std::vector<std::string> notes;   // readings that are missing, and why
};

// The parts of a check that never change: the config, the compiled regex, machine
// constants. Shared read-only with the thread pool.
struct ProcessSelector {
  config::ProcessProbeConfig config;
  std::optional<std::regex> cmdline;  // compiled `cmdline`, when that is the selector
  std::string regex_error;            // a pattern that would not compile (the loader checks)
  long clock_ticks_per_second = 100;  // sysconf(_SC_CLK_TCK)
  long page_size = 4096;              // sysconf(_SC_PAGESIZE)
};

class ProcessProbe final : public Probe {
 public:
  ProcessProbe(uv_loop_t* loop, config::ProcessProbeConfig config);
  ~ProcessProbe() override;
  void start(Completion done) override;
  void cancel() override;

  // The blocking part: reads /proc. Safe on any thread.
  static ProcessSnapshot read_snapshot(const ProcessSelector& selector);
  // The loop part: counts restarts (this probe's state), applies the fd thresholds and
  // builds the result.
  ProbeResult evaluate(const ProcessSnapshot& snapshot);
  // Both, inline, for tests.
  ProbeResult check_now() { return evaluate(read_snapshot(*selector_)); }

  std::uint64_t restarts() const { return restarts_.restarts(); }

 private:
  std::shared_ptr<const ProcessSelector> selector_;
  RestartTracker restarts_;
  PoolCheck<ProcessSnapshot> pool_;
};

}  // namespace covet::probes
