#pragma once
// Writes a Page as Prometheus text 0.0.4 or OpenMetrics 1.0, whichever format it came in.
//
// Writing a page in its own format keeps every series, value, timestamp and label exactly
// (parse → write → parse gives the same page). Across formats, what the target format
// cannot say is translated the way Prometheus' own clients do it: an OpenMetrics counter
// `x` becomes `x_total` (and `x_created` a gauge), info and stateset become gauges,
// exemplars and units are dropped in Prometheus text; a Prometheus-text counter whose name
// lacks `_total` becomes `unknown` in OpenMetrics rather than being renamed.

#include <string>

#include "exporters/scrape/exposition.h"

namespace covet::scrape {

// Appends the families to `out`; OpenMetrics' closing `# EOF` is not written (the caller
// may add more families first).
void write_families(const Page& page, Format format, std::string& out);

// A number as both formats write it: shortest round-trip form, NaN, +Inf, -Inf.
void append_number(double value, std::string& out);

}  // namespace covet::scrape
