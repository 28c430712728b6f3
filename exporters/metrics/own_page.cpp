#include "exporters/metrics/own_page.h"

#include <limits>
#include <string>

#include "exporters/scrape/exposition_writer.h"

namespace covet::metrics {
namespace {

using scrape::Label;
using scrape::MetricFamily;
using scrape::MetricType;
using scrape::Sample;

std::vector<Label> labels_of(const prometheus::ClientMetric& metric) {
  std::vector<Label> labels;
  labels.reserve(metric.label.size() + 1);
  for (const auto& label : metric.label) labels.push_back(Label{label.name, label.value});
  return labels;
}

std::string number_text(double value) {
  std::string text;
  scrape::append_number(value, text);
  return text;
}

void add_sample(MetricFamily& family, std::string name, std::vector<Label> labels, double value,
                const prometheus::ClientMetric& metric) {
  Sample sample;
  sample.name = std::move(name);
  sample.labels = std::move(labels);
  sample.value = value;
  if (metric.timestamp_ms != 0)
    sample.timestamp = static_cast<double>(metric.timestamp_ms) / 1000.0;
  family.samples.push_back(std::move(sample));
}

void add_histogram(MetricFamily& family, const prometheus::ClientMetric& metric) {
  const auto& histogram = metric.histogram;
  bool has_inf = false;
  for (const auto& bucket : histogram.bucket) {
    std::vector<Label> labels = labels_of(metric);
    has_inf = has_inf || bucket.upper_bound == std::numeric_limits<double>::infinity();
    labels.push_back(Label{"le", number_text(bucket.upper_bound)});
    add_sample(family, family.name + "_bucket", std::move(labels),
               static_cast<double>(bucket.cumulative_count), metric);
  }
  if (!has_inf) {
    std::vector<Label> labels = labels_of(metric);
    labels.push_back(Label{"le", "+Inf"});
    add_sample(family, family.name + "_bucket", std::move(labels),
               static_cast<double>(histogram.sample_count), metric);
  }
  add_sample(family, family.name + "_sum", labels_of(metric), histogram.sample_sum, metric);
  add_sample(family, family.name + "_count", labels_of(metric),
             static_cast<double>(histogram.sample_count), metric);
}

void add_summary(MetricFamily& family, const prometheus::ClientMetric& metric) {
  for (const auto& quantile : metric.summary.quantile) {
    std::vector<Label> labels = labels_of(metric);
    labels.push_back(Label{"quantile", number_text(quantile.quantile)});
    add_sample(family, family.name, std::move(labels), quantile.value, metric);
  }
  add_sample(family, family.name + "_sum", labels_of(metric), metric.summary.sample_sum, metric);
  add_sample(family, family.name + "_count", labels_of(metric),
             static_cast<double>(metric.summary.sample_count), metric);
}

}  // namespace

scrape::Page to_page(const std::vector<prometheus::MetricFamily>& families) {
  scrape::Page page;
  page.format = scrape::Format::prometheus_text;
  page.families.reserve(families.size());
  for (const prometheus::MetricFamily& source : families) {
    MetricFamily family{
        .name = source.name,
        .type = MetricType::untyped,
        .help = source.help.empty() ? std::nullopt : std::optional<std::string>(source.help),
        .unit = {},
        .samples = {}};
    for (const prometheus::ClientMetric& metric : source.metric) {
      switch (source.type) {
        case prometheus::MetricType::Counter:
          family.type = MetricType::counter;
          add_sample(family, family.name, labels_of(metric), metric.counter.value, metric);
          break;
        case prometheus::MetricType::Gauge:
          family.type = MetricType::gauge;
          add_sample(family, family.name, labels_of(metric), metric.gauge.value, metric);
          break;
        case prometheus::MetricType::Untyped:
          family.type = MetricType::untyped;
          add_sample(family, family.name, labels_of(metric), metric.untyped.value, metric);
          break;
        case prometheus::MetricType::Histogram:
          family.type = MetricType::histogram;
          add_histogram(family, metric);
          break;
        case prometheus::MetricType::Summary:
          family.type = MetricType::summary;
          add_summary(family, metric);
          break;
      }
    }
    if (source.metric.empty()) {
      family.type = source.type == prometheus::MetricType::Counter ? MetricType::counter
                    : source.type == prometheus::MetricType::Gauge ? MetricType::gauge
                                                                   : MetricType::untyped;
    }
    page.families.push_back(std::move(family));
  }
  return page;
}

}  // namespace covet::metrics
