// A real Prometheus scraping the sidecar every second: the target is up, what Prometheus
// stores is what /metrics said, and when the sidecar goes away the target goes down and its
// series go stale (Prometheus' staleness markers), as a user's dashboards and alerts see it.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/prometheus_server.h"
#include "tests/integration/prometheus_text.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/waiting.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kJob = "sidecar";

// Families whose values cannot change while a test runs, so the page read before
// Prometheus' scrapes, the page read after them and the sample Prometheus stored must all be
// equal, exactly:
//   covet_sidecar_build_info, covet_sidecar_draining: constant while the agent runs;
//   covet_sidecar_probe_up, covet_sidecar_probe_state: the disk probe (thresholds at 0,
//     a timeout far above what statvfs takes) passes and the tcp probe to a closed port
//     fails on every run, once both have run (waited for first);
//   process_max_fds, process_start_time_seconds: fixed when the process starts;
//   node_filesystem_size_bytes: the filesystem's capacity;
//   covet_sidecar_http_connections_rejected_total, covet_sidecar_http_bad_requests_total:
//     counters that stay 0, since only Prometheus and this test talk to the agent, with
//     well-formed requests, far below the connection limit.
// Left out, because they count or measure activity and so may differ between any two reads:
// probe failures and durations (every probe run adds to them), HTTP requests and accepted
// connections (every scrape adds), open connections and timeouts (depend on when a
// kept-alive connection is open or idle), process CPU, memory, open fds and threads,
// filesystem free space and free inodes (anything on the machine writes to it), and
// node_filesystem_files (XFS and btrfs derive the total from free space).
const std::vector<std::string> kStableFamilies = {
    "covet_sidecar_build_info",
    "covet_sidecar_draining",
    "covet_sidecar_probe_up",
    "covet_sidecar_probe_state",
    "process_max_fds",
    "process_start_time_seconds",
    "node_filesystem_size_bytes",
    "covet_sidecar_http_connections_rejected_total",
    "covet_sidecar_http_bad_requests_total",
};

using SeriesValues = std::map<PromLabels, double>;

// The samples named `name`, by their labels.
SeriesValues page_series(const std::vector<Sample>& samples, const std::string& name) {
  SeriesValues out;
  for (const Sample& sample : samples) {
    if (sample.name == name) out[sample.labels] = sample.value;
  }
  return out;
}

// Prometheus' series with the labels it adds (__name__, job, instance) taken off, so they
// compare with the page's.
PromLabels page_labels(PromLabels labels) {
  labels.erase("__name__");
  labels.erase("job");
  labels.erase("instance");
  return labels;
}

std::string describe(const SeriesValues& series) {
  std::string out;
  for (const auto& [labels, value] : series) {
    out += "  {";
    for (const auto& [name, label_value] : labels) out += name + "=\"" + label_value + "\",";
    out += fmt::format("}} {}\n", value);
  }
  return out.empty() ? "  (none)\n" : out;
}

class PrometheusScrapeIT : public ::testing::Test {
 protected:
  void SetUp() override {
    sidecar_ = std::make_unique<SidecarProcess>(fmt::format(R"(
listen: 127.0.0.1:{{PORT}}
log: {{ format: json, level: info }}
shutdown: {{ drain_delay: 200ms, grace_period: 5s }}
probes:
  - name: data
    type: disk
    path: {{DIR}}
    interval: 1s
    timeout: 1s
    warn_free_percent: 0
    fail_free_percent: 0
    warn_free_inodes_percent: 0
    fail_free_inodes_percent: 0
  - name: closed
    type: tcp
    address: "127.0.0.1:{}"
    interval: 1s
    timeout: 1s
    failure_threshold: 1
    roles: []
)",
                                                            free_port()));
    // Prometheus first: it takes about 5 s to start scraping a new target whatever we do,
    // and that overlaps with the sidecar's start and first probe runs.
    prometheus_ = std::make_unique<PrometheusServer>(std::vector<ScrapeJob>{
        {.name = kJob, .targets = {instance()}, .interval = 1s, .timeout = 900ms}});
    const std::string started = prometheus_->start();
    ASSERT_EQ(started, "");
    ASSERT_TRUE(sidecar_->start()) << sidecar_->logs();
    // Both probes have settled (passing and failing), so the probe series stay as they are.
    ASSERT_TRUE(eventually(
        [&] {
          const std::vector<Sample> samples = parse_samples(metrics());
          return sample_value(samples, "covet_sidecar_probe_state",
                              {{"probe", "data"}, {"state", "passing"}}) == 1.0 &&
                 sample_value(samples, "covet_sidecar_probe_state",
                              {{"probe", "closed"}, {"state", "failing"}}) == 1.0;
        },
        15s))
        << metrics() << sidecar_->logs();
  }

  std::string instance() const { return fmt::format("127.0.0.1:{}", sidecar_->port()); }
  std::string metrics() { return client_.get(sidecar_->url("/metrics")).body; }
  std::string selector(const std::string& name) const {
    return fmt::format("{}{{job={}}}", name, promql_quote(kJob));
  }

  // The sidecar's one target, once Prometheus has scraped it with `health`.
  std::optional<PromTarget> wait_for_health(const std::string& health) {
    std::optional<PromTarget> found;
    eventually(
        [&] {
          const PromTargetsResult result = prometheus_->targets();
          for (const PromTarget& target : result.targets) {
            if (target.job == kJob && target.health == health) found = target;
          }
          return found.has_value();
        },
        30s);
    return found;
  }

  std::unique_ptr<SidecarProcess> sidecar_;
  std::unique_ptr<PrometheusServer> prometheus_;
  HttpClient client_;
};

TEST_F(PrometheusScrapeIT, TargetIsUpAndUpIsOne) {
  const std::optional<PromTarget> target = wait_for_health("up");
  ASSERT_TRUE(target.has_value()) << "targets: " << prometheus_->targets().error << "\n"
                                  << sidecar_->logs();
  EXPECT_EQ(target->instance, instance());
  EXPECT_EQ(target->scrape_url, sidecar_->url("/metrics"));
  EXPECT_EQ(target->last_error, "");
  ASSERT_EQ(prometheus_->wait_for_scrapes(1, 30s, kJob), "");
  const PromQueryResult up = prometheus_->query(selector("up"));
  ASSERT_EQ(up.error, "");
  ASSERT_EQ(up.samples.size(), 1u);
  EXPECT_EQ(up.samples[0].value, 1.0);
  EXPECT_EQ(up.samples[0].labels,
            (PromLabels{{"__name__", "up"}, {"job", kJob}, {"instance", instance()}}));
  // Prometheus' own view of the scrape: every sample of the page was accepted.
  const std::optional<double> scraped =
      prometheus_->query_value(selector("scrape_samples_scraped"));
  const std::optional<double> added =
      prometheus_->query_value(selector("scrape_samples_post_metric_relabeling"));
  ASSERT_TRUE(scraped.has_value());
  EXPECT_GT(*scraped, 0);
  EXPECT_EQ(added, scraped);
}

TEST_F(PrometheusScrapeIT, StoredValuesEqualTheSidecarsForStableSeries) {
  ASSERT_TRUE(wait_for_health("up").has_value()) << sidecar_->logs();
  const std::vector<Sample> before = parse_samples(metrics());
  // Two scrapes stored after `before` was read: the newest sample of every series (what an
  // instant query returns) comes from a page served after it.
  ASSERT_EQ(prometheus_->wait_for_scrapes(2, 30s, kJob), "");
  const std::vector<Sample> after = parse_samples(metrics());

  std::size_t compared = 0;
  for (const std::string& family : kStableFamilies) {
    SCOPED_TRACE(family);
    const SeriesValues ours = page_series(before, family);
    ASSERT_FALSE(ours.empty()) << "not on the sidecar's page";
    // If this fails, the family is not stable after all and does not belong in the list.
    ASSERT_EQ(ours, page_series(after, family)) << "changed between two reads:\nbefore\n"
                                                << describe(ours) << "after\n"
                                                << describe(page_series(after, family));

    const PromQueryResult stored = prometheus_->query(selector(family));
    ASSERT_EQ(stored.error, "");
    SeriesValues theirs;
    for (const PromSample& sample : stored.samples) {
      EXPECT_EQ(sample.labels.at("__name__"), family);
      EXPECT_EQ(sample.labels.at("instance"), instance());
      theirs[page_labels(sample.labels)] = sample.value;
    }
    EXPECT_EQ(theirs, ours) << "Prometheus stored\n"
                            << describe(theirs) << "the sidecar served\n"
                            << describe(ours);
    compared += ours.size();
  }

  // Every series on both pages, whatever its value, is one Prometheus knows, with the same
  // labels: none dropped or renamed on the way in.
  const PromSeriesResult known = prometheus_->series(fmt::format("{{job={}}}", promql_quote(kJob)));
  ASSERT_EQ(known.error, "");
  std::set<std::pair<std::string, PromLabels>> stored;
  for (const PromLabels& labels : known.series) {
    stored.emplace(labels.at("__name__"), page_labels(labels));
  }
  std::set<std::pair<std::string, PromLabels>> on_both;
  for (const Sample& sample : after) on_both.emplace(sample.name, sample.labels);
  std::size_t present = 0;
  for (const Sample& sample : before) {
    const std::pair<std::string, PromLabels> key{sample.name, sample.labels};
    if (on_both.count(key) == 0) continue;
    EXPECT_EQ(stored.count(key), 1u)
        << sample.name << " " << describe(SeriesValues{{sample.labels, 0.0}});
    ++present;
  }
  EXPECT_GT(present, compared);
  std::cout << "[ compared ] " << compared << " stable series by value, " << present
            << " series by presence\n";
}

TEST_F(PrometheusScrapeIT, StoppedSidecarGoesDownAndItsSeriesGoStale) {
  const std::string build_info = selector("covet_sidecar_build_info");
  ASSERT_TRUE(wait_for_health("up").has_value()) << sidecar_->logs();
  ASSERT_EQ(prometheus_->wait_for_scrapes(1, 30s, kJob), "");
  ASSERT_EQ(prometheus_->query_value(build_info), 1.0);

  sidecar_->signal(SIGTERM);
  const std::optional<int> code = sidecar_->wait_exit(15s);
  ASSERT_TRUE(code.has_value()) << sidecar_->logs();
  EXPECT_EQ(*code, 0) << sidecar_->logs();

  const std::optional<PromTarget> down = wait_for_health("down");
  ASSERT_TRUE(down.has_value()) << "still up after the sidecar exited";
  EXPECT_NE(down->last_error, "");
  EXPECT_TRUE(eventually([&] { return prometheus_->query_value(selector("up")) == 0.0; }, 30s))
      << prometheus_->query(selector("up")).error;
  // The failed scrape wrote staleness markers for every series of the last good one, so an
  // instant query finds nothing at once instead of the last value for five minutes.
  EXPECT_TRUE(eventually(
      [&] {
        const PromQueryResult result = prometheus_->query(build_info);
        return result.error.empty() && result.samples.empty();
      },
      30s))
      << prometheus_->query(build_info).samples.size() << " sample(s)";
  // Stale is not deleted: the series and its last real value are still in the TSDB.
  const PromSeriesResult known = prometheus_->series(build_info);
  ASSERT_EQ(known.error, "");
  EXPECT_EQ(known.series.size(), 1u);
  EXPECT_EQ(prometheus_->query_value("last_over_time(" + build_info + "[1h])"), 1.0);
}

}  // namespace
}  // namespace covet::testing
