// A real Prometheus scraping only the sidecar, which re-exports the example app's page: every
// series the app serves is stored by Prometheus with the app's value, and when the app goes
// away its series go stale in Prometheus while the sidecar stays up and says why.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exporters/scrape/exposition_parser.h"
#include "tests/integration/external_process.h"
#include "tests/integration/prometheus_server.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/waiting.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kJob = "pod";
constexpr const char* kPod = "web-7f9c";

// Series name and labels, as Prometheus keys them (its __name__ included).
using SeriesValues = std::map<PromLabels, double>;

SeriesValues series_of(const std::string& page, scrape::Format format) {
  scrape::ParseResult parsed = scrape::parse_exposition(page, format);
  EXPECT_TRUE(parsed.page.has_value()) << parsed.error.to_string();
  SeriesValues out;
  if (!parsed.page) return out;
  for (const scrape::MetricFamily& family : parsed.page->families) {
    for (const scrape::Sample& sample : family.samples) {
      PromLabels labels{{"__name__", sample.name}, {"pod", kPod}};
      for (const scrape::Label& label : sample.labels) {
        // Prometheus' own rule (honor_labels: false, its default): a scraped label that
        // clashes with a target label it adds is kept as exported_NAME.
        const bool target_label = label.name == "job" || label.name == "instance";
        labels[target_label ? "exported_" + label.name : label.name] = label.value;
      }
      out[labels] = sample.value;
    }
  }
  return out;
}

bool same_value(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

std::string describe(const PromLabels& labels) {
  std::string out = "{";
  for (const auto& [name, value] : labels) out += name + "=\"" + value + "\",";
  return out + "}";
}

class PrometheusReexportIT : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string app_dir = std::string(COVET_SOURCE_DIR) + "/examples/app";
    ASSERT_TRUE(std::filesystem::exists(app_dir + "/node_modules/prom-client/package.json"))
        << "the example app's npm packages are not installed: run `npm ci --prefix " << app_dir
        << "` (scripts/test.sh does)";
    app_port_ = free_port();
    // Frozen: the same values on every fetch, so what the app served and what Prometheus
    // stored can be compared exactly.
    app_ = std::make_unique<ExternalProcess>(
        std::vector<std::string>{"/usr/bin/node", app_dir + "/server.js", "--frozen",
                                 "--no-tracing"},
        std::vector<std::string>{fmt::format("APP_PORT={}", app_port_)});
    ASSERT_TRUE(app_->start()) << app_->logs();
    ASSERT_TRUE(app_->wait_listening(app_port_, 10s)) << app_->logs();

    sidecar_ = std::make_unique<SidecarProcess>(fmt::format(R"(
listen: 127.0.0.1:{{PORT}}
log: {{ format: json, level: info }}
shutdown: {{ drain_delay: 100ms, grace_period: 5s }}
probes: []
scrape:
  - name: app
    url: http://127.0.0.1:{}/metrics
    timeout: 800ms
    labels: {{ pod: {} }}
)",
                                                            app_port_, kPod));
    // The sidecar's port is chosen when it is constructed: Prometheus can be told now and
    // starts first (it takes seconds to begin scraping a new target).
    // Exemplar storage: to see the app's exemplars arrive through the sidecar.
    prometheus_ = std::make_unique<PrometheusServer>(
        std::vector<ScrapeJob>{
            {.name = kJob, .targets = {instance()}, .interval = 1s, .timeout = 900ms}},
        std::vector<std::string>{"--enable-feature=exemplar-storage"});
    ASSERT_EQ(prometheus_->start(), "");
    ASSERT_TRUE(sidecar_->start()) << sidecar_->logs();
  }

  std::string instance() const { return fmt::format("127.0.0.1:{}", sidecar_->port()); }
  std::string app_page(bool openmetrics) {
    HttpClient client;
    if (openmetrics) client.set_headers({"Accept: application/openmetrics-text;version=1.0.0"});
    const HttpResult result = client.get(fmt::format("http://127.0.0.1:{}/metrics", app_port_));
    EXPECT_EQ(result.status, 200) << result.error;
    return result.body;
  }
  // Every series Prometheus holds now (an instant query) with the pod label, keyed like
  // series_of(): job and instance, which Prometheus adds, taken off.
  SeriesValues stored_app_series() {
    const PromQueryResult result =
        prometheus_->query(fmt::format("{{job=\"{}\",pod=\"{}\"}}", kJob, kPod));
    EXPECT_EQ(result.error, "");
    SeriesValues out;
    for (const PromSample& sample : result.samples) {
      PromLabels labels = sample.labels;
      labels.erase("job");
      labels.erase("instance");
      out[labels] = sample.value;
    }
    return out;
  }
  std::optional<double> stored(const std::string& promql) {
    return prometheus_->query_value(promql);
  }

  std::uint16_t app_port_ = 0;
  std::unique_ptr<ExternalProcess> app_;
  std::unique_ptr<SidecarProcess> sidecar_;
  std::unique_ptr<PrometheusServer> prometheus_;
};

TEST_F(PrometheusReexportIT, EverySeriesTheAppServesIsStoredWithItsValue) {
  ASSERT_EQ(prometheus_->wait_for_scrapes(2, 30s, kJob), "") << sidecar_->logs();
  EXPECT_EQ(stored(fmt::format("up{{job=\"{}\"}}", kJob)), 1.0);
  EXPECT_EQ(stored(fmt::format("covet_sidecar_scrape_up{{job=\"{}\",target=\"app\"}}", kJob)), 1.0);

  const SeriesValues served = series_of(app_page(false), scrape::Format::prometheus_text);
  const SeriesValues served_om = series_of(app_page(true), scrape::Format::openmetrics);
  ASSERT_GT(served.size(), 30u) << "the frozen page is smaller than expected";
  const SeriesValues in_prometheus = stored_app_series();
  std::size_t compared = 0;
  for (const auto& [labels, value] : served) {
    auto it = in_prometheus.find(labels);
    if (it == in_prometheus.end()) {
      ADD_FAILURE() << "not stored by Prometheus: " << describe(labels);
      continue;
    }
    EXPECT_TRUE(same_value(it->second, value))
        << describe(labels) << ": app served " << value << ", Prometheus stored " << it->second;
    ++compared;
  }
  // And nothing Prometheus holds under the pod label that the app did not serve, in one
  // format or the other.
  for (const auto& [labels, value] : in_prometheus) {
    EXPECT_TRUE(served.count(labels) != 0 || served_om.count(labels) != 0)
        << "stored but not served by the app: " << describe(labels);
  }
  std::cout << "[ compared ] " << compared << " series of the app's page with Prometheus\n";

  // The page Prometheus reads passes promtool too.
  HttpClient client;
  const std::string ours = client.get(sidecar_->url("/metrics")).body;
  const std::string path = sidecar_->dir() + "/metrics.txt";
  write_file(path, ours);
  const CommandResult check = run_shell("promtool check metrics < " + path + " 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_EQ(check.out, "");
}

TEST_F(PrometheusReexportIT, TheAppsExemplarsReachPrometheus) {
  // Prometheus asks for OpenMetrics, so do we: the app's exemplars travel with its series.
  scrape::ParseResult parsed =
      scrape::parse_exposition(app_page(true), scrape::Format::openmetrics);
  ASSERT_TRUE(parsed.page.has_value()) << parsed.error.to_string();
  std::string family;
  std::string trace_id;
  for (const scrape::MetricFamily& f : parsed.page->families) {
    for (const scrape::Sample& sample : f.samples) {
      if (!sample.exemplar || !trace_id.empty()) continue;
      for (const scrape::Label& label : sample.exemplar->labels) {
        if (label.name == "trace_id") {
          trace_id = label.value;
          family = sample.name;
        }
      }
    }
  }
  ASSERT_FALSE(trace_id.empty()) << "the frozen OpenMetrics page has no exemplar";
  ASSERT_EQ(prometheus_->wait_for_scrapes(2, 30s, kJob), "") << sidecar_->logs();
  std::string body;
  EXPECT_TRUE(eventually(
      [&] {
        body = prometheus_->get("/api/v1/query_exemplars?query=" + family +
                                "&start=0&end=" + std::to_string(std::time(nullptr) + 60));
        return contains(body, trace_id);
      },
      10s))
      << family << " exemplar " << trace_id << " not in Prometheus: " << body;
}

TEST_F(PrometheusReexportIT, WhenTheAppGoesAwayItsSeriesGoStaleAndTheSidecarStaysUp) {
  ASSERT_EQ(prometheus_->wait_for_scrapes(2, 30s, kJob), "") << sidecar_->logs();
  ASSERT_FALSE(stored_app_series().empty());
  app_.reset();  // stops the app

  const std::string scrape_up =
      fmt::format("covet_sidecar_scrape_up{{job=\"{}\",target=\"app\"}}", kJob);
  EXPECT_TRUE(eventually([&] { return stored(scrape_up) == 0.0; }, 30s))
      << prometheus_->logs() << sidecar_->logs();
  // Prometheus marks series that vanish from a successful scrape stale at once: an instant
  // query no longer returns them.
  EXPECT_TRUE(eventually([&] { return stored_app_series().empty(); }, 30s))
      << stored_app_series().size() << " app series still returned";
  EXPECT_EQ(stored(fmt::format("up{{job=\"{}\"}}", kJob)), 1.0);
  EXPECT_GE(
      stored(fmt::format(
          "covet_sidecar_scrape_failures_total{{job=\"{}\",target=\"app\",reason=\"refused\"}}",
          kJob)),
      1.0);
}

}  // namespace
}  // namespace covet::testing
