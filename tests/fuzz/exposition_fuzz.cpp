// libFuzzer target for the metrics-page parser (exporters/scrape/exposition_parser.h) and
// its writer. Input: a page; a first byte of 0x01 means OpenMetrics (and is dropped), else
// Prometheus text.
//
// Properties checked, beyond "no crash, no sanitizer report, no exception":
//  - a rejected page always says on which line (or that # EOF is missing);
//  - an accepted page, written in its own format and parsed again, is accepted and has the
//    same families and series (names, labels, values bit for bit, NaN as NaN).
// Conversion to the other format is not checked here: an adversarial page can hold names
// that are distinct in one format and clash in the other (a gauge `x_info` beside an info
// `x`); the real pages in tests/fixtures/metrics_pages are converted both ways in the
// unit tests instead.
//
//   ./exposition_fuzz -max_total_time=60 tests/fuzz/corpus/exposition

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "exporters/scrape/exposition_parser.h"
#include "exporters/scrape/exposition_writer.h"

namespace {

using namespace covet::scrape;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "exposition_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

bool same_bits(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0 || a == b;  // 0.0 == -0.0 is written "-0"
}

std::string written(const Page& page, Format format) {
  std::string out;
  write_families(page, format, out);
  if (format == Format::openmetrics) out += "# EOF\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Format format = Format::prometheus_text;
  if (!input.empty() && input[0] == '\x01') {
    format = Format::openmetrics;
    input.remove_prefix(1);
  }
  const ParseResult result = parse_exposition(input, format);
  if (!result.page) {
    if (result.error.reason.empty()) fail("rejected without a reason", input);
    return 0;
  }
  const Page& page = *result.page;
  const std::string again_text = written(page, format);
  const ParseResult again = parse_exposition(again_text, format);
  if (!again.page) fail(("own output rejected: " + again.error.to_string()).c_str(), again_text);
  if (again.page->families.size() != page.families.size()) fail("family count changed", again_text);
  for (std::size_t f = 0; f < page.families.size(); ++f) {
    const MetricFamily& a = page.families[f];
    const MetricFamily& b = again.page->families[f];
    if (a.name != b.name || a.type != b.type || a.help != b.help || a.unit != b.unit ||
        a.samples.size() != b.samples.size()) {
      fail("family changed", again_text);
    }
    for (std::size_t s = 0; s < a.samples.size(); ++s) {
      const Sample& x = a.samples[s];
      const Sample& y = b.samples[s];
      if (x.name != y.name || x.labels != y.labels || !same_bits(x.value, y.value) ||
          x.timestamp.has_value() != y.timestamp.has_value() ||
          x.exemplar.has_value() != y.exemplar.has_value()) {
        fail("sample changed", again_text);
      }
    }
  }
  return 0;
}
