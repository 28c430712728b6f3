#pragma once
// /metrics: every collectable (the registry, readings, process metrics, server counters)
// serialized as Prometheus text 0.0.4.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace covet::metrics {

inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// Adapts a function to prometheus::Collectable, for values owned elsewhere (server stats).
class CallbackCollector final : public prometheus::Collectable {
 public:
  using Callback = std::function<std::vector<prometheus::MetricFamily>()>;
  explicit CallbackCollector(Callback callback) : callback_(std::move(callback)) {}
  std::vector<prometheus::MetricFamily> Collect() const override { return callback_(); }

 private:
  Callback callback_;
};

class Exposition {
 public:
  void add(std::shared_ptr<prometheus::Collectable> collectable);
  // Every family of every collectable, in the order they were added.
  std::vector<prometheus::MetricFamily> collect() const;
  const std::string& render();

 private:
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::string buffer_;
};

// Helpers for families built by hand.
prometheus::MetricFamily gauge_family(std::string name, std::string help, double value);
prometheus::MetricFamily counter_family(std::string name, std::string help, double value);

}  // namespace covet::metrics
