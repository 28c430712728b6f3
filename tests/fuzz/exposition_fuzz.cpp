// libFuzzer target for the metrics-page parser (exporters/scrape/exposition_parser.h) and
// its writer. Input: a page; a first byte of 0x01 means OpenMetrics (and is dropped), else
// Prometheus text.
//
// Properties checked, beyond "no crash, no sanitizer report, no exception":
//  - a rejected page always says on which line (or that # EOF is missing);
//  - an accepted page, written in its own format and parsed again, is accepted and has the
//    same families and series (names, labels, values bit for bit, NaN as NaN).
//  - the re-export pipeline (rules, extra labels, the series limit, our own names) run on an
//    accepted page gives a page that parses again in the same format, with at most
//    max_series samples, as many as it says it kept.
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

#include "config/config.h"
#include "exporters/scrape/exposition_parser.h"
#include "exporters/scrape/exposition_writer.h"
#include "exporters/scrape/page_pipeline.h"
#include "exporters/scrape/reexport.h"

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

constexpr std::size_t kMaxSeries = 40;

const ReexportPlan& plan() {
  static const ReexportPlan plan = [] {
    covet::config::ScrapeTargetConfig target;
    target.max_series = kMaxSeries;
    target.labels = {{"pod", "p"}, {"job", "j"}};
    using covet::config::ScrapeRuleAction;
    target.rules = {{ScrapeRuleAction::drop, "go_.*", "", "", ""},
                    {ScrapeRuleAction::rename_label, "", "code", "", "status"},
                    {ScrapeRuleAction::drop, "", "route", "/debug.*", ""}};
    return ReexportPlan(target);
  }();
  return plan;
}

const OwnNames& own_names() {
  static const OwnNames own = [] {
    ParseResult own_page = parse_exposition(
        "# TYPE process_open_fds gauge\nprocess_open_fds 9\n"
        "# TYPE up_total counter\nup_total 1\n",
        Format::prometheus_text);
    return OwnNames(*own_page.page);
  }();
  return own;
}

void check_reexport(std::string_view input, Format format) {
  const std::shared_ptr<ScrapeResult> result =
      process_page(std::string(input),
                   format == Format::openmetrics ? "application/openmetrics-text" : "text/plain",
                   plan(), own_names());
  if (!result->ok) fail("re-export refused a page the parser accepted", result->error);
  std::string text = *result->source_text;
  if (format == Format::openmetrics) text += "# EOF\n";
  const ParseResult again = parse_exposition(text, format);
  if (!again.page) fail(("re-exported page rejected: " + again.error.to_string()).c_str(), text);
  std::size_t samples = 0;
  for (const MetricFamily& family : again.page->families) samples += family.samples.size();
  std::size_t merged = 0;
  for (const MetricFamily& family : result->merged) merged += family.samples.size();
  if (samples + merged != result->samples_kept) fail("samples_kept is not what is served", text);
  if (result->samples_kept > kMaxSeries) fail("more than max_series served", text);
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
  check_reexport(input, format);
  return 0;
}
