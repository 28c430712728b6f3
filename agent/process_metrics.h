#pragma once
// The standard process_* metrics of the sidecar itself (what client libraries in other
// languages export by default), read from /proc/self at collection time.

#include <prometheus/collectable.h>

#include <string>

namespace covet {

class ProcessMetrics final : public prometheus::Collectable {
 public:
  explicit ProcessMetrics(std::string proc_self = "/proc/self");
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string proc_self_;
};

}  // namespace covet
