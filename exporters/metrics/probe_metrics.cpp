#include "exporters/metrics/probe_metrics.h"

#include <map>

namespace covet::metrics {
namespace {

constexpr std::array<probes::Status, 4> kStates = {probes::Status::unknown, probes::Status::passing,
                                                   probes::Status::warning,
                                                   probes::Status::failing};

}  // namespace

void ReadingsCollector::set(std::size_t index, const std::string& probe,
                            std::vector<probes::Reading> readings) {
  if (index >= readings_.size()) readings_.resize(index + 1);
  readings_[index].probe = probe;
  readings_[index].readings = std::move(readings);
}

std::vector<prometheus::MetricFamily> ReadingsCollector::Collect() const {
  // Several probes may report the same metric (two disk probes): one family each name.
  std::map<std::string, prometheus::MetricFamily> families;
  for (const ProbeReadings& entry : readings_) {
    for (const probes::Reading& reading : entry.readings) {
      auto [it, inserted] = families.try_emplace(reading.name);
      prometheus::MetricFamily& family = it->second;
      if (inserted) {
        family.name = reading.name;
        family.help = reading.help;
        family.type = reading.untyped   ? prometheus::MetricType::Untyped
                      : reading.counter ? prometheus::MetricType::Counter
                                        : prometheus::MetricType::Gauge;
      }
      prometheus::ClientMetric metric;
      metric.label.push_back({"probe", entry.probe});
      for (const auto& [name, value] : reading.labels) metric.label.push_back({name, value});
      if (family.type == prometheus::MetricType::Untyped) {
        metric.untyped.value = reading.value;
      } else if (family.type == prometheus::MetricType::Counter) {
        metric.counter.value = reading.value;
      } else {
        metric.gauge.value = reading.value;
      }
      family.metric.push_back(std::move(metric));
    }
  }
  std::vector<prometheus::MetricFamily> out;
  out.reserve(families.size());
  for (auto& [name, family] : families) out.push_back(std::move(family));
  return out;
}

ProbeMetrics::ProbeMetrics(prometheus::Registry& registry)
    : up_family_(prometheus::BuildGauge()
                     .Name("covet_sidecar_probe_up")
                     .Help("1 when the probe's effective state is passing or warning, else 0.")
                     .Register(registry)),
      state_family_(prometheus::BuildGauge()
                        .Name("covet_sidecar_probe_state")
                        .Help("1 for the probe's current effective state, 0 for the others.")
                        .Register(registry)),
      duration_family_(prometheus::BuildHistogram()
                           .Name("covet_sidecar_probe_duration_seconds")
                           .Help("Duration of probe runs, timeouts included.")
                           .Register(registry)),
      failures_family_(prometheus::BuildCounter()
                           .Name("covet_sidecar_probe_failures_total")
                           .Help("Failed probe runs by reason.")
                           .Register(registry)),
      readings_(std::make_shared<ReadingsCollector>()) {}

std::size_t ProbeMetrics::add_probe(const std::string& name, const std::string& type) {
  PerProbe probe;
  probe.name = name;
  probe.up = &up_family_.Add({{"probe", name}, {"type", type}});
  for (std::size_t i = 0; i < kStates.size(); ++i) {
    probe.state[i] = &state_family_.Add(
        {{"probe", name}, {"state", std::string(probes::to_string(kStates[i]))}});
  }
  probe.state[static_cast<std::size_t>(probes::Status::unknown)]->Set(1);
  probe.duration = &duration_family_.Add(
      {{"probe", name}}, prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.025, 0.05,
                                                                 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  probes_.push_back(probe);
  readings_->resize(probes_.size());
  return probes_.size() - 1;
}

void ProbeMetrics::observe_run(std::size_t index, const probes::ProbeResult& result) {
  if (index >= probes_.size()) return;
  PerProbe& probe = probes_[index];
  probe.duration->Observe(std::chrono::duration<double>(result.latency).count());
  if (result.status == probes::Status::failing || result.status == probes::Status::unknown) {
    const std::string reason = result.reason.empty() ? "unknown" : result.reason;
    failures_family_.Add({{"probe", probe.name}, {"reason", reason}}).Increment();
  }
  readings_->set(index, probe.name, result.readings);
}

void ProbeMetrics::set_state(std::size_t index, probes::Status effective) {
  if (index >= probes_.size()) return;
  PerProbe& probe = probes_[index];
  const bool up = effective == probes::Status::passing || effective == probes::Status::warning;
  probe.up->Set(up ? 1 : 0);
  for (std::size_t i = 0; i < kStates.size(); ++i) {
    probe.state[i]->Set(kStates[i] == effective ? 1 : 0);
  }
}

}  // namespace covet::metrics
