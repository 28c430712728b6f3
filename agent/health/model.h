#pragma once
// The health model: the latest probe results, folded through thresholds (hysteresis) and
// staleness into one effective state per check, and from those the answers of the three
// probe endpoints. Pure logic over injected time: no I/O, no loop.
//
// Effective state of a check:
//   unknown  until failure_threshold consecutive failures or success_threshold
//            consecutive successes have been seen;
//   passing / warning  after success_threshold consecutive successes (warning is a
//            degraded success: it counts as ready);
//   failing  after failure_threshold consecutive failures;
//   and whatever it is, failing while stale: no result for more than three intervals
//   (since the last result, or since the check was added), so a wedged probe can never
//   keep reporting healthy.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/clock.h"
#include "config/config.h"
#include "probes/probe.h"

namespace covet::health {

struct CheckSpec {
  std::string name;
  std::string type;
  unsigned roles = config::kDefaultRoles;
  std::chrono::milliseconds interval{10000};
  std::uint32_t failure_threshold = 3;
  std::uint32_t success_threshold = 1;
};

struct CheckState {
  CheckSpec spec;
  probes::Status state = probes::Status::unknown;  // after thresholds, before staleness
  probes::ProbeResult last;                        // the latest raw result
  bool has_result = false;
  std::chrono::steady_clock::time_point added_at;
  std::chrono::steady_clock::time_point last_result_at;
  std::chrono::system_clock::time_point since;  // wall time `effective` last changed
  std::string last_error;                       // the latest failure's message, kept
  std::chrono::system_clock::time_point last_error_at;
  std::uint32_t consecutive_failures = 0;
  std::uint32_t consecutive_successes = 0;
  bool passed_once = false;                            // latches the startup endpoint
  bool stale = false;                                  // as of the last refresh()
  probes::Status effective = probes::Status::unknown;  // state, or failing when stale
};

struct Transition {
  std::size_t index;
  probes::Status from;
  probes::Status to;
};

enum class Endpoint { liveness, readiness, startup };

// One line of a verbose answer: "[+]db ok", "[-]cache failed: connect: refused".
struct VerdictLine {
  std::string name;
  bool ok = false;
  bool excluded = false;
  std::string text;
};

struct Verdict {
  bool ok = false;
  std::vector<VerdictLine> lines;
};

enum class Overall { healthy, degraded, unhealthy };
std::string_view to_string(Overall o);

class HealthModel {
 public:
  explicit HealthModel(const Clock& clock);

  std::size_t add_check(CheckSpec spec);
  // Folds one raw result in. Returns the transition of the effective state, if any.
  std::optional<Transition> record(std::size_t index, probes::ProbeResult result);
  // Re-evaluates staleness against the clock; returns the checks whose effective state
  // changed. Called on a timer, so staleness shows even when no result ever arrives.
  std::vector<Transition> refresh();
  // After SIGTERM: readiness fails at once, liveness is unaffected.
  void set_draining();
  bool draining() const { return draining_; }

  Verdict evaluate(Endpoint endpoint, const std::vector<std::string_view>& exclude) const;
  Overall overall() const;

  const std::vector<CheckState>& checks() const { return checks_; }
  std::optional<std::size_t> find(std::string_view name) const;
  // Incremented on every change an endpoint's answer could depend on; renderers cache on it.
  std::uint64_t generation() const { return generation_; }
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }

 private:
  bool update_effective(CheckState& check, std::vector<Transition>* out, std::size_t index);

  const Clock& clock_;
  std::vector<CheckState> checks_;
  bool draining_ = false;
  std::uint64_t generation_ = 1;
  std::chrono::steady_clock::time_point started_at_;
};

// The staleness limit: results older than this count as failing.
inline constexpr int kStaleIntervals = 3;

}  // namespace covet::health
