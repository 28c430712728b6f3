#pragma once
// The interface every probe type implements. A probe runs one check when asked and reports
// once; the scheduler (probes/scheduler.h) owns intervals, jitter, timeouts and thresholds.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace covet::probes {

enum class Status { unknown, passing, warning, failing };
std::string_view to_string(Status s);

// A reading a probe took, exported as a gauge by the metrics layer. Keeping readings in the
// result (instead of probes touching the registry) keeps probe code free of metric plumbing
// and lets `covet-sidecar probe` print them too.
struct Reading {
  std::string name;  // full metric name, base units: "node_filesystem_avail_bytes"
  std::string help;
  std::vector<std::pair<std::string, std::string>> labels;  // the probe label is added later
  double value = 0;
  bool counter = false;  // a monotonically increasing total ("_total" name), else a gauge
  // Exported without a type: for a name kept for compatibility with another exporter that
  // the exposition lint rejects for its type ("pg_stat_activity_count" is no histogram).
  bool untyped = false;
};

struct ProbeResult {
  Status status = Status::unknown;
  std::chrono::nanoseconds latency{0};  // filled in by the scheduler
  // Short facts a person reads in /health ("free_percent": "41.2").
  std::vector<std::pair<std::string, std::string>> detail;
  // What went wrong, actionable: "free space 3.1% below fail threshold 5% on /var/lib/app".
  std::string error;
  // Machine-readable failure class, the `reason` label of failures_total ("timeout",
  // "threshold", "io_error", ...). Empty when passing.
  std::string reason;
  std::vector<Reading> readings;
  // Parts of the check that did not work while the check itself did ("pg_database_size:
  // permission denied"): the metrics they feed are missing. Logged when they change.
  std::vector<std::string> notes;
};

class Probe {
 public:
  using Completion = std::function<void(ProbeResult)>;
  virtual ~Probe() = default;

  // Starts one check. `done` is called exactly once, on the loop thread, unless cancel()
  // is called first; it may be called before start() returns.
  virtual void start(Completion done) = 0;
  // Abandons the check in flight (timeout or shutdown): `done` must not be called after
  // this returns. A no-op when nothing is in flight.
  virtual void cancel() = 0;
  // Lets go of what the probe keeps open between checks (a persistent connection), for
  // shutdown: called once by the scheduler's close(), after cancel(), while the loop still
  // runs, so the handles involved close before it ends. No check is started afterwards.
  virtual void release() {}
  // Readings for the result the scheduler reports when a check times out (a probe's "up"
  // gauge at 0), so they do not vanish from /metrics for an interval. None by default.
  virtual std::vector<Reading> timeout_readings() const { return {}; }
};

}  // namespace covet::probes
