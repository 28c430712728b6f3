#pragma once
// Our own metrics (prometheus-cpp's registry and collectors) as a scrape::Page, so they are
// written by the same writer as the app's series: one serializer for both formats, and one
// page in which the app's families can join ours of the same name.

#include <prometheus/metric_family.h>

#include <vector>

#include "exporters/scrape/exposition.h"

namespace covet::metrics {

// In Prometheus-text naming (counters keep their `_total`).
scrape::Page to_page(const std::vector<prometheus::MetricFamily>& families);

}  // namespace covet::metrics
