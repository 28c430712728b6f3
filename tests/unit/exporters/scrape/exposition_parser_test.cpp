// The exposition parser: real pages captured from Debian's exporters, Prometheus,
// prom-client and the example app (tests/fixtures/metrics_pages), hand-made cases for each rule,
// malformed pages rejected whole with a line number, and parse → write → parse keeping every
// series.

#include "exporters/scrape/exposition_parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "exporters/scrape/exposition_writer.h"

namespace covet::scrape {
namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(COVET_FIXTURES_DIR) + "/metrics_pages/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Page parsed(std::string_view text, Format format) {
  ParseResult result = parse_exposition(text, format);
  EXPECT_TRUE(result.page.has_value()) << result.error.to_string();
  return result.page ? std::move(*result.page) : Page{};
}

std::string error_of(std::string_view text, Format format) {
  ParseResult result = parse_exposition(text, format);
  EXPECT_FALSE(result.page.has_value()) << "accepted: " << text;
  return result.error.to_string();
}

std::size_t sample_count(const Page& page) {
  std::size_t count = 0;
  for (const MetricFamily& family : page.families) count += family.samples.size();
  return count;
}

// Sample lines counted independently of the parser: not empty, not a comment.
std::size_t sample_lines(const std::string& text) {
  std::istringstream in(text);
  std::size_t count = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') ++count;
  }
  return count;
}

bool same_number(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// Every series (name, labels, value, timestamp, exemplar) of `a` is in `b`, in order.
void expect_same_series(const Page& a, const Page& b) {
  std::vector<const Sample*> left, right;
  for (const MetricFamily& f : a.families) {
    for (const Sample& s : f.samples) left.push_back(&s);
  }
  for (const MetricFamily& f : b.families) {
    for (const Sample& s : f.samples) right.push_back(&s);
  }
  ASSERT_EQ(left.size(), right.size());
  for (std::size_t i = 0; i < left.size(); ++i) {
    EXPECT_EQ(left[i]->name, right[i]->name);
    EXPECT_EQ(left[i]->labels, right[i]->labels) << left[i]->name;
    EXPECT_TRUE(same_number(left[i]->value, right[i]->value)) << left[i]->name;
    EXPECT_EQ(left[i]->timestamp.has_value(), right[i]->timestamp.has_value());
    if (left[i]->timestamp && right[i]->timestamp) {
      EXPECT_DOUBLE_EQ(*left[i]->timestamp, *right[i]->timestamp);
    }
    EXPECT_EQ(left[i]->exemplar, right[i]->exemplar) << left[i]->name;
  }
}

void expect_round_trip(const Page& page) {
  std::string written;
  write_families(page, page.format, written);
  if (page.format == Format::openmetrics) written += "# EOF\n";
  const Page again = parsed(written, page.format);
  expect_same_series(page, again);
  ASSERT_EQ(page.families.size(), again.families.size());
  for (std::size_t i = 0; i < page.families.size(); ++i) {
    EXPECT_EQ(page.families[i].name, again.families[i].name);
    EXPECT_EQ(page.families[i].type, again.families[i].type);
    EXPECT_EQ(page.families[i].help, again.families[i].help);
    EXPECT_EQ(page.families[i].unit, again.families[i].unit);
  }
}

const MetricFamily* family(const Page& page, std::string_view name) {
  for (const MetricFamily& f : page.families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

class RealPages : public ::testing::TestWithParam<const char*> {};

TEST_P(RealPages, ParseWholeAndRoundTrip) {
  const std::string name = GetParam();
  const Format format = name.ends_with(".om") ? Format::openmetrics : Format::prometheus_text;
  const std::string text = read_fixture(name);
  const Page page = parsed(text, format);
  EXPECT_EQ(sample_count(page), sample_lines(text)) << name;
  EXPECT_GT(page.families.size(), 10u) << name;
  expect_round_trip(page);

  // And in the other format, as a scraper asking for it would get the page.
  const Format other =
      format == Format::openmetrics ? Format::prometheus_text : Format::openmetrics;
  std::string converted;
  write_families(page, other, converted);
  if (other == Format::openmetrics) converted += "# EOF\n";
  const ParseResult again = parse_exposition(converted, other);
  ASSERT_TRUE(again.page.has_value()) << again.error.to_string();
  EXPECT_EQ(sample_count(*again.page), sample_count(page));  // nothing dropped but exemplars
}

INSTANTIATE_TEST_SUITE_P(MetricsPages, RealPages,
                         ::testing::Values("node_exporter.prom", "postgres_exporter.prom",
                                           "redis_exporter.prom", "prometheus.prom",
                                           "prom_client.prom", "prom_client.om", "example_app.prom",
                                           "example_app.om", "example_app_frozen.prom",
                                           "example_app_frozen.om"));

TEST(ExpositionParser, RealPagesHaveTheirTypesAndValues) {
  const Page node = parsed(read_fixture("node_exporter.prom"), Format::prometheus_text);
  const MetricFamily* cpu = family(node, "node_cpu_seconds_total");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->type, MetricType::counter);
  EXPECT_FALSE(cpu->samples.empty());
  const MetricFamily* gc = family(node, "go_gc_duration_seconds");
  ASSERT_NE(gc, nullptr);
  EXPECT_EQ(gc->type, MetricType::summary);

  const Page app = parsed(read_fixture("prom_client.om"), Format::openmetrics);
  const MetricFamily* requests = family(app, "http_requests");
  ASSERT_NE(requests, nullptr);
  EXPECT_EQ(requests->type, MetricType::counter);
  ASSERT_FALSE(requests->samples.empty());
  EXPECT_EQ(requests->samples[0].name, "http_requests_total");
  ASSERT_TRUE(requests->samples[0].exemplar.has_value());
  EXPECT_EQ(requests->samples[0].exemplar->labels[0].name, "trace_id");
  const MetricFamily* duration = family(app, "http_request_duration_seconds");
  ASSERT_NE(duration, nullptr);
  EXPECT_EQ(duration->type, MetricType::histogram);
}

const Sample* sample_with(const MetricFamily& family, std::string_view name,
                          const std::vector<Label>& labels) {
  for (const Sample& s : family.samples) {
    if (s.name == name && s.labels == labels) return &s;
  }
  return nullptr;
}

// The example app's frozen page (examples/app/server.js --frozen) in both formats: the same
// families and values, escaped label values read back, NaN and +Inf, exemplars in OpenMetrics.
TEST(ExpositionParser, ExampleAppFrozenPagesAgree) {
  const Page prom = parsed(read_fixture("example_app_frozen.prom"), Format::prometheus_text);
  const Page om = parsed(read_fixture("example_app_frozen.om"), Format::openmetrics);
  ASSERT_EQ(prom.families.size(), om.families.size());
  for (std::size_t i = 0; i < prom.families.size(); ++i) {
    const MetricFamily& p = prom.families[i];
    const MetricFamily& o = om.families[i];
    EXPECT_EQ(p.type, o.type) << p.name;
    ASSERT_EQ(p.samples.size(), o.samples.size()) << p.name;
    for (std::size_t j = 0; j < p.samples.size(); ++j) {
      EXPECT_EQ(p.samples[j].name, o.samples[j].name);
      EXPECT_EQ(p.samples[j].labels, o.samples[j].labels) << p.samples[j].name;
      EXPECT_TRUE(same_number(p.samples[j].value, o.samples[j].value)) << p.samples[j].name;
      EXPECT_FALSE(p.samples[j].exemplar.has_value());
    }
  }

  const MetricFamily* requests = family(om, "http_requests");
  ASSERT_NE(requests, nullptr);
  EXPECT_EQ(requests->type, MetricType::counter);
  const Sample* live = sample_with(*requests, "http_requests_total",
                                   {{"method", "GET"}, {"route", "/health/live"}, {"code", "200"}});
  ASSERT_NE(live, nullptr);
  EXPECT_EQ(live->value, 8640);
  ASSERT_TRUE(live->exemplar.has_value());
  EXPECT_EQ(live->exemplar->labels,
            (std::vector<Label>{{"trace_id", "4bf92f3577b34da6a3ce929d0e0e4703"}}));
  EXPECT_EQ(live->exemplar->value, 1);
  EXPECT_TRUE(live->exemplar->timestamp.has_value());

  const MetricFamily* duration = family(om, "http_request_duration_seconds");
  ASSERT_NE(duration, nullptr);
  EXPECT_EQ(duration->type, MetricType::histogram);
  const Sample* inf = sample_with(*duration, "http_request_duration_seconds_bucket",
                                  {{"le", "+Inf"}, {"method", "GET"}, {"route", "/work"}});
  ASSERT_NE(inf, nullptr);
  EXPECT_EQ(inf->value, 11);
  ASSERT_TRUE(inf->exemplar.has_value());
  EXPECT_EQ(inf->exemplar->value, 12);

  const MetricFamily* hits = family(prom, "cache_hits_total");
  ASSERT_NE(hits, nullptr);
  const Sample* escaped =
      sample_with(*hits, "cache_hits_total", {{"cache", "tenant \"eu\"\\west\nsecondary"}});
  ASSERT_NE(escaped, nullptr);
  EXPECT_EQ(escaped->value, 5);

  const MetricFamily* limits = family(prom, "app_rate_limit_requests_per_second");
  ASSERT_NE(limits, nullptr);
  EXPECT_EQ(limits->type, MetricType::gauge);
  const Sample* unlimited = sample_with(*limits, limits->name, {{"route", "/"}});
  const Sample* unknown = sample_with(*limits, limits->name, {{"route", "/metrics"}});
  ASSERT_NE(unlimited, nullptr);
  ASSERT_NE(unknown, nullptr);
  EXPECT_EQ(unlimited->value, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(unknown->value));
}

TEST(ExpositionParser, PrometheusTextBasics) {
  const Page page = parsed(
      "# HELP http_requests_total Requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"GET\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"POST\",code=\"400\",} 3\n"
      "\n"
      "# a free comment\n"
      "  up\t\t1  \n"
      "rpc:latency:rate5m{le=\"+Inf\"} -Inf\n"
      "nan_value NaN\n"
      "go_spellings{x=\"1\"} Nan\n"
      "go_spellings{x=\"2\"} +inf\n",
      Format::prometheus_text);
  ASSERT_EQ(page.families.size(), 5u);
  const MetricFamily& requests = page.families[0];
  EXPECT_EQ(requests.name, "http_requests_total");
  EXPECT_EQ(requests.type, MetricType::counter);
  EXPECT_EQ(requests.help, "Requests.");
  ASSERT_EQ(requests.samples.size(), 2u);
  EXPECT_EQ(requests.samples[0].value, 1027);
  ASSERT_TRUE(requests.samples[0].timestamp.has_value());
  EXPECT_DOUBLE_EQ(*requests.samples[0].timestamp, 1395066363.0);
  EXPECT_EQ(requests.samples[1].labels.size(), 2u);  // the trailing comma is fine
  EXPECT_EQ(page.families[1].name, "up");
  EXPECT_EQ(page.families[1].type, MetricType::untyped);
  EXPECT_EQ(page.families[2].name, "rpc:latency:rate5m");
  EXPECT_TRUE(std::isinf(page.families[2].samples[0].value));
  EXPECT_LT(page.families[2].samples[0].value, 0);
  EXPECT_TRUE(std::isnan(page.families[3].samples[0].value));
  // As Go's ParseFloat (and so Prometheus) reads them; prom-client writes "Nan".
  EXPECT_TRUE(std::isnan(page.families[4].samples[0].value));
  EXPECT_TRUE(std::isinf(page.families[4].samples[1].value));
}

TEST(ExpositionParser, EscapesInLabelValuesAndHelp) {
  const Page page = parsed(
      "# HELP msdos_file_access_time_seconds Last access: C:\\\\DIR\\nsecond line \\q.\n"
      "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find "
      "file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n",
      Format::prometheus_text);
  ASSERT_EQ(page.families.size(), 1u);
  // Unknown escapes are kept as written in Prometheus text.
  EXPECT_EQ(page.families[0].help, "Last access: C:\\DIR\nsecond line \\q.");
  const Sample& sample = page.families[0].samples[0];
  EXPECT_EQ(sample.labels[0].value, "C:\\DIR\\FILE.TXT");
  EXPECT_EQ(sample.labels[1].value, "Cannot find file:\n\"FILE.TXT\"");
  EXPECT_DOUBLE_EQ(sample.value, 1458255915.0);
  expect_round_trip(page);
}

TEST(ExpositionParser, HistogramAndSummaryGroupTheirSamples) {
  const Page page = parsed(
      "# TYPE latency_seconds histogram\n"
      "latency_seconds_bucket{le=\"0.1\"} 1\n"
      "latency_seconds_bucket{le=\"+Inf\"} 3\n"
      "latency_seconds_sum 0.9\n"
      "latency_seconds_count 3\n"
      "# TYPE rpc_seconds summary\n"
      "rpc_seconds{quantile=\"0.5\"} 0.2\n"
      "rpc_seconds_sum 4\n"
      "rpc_seconds_count 9\n",
      Format::prometheus_text);
  ASSERT_EQ(page.families.size(), 2u);
  EXPECT_EQ(page.families[0].samples.size(), 4u);
  EXPECT_EQ(page.families[1].samples.size(), 3u);
}

TEST(ExpositionParser, SpreadSamplesOfOneMetricAreGatheredInPrometheusText) {
  const Page page = parsed("a{x=\"1\"} 1\nb 2\na{x=\"2\"} 3\n", Format::prometheus_text);
  ASSERT_EQ(page.families.size(), 2u);
  EXPECT_EQ(page.families[0].samples.size(), 2u);
}

TEST(ExpositionParser, QuotedUtf8Names) {
  const Page page = parsed(
      "# HELP \"http.server.requests\" Requests, OpenTelemetry-named.\n"
      "# TYPE \"http.server.requests\" counter\n"
      "{\"http.server.requests\", \"http.method\"=\"GET\", code=\"200\"} 5\n"
      "{\"ünïcode.name\"} 1\n",
      Format::prometheus_text);
  ASSERT_EQ(page.families.size(), 2u);
  EXPECT_EQ(page.families[0].name, "http.server.requests");
  EXPECT_EQ(page.families[0].type, MetricType::counter);
  ASSERT_EQ(page.families[0].samples.size(), 1u);
  EXPECT_EQ(page.families[0].samples[0].labels[0].name, "http.method");
  EXPECT_EQ(page.families[1].name, "ünïcode.name");
  expect_round_trip(page);
}

TEST(ExpositionParser, OpenMetricsFamiliesExemplarsUnitsAndEof) {
  const Page page = parsed(
      "# TYPE acme_http_router_request_seconds summary\n"
      "# UNIT acme_http_router_request_seconds seconds\n"
      "# HELP acme_http_router_request_seconds Latency \\\"quoted\\\".\n"
      "acme_http_router_request_seconds_sum{path=\"/api/v1\",method=\"GET\"} 9036.32\n"
      "acme_http_router_request_seconds_count{path=\"/api/v1\",method=\"GET\"} 807283.0\n"
      "acme_http_router_request_seconds_created{path=\"/api/v1\",method=\"GET\"} 1605281325.0\n"
      "# TYPE foo counter\n"
      "foo_total 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n"
      "foo_created 1520430000.123\n"
      "# TYPE build info\n"
      "build_info{version=\"1.2\"} 1\n"
      "# TYPE door stateset\n"
      "door{door=\"open\"} 1\n"
      "door{door=\"closed\"} 0\n"
      "# TYPE queue gaugehistogram\n"
      "queue_bucket{le=\"1\"} 2 # {} 0.5 1520879607\n"
      "queue_bucket{le=\"+Inf\"} 4\n"
      "queue_gcount 4\n"
      "queue_gsum 3.5\n"
      "# EOF\n",
      Format::openmetrics);
  ASSERT_EQ(page.families.size(), 5u);
  EXPECT_EQ(page.families[0].unit, "seconds");
  EXPECT_EQ(page.families[0].help, "Latency \"quoted\".");
  EXPECT_EQ(page.families[0].samples.size(), 3u);
  const MetricFamily& foo = page.families[1];
  EXPECT_EQ(foo.type, MetricType::counter);
  ASSERT_EQ(foo.samples.size(), 2u);
  ASSERT_TRUE(foo.samples[0].exemplar.has_value());
  EXPECT_EQ(foo.samples[0].exemplar->labels, (std::vector<Label>{{"trace_id", "KOO5S4vxi0o"}}));
  EXPECT_DOUBLE_EQ(foo.samples[0].exemplar->value, 0.67);
  EXPECT_FALSE(foo.samples[0].exemplar->timestamp.has_value());
  EXPECT_DOUBLE_EQ(*foo.samples[0].timestamp, 1520879607.789);
  EXPECT_EQ(page.families[2].type, MetricType::info);
  EXPECT_EQ(page.families[3].type, MetricType::stateset);
  EXPECT_EQ(page.families[4].type, MetricType::gaugehistogram);
  ASSERT_TRUE(page.families[4].samples[0].exemplar.has_value());
  EXPECT_TRUE(page.families[4].samples[0].exemplar->labels.empty());
  expect_round_trip(page);
}

TEST(ExpositionParser, MalformedPagesAreRejectedWithLineAndReason) {
  const Format text = Format::prometheus_text;
  EXPECT_EQ(error_of("ok 1\nbad{a=\"1\" 2\n", text),
            "line 2: label set: expected ',' or '}', got '2'");
  EXPECT_EQ(error_of("a{b=\"unterminated} 1\n", text),
            "line 1: label b value: missing closing quote");
  EXPECT_EQ(error_of("a 1\na nope\n", text), "line 2: a: invalid value \"nope\"");
  EXPECT_EQ(error_of("a 0x10\n", text), "line 1: a: invalid value \"0x10\"");
  EXPECT_EQ(error_of("a 1 12.5\n", text),
            "line 1: a: invalid timestamp \"12.5\" (integer milliseconds)");
  EXPECT_EQ(error_of("a 1 2 3\n", text), "line 1: a: unexpected text \"3\" after the value");
  EXPECT_EQ(error_of("a{x=\"1\",x=\"2\"} 1\n", text), "line 1: label x appears twice");
  EXPECT_EQ(error_of("# TYPE a gauge\n# TYPE a counter\n", text), "line 2: second TYPE line for a");
  EXPECT_EQ(error_of("a 1\n# TYPE a gauge\n", text), "line 2: TYPE for a after its samples");
  EXPECT_EQ(error_of("# TYPE a histogramm\n", text),
            "line 1: TYPE for a: unknown type \"histogramm\"");
  EXPECT_EQ(error_of("# TYPE h histogram\nh_bucket 1\n", text),
            "line 2: h_bucket: a histogram bucket needs a numeric \"le\" label");
  EXPECT_EQ(error_of("# TYPE s summary\ns 1\n", text),
            "line 2: s: a summary quantile needs a numeric \"quantile\" label");
  EXPECT_EQ(error_of("# TYPE h histogram\nh_count 1\nh{le=\"1\"} 1\n", text),
            "line 3: sample h does not belong to histogram h of the same name");
  EXPECT_EQ(error_of("1a 1\n", text), "line 1: expected a metric name");
  EXPECT_EQ(error_of("a\n", text), "line 1: expected a space before the value");
  EXPECT_EQ(error_of("a 1\r\n", text), "line 1: carriage return at the end of the line (\\n only)");
  EXPECT_EQ(error_of("a{x=\"\xff\"} 1\n", text), "line 1: label x value: not valid UTF-8");
  EXPECT_EQ(error_of("{} 1\n", text), "line 1: missing metric name");
  EXPECT_EQ(
      error_of("a{\"x\"=\"1\", \"b.c\"} 1\n", text),
      "line 1: label set: a quoted metric name must come first, instead of a name before '{'");
  // Exemplars are OpenMetrics only.
  EXPECT_EQ(error_of("# TYPE c counter\nc 1 # {a=\"b\"} 1\n", text),
            "line 2: c: invalid timestamp \"#\" (integer milliseconds)");
}

TEST(ExpositionParser, OpenMetricsIsStrict) {
  const Format om = Format::openmetrics;
  EXPECT_EQ(error_of("a 1\n", om), "missing # EOF at the end");
  EXPECT_EQ(error_of("a 1\n# EOF\nb 1\n", om), "line 3: content after # EOF");
  EXPECT_EQ(error_of("a 1\n\n# EOF\n", om), "line 2: empty line (OpenMetrics allows none)");
  EXPECT_EQ(error_of("a  1\n# EOF\n", om),
            "line 1: more than one space between tokens (OpenMetrics allows one)");
  EXPECT_EQ(error_of("a\t1\n# EOF\n", om), "line 1: expected a space before the value");
  EXPECT_EQ(error_of("# free comment\n# EOF\n", om),
            "line 1: expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\"");
  EXPECT_EQ(error_of("# TYPE a untyped\n# EOF\n", om),
            "line 1: TYPE for a: unknown type \"untyped\"");
  EXPECT_EQ(error_of("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n# EOF\n", om),
            "line 5: sample a: its family a appeared earlier, not together");
  EXPECT_EQ(error_of("# TYPE g gauge\ng 1 # {a=\"b\"} 1\n# EOF\n", om),
            "line 2: g: exemplars belong on counter _total and histogram _bucket samples only");
  EXPECT_EQ(
      error_of("# TYPE c counter\nc_total 1 # {a=\"" + std::string(130, 'x') + "\"} 1\n# EOF\n",
               om),
      "line 2: c_total: exemplar labels longer than 128 characters");
  EXPECT_EQ(error_of("# UNIT a_seconds bytes\n# EOF\n", om),
            "line 1: UNIT bytes for a_seconds: the name must end in _bytes");
  EXPECT_EQ(error_of("a{x=\"\\t\"} 1\n# EOF\n", om),
            "line 1: label x value: invalid escape \\t (OpenMetrics has \\\\, \\\" and \\n)");
  EXPECT_EQ(error_of("a 1 NaN\n# EOF\n", om), "line 1: a: invalid timestamp \"NaN\" (seconds)");
  // A counter's samples in OpenMetrics are name_total and name_created.
  EXPECT_EQ(error_of("# TYPE c counter\nc_total 1\nc 2\n# EOF\n", om),
            "line 3: sample c does not belong to counter c of the same name");
}

TEST(ExpositionParser, FormatFromContentType) {
  EXPECT_EQ(format_of_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Format::openmetrics);
  EXPECT_EQ(format_of_content_type("Application/OpenMetrics-Text"), Format::openmetrics);
  EXPECT_EQ(format_of_content_type("text/plain; version=0.0.4"), Format::prometheus_text);
  EXPECT_EQ(format_of_content_type(""), Format::prometheus_text);
}

TEST(ExpositionWriter, CrossFormatKeepsNamesQueriesUse) {
  const Page om = parsed(
      "# TYPE foo counter\nfoo_total 17 # {trace_id=\"x\"} 1\nfoo_created 1520430000\n"
      "# TYPE build info\nbuild_info{version=\"1\"} 1\n# EOF\n",
      Format::openmetrics);
  std::string text;
  write_families(om, Format::prometheus_text, text);
  EXPECT_EQ(text,
            "# TYPE foo_total counter\nfoo_total 17\n"
            "# TYPE foo_created gauge\nfoo_created 1520430000\n"
            "# TYPE build_info gauge\nbuild_info{version=\"1\"} 1\n");
  EXPECT_TRUE(parse_exposition(text, Format::prometheus_text).page.has_value());

  const Page prom =
      parsed("# TYPE requests_total counter\nrequests_total 3\n# TYPE legacy counter\nlegacy 4\n",
             Format::prometheus_text);
  std::string openmetrics;
  write_families(prom, Format::openmetrics, openmetrics);
  openmetrics += "# EOF\n";
  EXPECT_EQ(openmetrics,
            "# TYPE requests counter\nrequests_total 3\n"
            "# TYPE legacy unknown\nlegacy 4\n# EOF\n");
  EXPECT_TRUE(parse_exposition(openmetrics, Format::openmetrics).page.has_value());
}

}  // namespace
}  // namespace covet::scrape
