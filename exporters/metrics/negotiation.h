#pragma once
// /metrics content negotiation: which exposition format and whether to gzip, decided from
// the request's Accept and Accept-Encoding values alone. Pure functions over the header
// text, liberal in what they read: anything they cannot make sense of leaves the default
// (Prometheus text, uncompressed), which every scraper and person understands.

#include <string_view>

#include "exporters/scrape/exposition.h"

namespace covet::metrics {

// The Content-Type of each format we serve; kTextContentType (exposition.h) is the text one.
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// OpenMetrics 1.0 when `accept` names application/openmetrics-text (version absent or
// 1.0.0) with a q above 0 and at least the q it gives Prometheus text 0.0.4; Prometheus
// text otherwise, including for an empty or unparseable header. Wildcards such as "*/*"
// count for text only: OpenMetrics is sent to clients that ask for it by name.
scrape::Format choose_format(std::string_view accept);

// True when gzip (or its alias x-gzip) is acceptable: listed with q > 0, or covered by "*"
// with q > 0 and not refused by name with q=0. An empty header means no compression: RFC
// 9110 would allow any coding then, but clients that can decompress say so.
bool accepts_gzip(std::string_view accept_encoding);

// The Content-Type header value for `format`.
std::string_view content_type(scrape::Format format);

}  // namespace covet::metrics
