#pragma once
// A scraped metrics page, as data: families of samples with labels, timestamps and
// exemplars, in the order the page gave them. Both text formats the app may serve parse into
// this (exporters/scrape/exposition_parser.h) and are written back from it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace covet::scrape {

enum class Format {
  prometheus_text,  // text/plain; version=0.0.4
  openmetrics,      // application/openmetrics-text; version=1.0.0
};

enum class MetricType {
  untyped,  // "untyped" in Prometheus text, "unknown" in OpenMetrics
  counter,
  gauge,
  histogram,
  summary,
  info,
  stateset,
  gaugehistogram,
};

// The word a TYPE line uses for `type` in `format`.
std::string_view type_name(MetricType type, Format format);

struct Label {
  std::string name;
  std::string value;

  bool operator==(const Label&) const = default;
};

struct Exemplar {
  std::vector<Label> labels;
  double value = 0;
  std::optional<double> timestamp;  // seconds

  bool operator==(const Exemplar&) const = default;
};

struct Sample {
  std::string name;  // the full sample name: "http_requests_total", "latency_bucket"
  std::vector<Label> labels;
  double value = 0;
  // Seconds since the epoch. Prometheus text writes milliseconds; they are converted.
  std::optional<double> timestamp;
  std::optional<Exemplar> exemplar;  // OpenMetrics only
};

struct MetricFamily {
  std::string name;  // without a type suffix: "http_requests" for an OpenMetrics counter
  MetricType type = MetricType::untyped;
  std::optional<std::string> help;  // unescaped
  std::string unit;                 // OpenMetrics UNIT, else empty
  std::vector<Sample> samples;
};

struct Page {
  Format format = Format::prometheus_text;
  std::vector<MetricFamily> families;
};

}  // namespace covet::scrape
