#pragma once
// Every scrape target of the config, fetched together when /metrics is read, and the
// covet_sidecar_scrape_* series that describe them.
//
// Ownership: owns the targets and the libcurl multi they share; close() must finish before
// destruction (the multi's libuv handles close asynchronously).

#include <prometheus/metric_family.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/curl_multi.h"
#include "config/config.h"
#include "exporters/scrape/scrape_target.h"

namespace covet {
class Logger;
}

namespace covet::scrape {

class Scraper {
 public:
  Scraper(uv_loop_t* loop, const std::vector<config::ScrapeTargetConfig>& targets, Logger& log);
  ~Scraper();
  Scraper(const Scraper&) = delete;
  Scraper& operator=(const Scraper&) = delete;

  bool empty() const { return targets_.empty(); }

  // Calls `ready` once every target has a fresh result with its text in `format` (and its
  // gzip segment when `gzip`); at once when they all do. `own` names our families; it is
  // called at most once, and only when a fetch starts.
  void prepare(Format format, bool gzip, const OwnNamesSource& own, std::function<void()> ready);

  // The app's samples of families we export too, added to ours in `own` (see
  // ReexportOutcome::merged).
  void merge_into(Page& own) const;
  // Each target's re-exported families in `format`, appended to `out` (no # EOF).
  void append_text(Format format, std::string& out) const;
  // The same as gzip segments, appended to `segments`; `scratch` keeps any made here alive.
  void append_gzip(Format format, std::vector<const metrics::DeflateSegment*>& segments,
                   std::vector<metrics::DeflateSegment>& scratch) const;

  // covet_sidecar_scrape_up, _duration_seconds, _samples, _failures_total,
  // _series_dropped_total, one series per target (and reason).
  std::vector<prometheus::MetricFamily> families() const;

  // Abandons fetches in flight, then closes the multi; `closed` runs after its last handle.
  void close(std::function<void()> closed);

 private:
  net::CurlMulti multi_;
  std::vector<std::unique_ptr<ScrapeTarget>> targets_;
};

}  // namespace covet::scrape
