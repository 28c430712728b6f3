#include "agent/health/model.h"

#include <fmt/format.h>

#include <algorithm>

namespace covet::health {
namespace {

using probes::Status;

bool is_success(Status s) { return s == Status::passing || s == Status::warning; }

unsigned role_of(Endpoint e) {
  switch (e) {
    case Endpoint::liveness:
      return config::kLiveness;
    case Endpoint::readiness:
      return config::kReadiness;
    case Endpoint::startup:
      return config::kStartup;
  }
  return 0;
}

std::string describe_failure(const CheckState& check, std::chrono::steady_clock::time_point now) {
  if (check.stale) {
    auto since = check.has_result ? check.last_result_at : check.added_at;
    auto age = std::chrono::duration_cast<std::chrono::seconds>(now - since).count();
    return fmt::format("stale: no result for {}s (interval {}ms)", age,
                       check.spec.interval.count());
  }
  if (check.effective == Status::unknown) return "no result yet";
  if (!check.last_error.empty()) return check.last_error;
  return "failing";
}

}  // namespace

std::string_view to_string(Overall o) {
  switch (o) {
    case Overall::healthy:
      return "healthy";
    case Overall::degraded:
      return "degraded";
    case Overall::unhealthy:
      return "unhealthy";
  }
  return "unhealthy";
}

HealthModel::HealthModel(const Clock& clock) : clock_(clock), started_at_(clock.now()) {}

std::size_t HealthModel::add_check(CheckSpec spec) {
  CheckState check;
  check.spec = std::move(spec);
  check.added_at = clock_.now();
  check.since = clock_.wall();
  checks_.push_back(std::move(check));
  ++generation_;
  return checks_.size() - 1;
}

std::optional<std::size_t> HealthModel::find(std::string_view name) const {
  for (std::size_t i = 0; i < checks_.size(); ++i) {
    if (checks_[i].spec.name == name) return i;
  }
  return std::nullopt;
}

std::optional<Transition> HealthModel::record(std::size_t index, probes::ProbeResult result) {
  if (index >= checks_.size()) return std::nullopt;
  CheckState& check = checks_[index];
  const bool success = is_success(result.status);
  check.has_result = true;
  check.last_result_at = clock_.now();
  if (success) {
    check.consecutive_failures = 0;
    ++check.consecutive_successes;
    // passing <-> warning moves at once: both are successes, the threshold guards only
    // the way back from failing (or out of unknown).
    if (is_success(check.state) || check.consecutive_successes >= check.spec.success_threshold) {
      check.state = result.status;
      check.passed_once = true;
    }
  } else {
    if (result.status != Status::failing) {
      // A probe must decide; one that reports unknown is treated as failing so that a
      // bug there cannot look healthy.
      result.status = Status::failing;
      if (result.error.empty()) result.error = "probe returned no result";
      if (result.reason.empty()) result.reason = "internal";
    }
    check.consecutive_successes = 0;
    ++check.consecutive_failures;
    check.last_error = result.error;
    check.last_error_at = clock_.wall();
    if (check.consecutive_failures >= check.spec.failure_threshold) check.state = Status::failing;
  }
  check.last = std::move(result);
  // Every result can change a verbose answer's text; bodies are re-rendered lazily.
  ++generation_;
  std::vector<Transition> transitions;
  update_effective(check, &transitions, index);
  if (transitions.empty()) return std::nullopt;
  return transitions.front();
}

std::vector<Transition> HealthModel::refresh() {
  std::vector<Transition> transitions;
  for (std::size_t i = 0; i < checks_.size(); ++i) update_effective(checks_[i], &transitions, i);
  return transitions;
}

bool HealthModel::update_effective(CheckState& check, std::vector<Transition>* out,
                                   std::size_t index) {
  const auto now = clock_.now();
  const auto reference = check.has_result ? check.last_result_at : check.added_at;
  check.stale = now - reference > kStaleIntervals * check.spec.interval;
  const Status effective = check.stale ? Status::failing : check.state;
  if (effective == check.effective) return false;
  out->push_back(Transition{index, check.effective, effective});
  check.effective = effective;
  check.since = clock_.wall();
  ++generation_;
  return true;
}

void HealthModel::set_draining() {
  if (draining_) return;
  draining_ = true;
  ++generation_;
}

Verdict HealthModel::evaluate(Endpoint endpoint,
                              const std::vector<std::string_view>& exclude) const {
  Verdict verdict;
  verdict.ok = true;
  const unsigned role = role_of(endpoint);
  const auto now = clock_.now();
  if (endpoint == Endpoint::readiness && draining_) {
    // Not excludable: a draining pod must leave the Service endpoints whatever is asked.
    verdict.lines.push_back(
        {"shutdown", false, false, "failed: draining, the process is shutting down"});
    verdict.ok = false;
  }
  for (const CheckState& check : checks_) {
    if ((check.spec.roles & role) == 0) continue;
    VerdictLine line;
    line.name = check.spec.name;
    switch (endpoint) {
      case Endpoint::readiness:
        line.ok = is_success(check.effective);
        break;
      // Unknown is alive: a liveness probe must not restart a container before its first
      // result is in.
      case Endpoint::liveness:
        line.ok = check.effective != Status::failing;
        break;
      // Latched: once every startup check has passed, startup stays done (as kubelet expects).
      case Endpoint::startup:
        line.ok = check.passed_once;
        break;
    }
    if (std::find(exclude.begin(), exclude.end(), check.spec.name) != exclude.end()) {
      line.excluded = true;
      line.text = "excluded: ok";
      line.ok = true;
    } else if (line.ok) {
      line.text = check.effective == Status::warning && !check.last.error.empty()
                      ? "ok (warning: " + check.last.error + ")"
                      : "ok";
    } else {
      const char* word = check.effective == Status::unknown ? "unknown" : "failed";
      line.text = fmt::format("{}: {}", word, describe_failure(check, now));
    }
    verdict.ok = verdict.ok && line.ok;
    verdict.lines.push_back(std::move(line));
  }
  return verdict;
}

Overall HealthModel::overall() const {
  Overall result = Overall::healthy;
  for (const CheckState& check : checks_) {
    const bool gating = (check.spec.roles & (config::kReadiness | config::kLiveness)) != 0;
    if (check.effective == Status::failing && gating) return Overall::unhealthy;
    if (check.effective != Status::passing) result = Overall::degraded;
  }
  return result;
}

}  // namespace covet::health
