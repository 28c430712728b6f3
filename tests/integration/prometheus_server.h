#pragma once
// A real Prometheus (Debian's 2.42, /usr/bin/prometheus) scraping what a test points it at,
// so the tests see our /metrics the way a user's Prometheus does: its parser, its labels
// (job, instance), its staleness handling. Each server gets a fresh temp directory (config,
// TSDB, log) and a free port on 127.0.0.1; the destructor stops it (SIGTERM, then SIGKILL)
// and removes the directory, passed or not, and prints its log when the test failed.
//
// Prometheus only learns its targets when service discovery first reports them, about 5 s
// after start (a fixed throttle in 2.42, static configs included): wait for scrapes, never
// for a time. Every call below is one HTTP request to its API with a 10 s limit; errors are
// returned as text ("query ...: reason"), never thrown.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/external_process.h"
#include "tests/integration/sidecar_process.h"

namespace covet::testing {

// One scrape_configs entry with static targets.
struct ScrapeJob {
  std::string name;                  // job_name, and the `job` label of its series
  std::vector<std::string> targets;  // host:port
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{0};  // 0: the interval (Prometheus refuses a longer one)
  std::string metrics_path = "/metrics";
  bool honor_labels = false;
};

using PromLabels = std::map<std::string, std::string>;

// One element of an instant vector (or a scalar, with no labels).
struct PromSample {
  PromLabels labels;     // as Prometheus returns them: __name__ (when kept), job, instance, ...
  double value = 0;      // "NaN", "+Inf" and "-Inf" included
  double timestamp = 0;  // evaluation time, seconds since the epoch
};

struct PromQueryResult {
  std::string error;  // empty on success
  std::vector<PromSample> samples;
};

struct PromSeriesResult {
  std::string error;  // empty on success
  std::vector<PromLabels> series;
};

struct PromTarget {
  std::string job;
  std::string instance;
  std::string scrape_url;
  std::string health;       // "up", "down" or "unknown" (not scraped yet)
  std::string last_error;   // the last scrape's error, empty when it succeeded
  std::string last_scrape;  // RFC 3339, as Prometheus writes it
};

struct PromTargetsResult {
  std::string error;  // empty on success
  std::vector<PromTarget> targets;
};

class PrometheusServer {
 public:
  static constexpr const char* kBinary = "/usr/bin/prometheus";

  // `flags` are added to Prometheus' command line ("--enable-feature=exemplar-storage").
  explicit PrometheusServer(std::vector<ScrapeJob> jobs, std::vector<std::string> flags = {});
  ~PrometheusServer();
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  // Writes prometheus.yml, starts Prometheus and waits (at most 30 s) until /-/ready says
  // so. Empty on success, else what failed, with Prometheus' log.
  std::string start();

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  const std::string& dir() const { return dir_; }
  std::string config() const;  // prometheus.yml as written
  std::string logs() const;    // its stderr (--log.level=warn: quiet unless something is wrong)

  // An instant query at the server's "now" (GET /api/v1/query). Vector and scalar results
  // only; a matrix or string result is an error.
  PromQueryResult query(const std::string& promql);
  // The value of a query that returns exactly one sample; nullopt when it fails, returns
  // nothing, or returns more than one.
  std::optional<double> query_value(const std::string& promql);
  // Every series matching `match`, over all the data it has (GET /api/v1/series): stale
  // series are still listed here, unlike in instant queries.
  PromSeriesResult series(const std::string& match);
  // The raw body of GET `path_and_query` (e.g. "/api/v1/query_exemplars?query=..."), for
  // API calls this class has no reader for; the query must be URL-encoded already.
  std::string get(const std::string& path_and_query);
  // The active targets and their health (GET /api/v1/targets?state=active).
  PromTargetsResult targets();
  // Waits until each target (of `job`, or of every job when empty) has `n` more scrapes
  // stored than when called, failed scrapes included (each one stores `up`), at most
  // `timeout`. Counted with count_over_time(up[1h]), so the scrapes counted are committed:
  // their samples are queryable when this returns. Empty on success, else why not.
  std::string wait_for_scrapes(int n, std::chrono::milliseconds timeout,
                               const std::string& job = "");

 private:
  std::vector<ScrapeJob> jobs_;
  std::vector<std::string> flags_;
  std::string dir_;  // config, data/ and the log
  std::uint16_t port_ = 0;
  std::unique_ptr<ExternalProcess> process_;
  HttpClient client_;
};

// `value` as a PromQL string literal, quotes included: "a\"b".
std::string promql_quote(const std::string& value);

}  // namespace covet::testing
