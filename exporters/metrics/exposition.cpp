#include "exporters/metrics/exposition.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace covet::metrics {

void Exposition::add(std::shared_ptr<prometheus::Collectable> collectable) {
  collectables_.push_back(std::move(collectable));
}

std::vector<prometheus::MetricFamily> Exposition::collect() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : collectables_) {
    auto collected = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  return families;
}

const std::string& Exposition::render() {
  const std::vector<prometheus::MetricFamily> families = collect();
  // prometheus-cpp serializes into an ostream; /metrics is read every 15-60 s, so a fresh
  // stream per request costs nothing that matters. Our own hot paths avoid this.
  std::ostringstream stream;
  prometheus::TextSerializer{}.Serialize(stream, families);
  buffer_ = std::move(stream).str();
  return buffer_;
}

prometheus::MetricFamily gauge_family(std::string name, std::string help, double value) {
  prometheus::MetricFamily family{
      std::move(name), std::move(help), prometheus::MetricType::Gauge, {}};
  prometheus::ClientMetric metric;
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
  return family;
}

prometheus::MetricFamily counter_family(std::string name, std::string help, double value) {
  prometheus::MetricFamily family{
      std::move(name), std::move(help), prometheus::MetricType::Counter, {}};
  prometheus::ClientMetric metric;
  metric.counter.value = value;
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace covet::metrics
