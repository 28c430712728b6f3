#pragma once
// Per-probe metrics, declared together: up, state, duration and failures by reason, plus the
// readings probes take (disk space, memory), exported under the names the probe chose.

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "probes/probe.h"

namespace covet::metrics {

// The latest readings of every probe, turned into metric families at collection time (a
// reading may be a gauge or a counter; prometheus-cpp counters can't be set, only added to).
class ReadingsCollector final : public prometheus::Collectable {
 public:
  void resize(std::size_t probes) { readings_.resize(probes); }
  void set(std::size_t index, const std::string& probe, std::vector<probes::Reading> readings);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct ProbeReadings {
    std::string probe;
    std::vector<probes::Reading> readings;
  };
  std::vector<ProbeReadings> readings_;
};

class ProbeMetrics {
 public:
  explicit ProbeMetrics(prometheus::Registry& registry);

  // Index order matches the health model's check indices.
  std::size_t add_probe(const std::string& name, const std::string& type);
  // One finished run: its duration, and on failure its reason.
  void observe_run(std::size_t index, const probes::ProbeResult& result);
  // The effective state after thresholds and staleness (what the endpoints answer from).
  void set_state(std::size_t index, probes::Status effective);

  std::shared_ptr<ReadingsCollector> readings() const { return readings_; }

 private:
  struct PerProbe {
    std::string name;
    prometheus::Gauge* up;
    std::array<prometheus::Gauge*, 4> state;  // indexed by probes::Status
    prometheus::Histogram* duration;
  };

  prometheus::Family<prometheus::Gauge>& up_family_;
  prometheus::Family<prometheus::Gauge>& state_family_;
  prometheus::Family<prometheus::Histogram>& duration_family_;
  prometheus::Family<prometheus::Counter>& failures_family_;
  std::vector<PerProbe> probes_;
  std::shared_ptr<ReadingsCollector> readings_;
};

}  // namespace covet::metrics
