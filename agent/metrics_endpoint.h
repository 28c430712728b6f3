#pragma once
// /metrics: our own series and every scrape target's, in the format the reader asks for
// (Prometheus text 0.0.4 by default, OpenMetrics 1.0 through Accept), gzipped when
// Accept-Encoding allows. The answer waits for the targets' fetches (each bounded by its
// timeout), so the app's series are as fresh as the reader expects.

#include <string>

#include "agent/http/server.h"
#include "exporters/metrics/exposition.h"
#include "exporters/scrape/scraper.h"

namespace covet {

class MetricsEndpoint {
 public:
  // Both outlive the endpoint.
  MetricsEndpoint(metrics::Exposition& own, scrape::Scraper& scraper);

  void handle(const http::Request& request, http::Router::Respond respond);

 private:
  http::Reply render(scrape::Format format, bool gzip);

  metrics::Exposition& own_;
  scrape::Scraper& scraper_;
};

}  // namespace covet
