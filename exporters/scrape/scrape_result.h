#pragma once
// One fetch of a target's page, after parsing and re-export rules: what /metrics serves for
// that target until the next fetch. Built on a pool thread, then only read, except for the
// per-format caches that the loop fills on demand.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exporters/metrics/gzip_segments.h"
#include "exporters/scrape/exposition.h"

namespace covet::scrape {

struct ScrapeResult {
  bool ok = false;
  // When !ok: timeout, refused, dns, tls, io_error, http_status, too_large, parse,
  // credentials. A failed fetch serves none of the app's series (never stale data as fresh).
  std::string reason;
  std::string error;  // one line for the log; never holds a credential

  Format source_format = Format::prometheus_text;
  // The app's families in the page's own format, minus those merged into ours.
  std::shared_ptr<const std::string> source_text;
  std::vector<MetricFamily> merged;  // see ReexportOutcome::merged

  std::size_t samples_parsed = 0;
  std::size_t samples_kept = 0;
  std::size_t dropped_by_limit = 0;
  std::size_t dropped_by_clash = 0;
  std::vector<std::string> clashing_families;

  double duration_seconds = 0;       // request start to the page ready to serve
  std::uint64_t finished_at_ms = 0;  // uv_now() when it was ready

  // The text in each format (index: Format) and its gzip segment, filled on demand on the
  // loop: a 10 MB page is converted and compressed once per fetch, not per request.
  std::array<std::shared_ptr<const std::string>, 2> text_by_format;
  std::array<std::shared_ptr<const metrics::DeflateSegment>, 2> gzip_by_format;
};

inline std::size_t format_index(Format format) { return static_cast<std::size_t>(format); }

}  // namespace covet::scrape
