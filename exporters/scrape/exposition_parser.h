#pragma once
// Parses a metrics page in Prometheus text format 0.0.4 or OpenMetrics 1.0 into a Page.
//
// A page is accepted or rejected as a whole: the first problem ends parsing with its line
// number and a reason ("line 12: label value: missing closing quote"), because serving half
// a page, or a page with a misread value, is worse than serving none of it.
//
// Accepted in both formats: HELP/TYPE (and UNIT, EOF in OpenMetrics), every escape in label
// values (\\ \" \n) and HELP (\\ \n, and \" in OpenMetrics), NaN/+Inf/-Inf, timestamps,
// names with ':', UTF-8 quoted names (`{"http.server.requests", method="GET"} 1`) and
// quoted label names, a trailing comma in a label set. Prometheus text also allows tabs and
// runs of blanks between tokens, leading and trailing blanks, empty lines and free comments,
// and samples of one metric spread over the page (they are gathered into one family, as
// Prometheus does); OpenMetrics allows none of these and requires `# EOF` at the end.
// Exemplars (` # {trace_id="..."} 1 1700000000.1`) are OpenMetrics only.
//
// Pure: no I/O, so it is fuzzed directly.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "exporters/scrape/exposition.h"

namespace covet::scrape {

struct ParseError {
  std::size_t line = 0;  // 1-based; 0 for the page as a whole (a missing # EOF)
  std::string reason;

  std::string to_string() const;  // "line 12: ..."
};

struct ParseResult {
  std::optional<Page> page;  // set when the page parsed
  ParseError error;          // set otherwise
};

ParseResult parse_exposition(std::string_view text, Format format);

// The format a Content-Type names: OpenMetrics for application/openmetrics-text, else
// Prometheus text (what a missing or unknown type has always meant to Prometheus).
Format format_of_content_type(std::string_view content_type);

}  // namespace covet::scrape
