// Scraping the app's page and serving it again on our /metrics: the real binary against a
// real HTTP server started by the test, whose page, status, speed and content type the test
// switches. What Prometheus itself stores is checked in prometheus_scrape_test.cpp.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <thread>
#include <vector>

#include "exporters/metrics/gzip_segments.h"
#include "tests/integration/nginx_tls_server.h"
#include "tests/integration/prometheus_text.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/test_certificates.h"
#include "tests/integration/waiting.h"
#include "tests/support/test_http_server.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kOpenMetricsAccept = "Accept: application/openmetrics-text;version=1.0.0";
constexpr const char* kOpenMetricsType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

constexpr const char* kTextPage =
    "# HELP http_requests_total Requests.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{route=\"/\",code=\"200\"} 10\n"
    "http_requests_total{route=\"/a\\\"b\",code=\"500\"} 2\n"
    "# HELP http_request_duration_seconds Request duration.\n"
    "# TYPE http_request_duration_seconds histogram\n"
    "http_request_duration_seconds_bucket{le=\"0.1\"} 3\n"
    "http_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"
    "http_request_duration_seconds_sum 0.9\n"
    "http_request_duration_seconds_count 4\n"
    "# HELP db_connections_active Connections in use.\n"
    "# TYPE db_connections_active gauge\n"
    "db_connections_active 7\n";

constexpr const char* kOpenMetricsPage =
    "# TYPE http_requests counter\n"
    "# HELP http_requests Requests.\n"
    "http_requests_total{route=\"/\"} 10 # {trace_id=\"0af7651916cd43dd8448eb211c80319c\"} 1 "
    "1700000000.5\n"
    "http_requests_created{route=\"/\"} 1700000000\n"
    "# TYPE app info\n"
    "# HELP app The build.\n"
    "app_info{version=\"1.2.3\"} 1\n"
    "# EOF\n";

std::string scrape_config(const std::string& target) {
  return R"(
listen: 127.0.0.1:{PORT}
log: { format: json, level: debug }
shutdown: { drain_delay: 100ms, grace_period: 5s }
probes: []
scrape:
)" + target;
}

std::string target(const std::string& url, const std::string& extra = "") {
  return "  - name: app\n    url: " + url + "\n" + extra;
}

class ScrapeIT : public ::testing::Test {
 protected:
  void start(const std::string& target_yaml) {
    sidecar = std::make_unique<SidecarProcess>(scrape_config(target_yaml));
    ASSERT_TRUE(sidecar->start()) << sidecar->logs();
  }
  HttpResult metrics() { return client.get(sidecar->url("/metrics")); }
  std::optional<double> value(const std::string& body, const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) {
    return sample_value(parse_samples(body), name, labels);
  }
  void expect_promtool_accepts(const std::string& body) {
    const std::string path = sidecar->dir() + "/metrics.txt";
    write_file(path, body);
    const CommandResult check = run_shell("promtool check metrics < " + path + " 2>&1");
    EXPECT_EQ(check.exit_code, 0) << check.out << body;
    EXPECT_EQ(check.out, "") << body;
  }

  TestHttpServer app;
  std::unique_ptr<SidecarProcess> sidecar;
  HttpClient client;
};

TEST_F(ScrapeIT, TheAppsSeriesAreServedWithTheTargetsLabels) {
  app.respond(200, "OK", kTextPage);
  app.set_content_type("text/plain; version=0.0.4");
  start(target(app.url("/metrics"), "    labels: { pod: web-1, route: mine }\n"));
  const HttpResult result = metrics();
  ASSERT_EQ(result.status, 200) << result.error;
  EXPECT_EQ(result.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& body = result.body;
  // The app's route label is kept as exported_route; ours is added beside it.
  EXPECT_EQ(value(body, "http_requests_total",
                  {{"exported_route", "/"}, {"code", "200"}, {"route", "mine"}, {"pod", "web-1"}}),
            10);
  EXPECT_EQ(value(body, "http_requests_total", {{"exported_route", "/a\"b"}}), 2);
  EXPECT_EQ(value(body, "http_request_duration_seconds_bucket", {{"le", "+Inf"}}), 4);
  EXPECT_EQ(value(body, "db_connections_active", {{"pod", "web-1"}}), 7);
  EXPECT_EQ(value(body, "covet_sidecar_scrape_up", {{"target", "app"}}), 1);
  EXPECT_EQ(value(body, "covet_sidecar_scrape_samples", {{"target", "app"}}), 7);
  EXPECT_TRUE(value(body, "covet_sidecar_build_info").has_value());
  expect_promtool_accepts(body);
  // We asked for OpenMetrics first, and said how long we wait.
  const std::string request = app.last_request();
  EXPECT_TRUE(contains(request, "Accept: application/openmetrics-text;version=1.0.0,")) << request;
  EXPECT_TRUE(contains(request, "X-Prometheus-Scrape-Timeout-Seconds: 5")) << request;
}

TEST_F(ScrapeIT, OpenMetricsIsServedWhenAskedWithExemplars) {
  app.respond(200, "OK", kOpenMetricsPage);
  app.set_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8");
  start(target(app.url("/metrics")));
  client.set_headers({kOpenMetricsAccept});
  const HttpResult om = metrics();
  ASSERT_EQ(om.status, 200) << om.error;
  EXPECT_EQ(om.headers.at("content-type"), kOpenMetricsType);
  EXPECT_TRUE(contains(om.body,
                       "http_requests_total{route=\"/\"} 10 # "
                       "{trace_id=\"0af7651916cd43dd8448eb211c80319c\"} 1 1700000000.5\n"))
      << om.body;
  EXPECT_TRUE(contains(om.body, "# TYPE app info\napp_info{version=\"1.2.3\"} 1\n")) << om.body;
  EXPECT_TRUE(om.body.ends_with("# EOF\n")) << om.body;
  EXPECT_EQ(om.body.find("# EOF"), om.body.size() - 6) << "one # EOF, at the end";
  // Our own counters are OpenMetrics counters too.
  EXPECT_TRUE(contains(om.body, "# TYPE covet_sidecar_http_requests counter\n")) << om.body;

  // The same data in Prometheus text for a reader that does not ask: no exemplars, info as
  // a gauge, and promtool accepts it.
  client.set_headers({});
  const HttpResult text = metrics();
  EXPECT_EQ(text.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_FALSE(contains(text.body, "trace_id")) << text.body;
  EXPECT_EQ(value(text.body, "http_requests_total", {{"route", "/"}}), 10);
  EXPECT_EQ(value(text.body, "app_info", {{"version", "1.2.3"}}), 1);
  expect_promtool_accepts(text.body);
}

TEST_F(ScrapeIT, GzipIsServedWhenAsked) {
  app.respond(200, "OK", kTextPage);
  start(target(app.url("/metrics")));
  client.set_accept_encoding("gzip");
  const HttpResult gzipped = metrics();
  ASSERT_EQ(gzipped.status, 200) << gzipped.error;
  EXPECT_EQ(gzipped.headers.at("content-encoding"), "gzip");
  EXPECT_EQ(gzipped.headers.at("vary"), "Accept, Accept-Encoding");
  // libcurl decoded it: the page reads like the plain one.
  EXPECT_EQ(value(gzipped.body, "db_connections_active"), 7);
  EXPECT_EQ(value(gzipped.body, "covet_sidecar_scrape_up", {{"target", "app"}}), 1);
  expect_promtool_accepts(gzipped.body);
  client.set_headers({kOpenMetricsAccept});
  const HttpResult om = metrics();
  EXPECT_EQ(om.headers.at("content-encoding"), "gzip");
  EXPECT_TRUE(om.body.ends_with("# EOF\n")) << om.body;
  EXPECT_TRUE(contains(om.body, "db_connections_active 7\n")) << om.body;
}

TEST_F(ScrapeIT, AGzippedPageIsDecoded) {
  // Over loopback we ask for the page uncompressed; an app that gzips anyway is still read.
  const metrics::DeflateSegment segment = metrics::deflate_segment(kTextPage, 6);
  const std::vector<const metrics::DeflateSegment*> segments{&segment};
  app.respond(200, "OK", metrics::gzip_join(segments));
  app.set_content_encoding("gzip");
  start(target(app.url("/metrics")));
  const std::string body = metrics().body;
  EXPECT_EQ(value(body, "db_connections_active"), 7) << body;
  EXPECT_TRUE(contains(app.last_request(), "Accept-Encoding: identity\r\n")) << app.last_request();
}

TEST_F(ScrapeIT, HttpsTargetsAreVerifiedAgainstCaFileAndServerName) {
  TestCa ca;
  ASSERT_EQ(ca.error(), "");
  const std::int64_t now = std::time(nullptr);
  const CertFiles leaf = ca.issue("app", "app.internal", now - 3600, now + 86400);
  ASSERT_EQ(leaf.error, "");
  NginxTlsServer nginx({{leaf.cert, leaf.key, "tls_metric 1\\n"}});
  ASSERT_EQ(nginx.start(), "");
  const std::string url = "https://127.0.0.1:" + std::to_string(nginx.port(0)) + "/metrics";
  start("  - name: trusted\n    url: " + url + "\n    tls: { ca_file: " + ca.ca_file() +
        ", server_name: app.internal }\n" + "  - name: wrong_name\n    url: " + url +
        "\n    tls: { ca_file: " + ca.ca_file() + " }\n" + "  - name: untrusted\n    url: " + url +
        "\n    tls: { server_name: app.internal }\n");
  const std::string body = metrics().body;
  EXPECT_EQ(value(body, "tls_metric"), 1) << body;
  EXPECT_EQ(value(body, "covet_sidecar_scrape_up", {{"target", "trusted"}}), 1) << body;
  EXPECT_EQ(value(body, "covet_sidecar_scrape_failures_total",
                  {{"target", "wrong_name"}, {"reason", "tls"}}),
            1)
      << body;
  EXPECT_EQ(value(body, "covet_sidecar_scrape_failures_total",
                  {{"target", "untrusted"}, {"reason", "tls"}}),
            1)
      << body;
}

TEST_F(ScrapeIT, ConcurrentReadersShareOneFetchAndMinIntervalReusesIt) {
  app.respond(200, "OK", kTextPage);
  app.set_delay(300ms);
  start(target(app.url("/metrics"), "    min_interval: 2s\n"));
  std::vector<std::thread> readers;
  std::atomic<int> served{0};
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      HttpClient own_client;
      const HttpResult r = own_client.get(sidecar->url("/metrics"));
      if (r.status == 200 && contains(r.body, "db_connections_active 7")) ++served;
    });
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(served.load(), 8);
  EXPECT_EQ(app.requests(), 1);
  // Within min_interval: the same fetch again.
  EXPECT_TRUE(contains(metrics().body, "db_connections_active 7"));
  EXPECT_EQ(app.requests(), 1);
  std::this_thread::sleep_for(2100ms);
  EXPECT_TRUE(contains(metrics().body, "db_connections_active 7"));
  EXPECT_EQ(app.requests(), 2);
}

TEST_F(ScrapeIT, NothingIsFetchedWhileNobodyReads) {
  app.respond(200, "OK", kTextPage);
  start(target(app.url("/metrics"), "    min_interval: 0s\n"));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(app.requests(), 0);
  // Health endpoints never fetch.
  EXPECT_EQ(client.get(sidecar->url("/health")).status, 200);
  EXPECT_EQ(app.requests(), 0);
  metrics();
  metrics();
  EXPECT_EQ(app.requests(), 2);  // min_interval 0: every read fetches
}

TEST_F(ScrapeIT, ADeadAppLeavesOurOwnSeriesAndSaysWhy) {
  const std::string url = "http://127.0.0.1:" + std::to_string(free_port()) + "/metrics";
  start(target(url));
  const HttpResult result = metrics();
  ASSERT_EQ(result.status, 200) << result.error;
  EXPECT_EQ(value(result.body, "covet_sidecar_scrape_up", {{"target", "app"}}), 0);
  EXPECT_EQ(value(result.body, "covet_sidecar_scrape_failures_total",
                  {{"target", "app"}, {"reason", "refused"}}),
            1);
  EXPECT_EQ(value(result.body, "covet_sidecar_scrape_failures_total",
                  {{"target", "app"}, {"reason", "timeout"}}),
            0);
  EXPECT_TRUE(value(result.body, "covet_sidecar_build_info").has_value());
  expect_promtool_accepts(result.body);
  EXPECT_TRUE(eventually([&] { return contains(sidecar->logs(), "\"reason\":\"refused\""); }, 2s))
      << sidecar->logs();
}

TEST_F(ScrapeIT, AHangingAppCostsAtMostTheTimeout) {
  app.set_mode(TestHttpServer::Mode::hang);
  start(target(app.url("/metrics"), "    timeout: 1s\n"));
  const auto begin = SteadyClock::now();
  const HttpResult result = metrics();
  const double took = seconds_since(begin);
  RecordProperty("metrics with a hanging app (s)", std::to_string(took));
  ASSERT_EQ(result.status, 200) << result.error;
  EXPECT_EQ(value(result.body, "covet_sidecar_scrape_up", {{"target", "app"}}), 0);
  EXPECT_EQ(value(result.body, "covet_sidecar_scrape_failures_total",
                  {{"target", "app"}, {"reason", "timeout"}}),
            1);
  // Meanwhile the health endpoints answer at once.
  HttpClient health_client;
  std::atomic<bool> health_ok{false};
  std::thread reader([&] { metrics(); });
  std::this_thread::sleep_for(1100ms);  // past min_interval: the next read fetches again
  health_ok = health_client.get(sidecar->url("/health/live")).status == 200;
  reader.join();
  EXPECT_TRUE(health_ok.load());
}

TEST_F(ScrapeIT, AMalformedPageDropsThePreviousDataAndSaysWhere) {
  app.respond(200, "OK", kTextPage);
  start(target(app.url("/metrics"), "    min_interval: 0s\n"));
  EXPECT_EQ(value(metrics().body, "db_connections_active"), 7);
  app.respond(200, "OK", "ok_metric 1\nbroken{label=\"x} 2\n");
  const std::string body = metrics().body;
  EXPECT_FALSE(value(body, "db_connections_active").has_value()) << body;
  EXPECT_FALSE(value(body, "ok_metric").has_value()) << body;
  EXPECT_EQ(value(body, "covet_sidecar_scrape_up", {{"target", "app"}}), 0);
  EXPECT_EQ(
      value(body, "covet_sidecar_scrape_failures_total", {{"target", "app"}, {"reason", "parse"}}),
      1);
  EXPECT_TRUE(eventually([&] { return contains(sidecar->logs(), "line 2: "); }, 2s))
      << sidecar->logs();
  // And back.
  app.respond(200, "OK", kTextPage);
  EXPECT_EQ(value(metrics().body, "db_connections_active"), 7);
}

TEST_F(ScrapeIT, AnErrorStatusIsAFailure) {
  app.respond(503, "Service Unavailable", "db_connections_active 7\n");
  start(target(app.url("/metrics")));
  const std::string body = metrics().body;
  EXPECT_FALSE(value(body, "db_connections_active").has_value()) << body;
  EXPECT_EQ(value(body, "covet_sidecar_scrape_failures_total",
                  {{"target", "app"}, {"reason", "http_status"}}),
            1);
}

TEST_F(ScrapeIT, ThePageIsCutAtMaxSeriesAndTheRestCounted) {
  std::string page = "# HELP hits_total Hits.\n# TYPE hits_total counter\n";
  for (int i = 0; i < 500; ++i)
    page += "hits_total{endpoint=\"/item/" + std::to_string(i) + "\"} 1\n";
  app.respond(200, "OK", page);
  start(target(app.url("/metrics"), "    max_series: 100\n    min_interval: 0s\n"));
  std::string body = metrics().body;
  EXPECT_EQ(value(body, "covet_sidecar_scrape_samples", {{"target", "app"}}), 100);
  EXPECT_EQ(value(body, "covet_sidecar_scrape_series_dropped_total",
                  {{"target", "app"}, {"reason", "limit"}}),
            400);
  EXPECT_TRUE(value(body, "hits_total", {{"endpoint", "/item/99"}}).has_value());
  EXPECT_FALSE(value(body, "hits_total", {{"endpoint", "/item/100"}}).has_value());
  expect_promtool_accepts(body);
  body = metrics().body;
  EXPECT_EQ(value(body, "covet_sidecar_scrape_series_dropped_total",
                  {{"target", "app"}, {"reason", "limit"}}),
            800);
  // Said once, not per fetch.
  const std::string logs = sidecar->logs();
  EXPECT_EQ(logs.find("over max_series"), logs.rfind("over max_series")) << logs;
  EXPECT_NE(logs.find("over max_series"), std::string::npos) << logs;
}

TEST_F(ScrapeIT, AnAppSeriesIdenticalToOursIsLeftOutAndSaidOnce) {
  app.respond(200, "OK",
              "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 123\n"
              "# HELP app_up Up.\n# TYPE app_up gauge\napp_up 1\n");
  start(target(app.url("/metrics"), "    min_interval: 0s\n"));
  std::string body = metrics().body;
  EXPECT_EQ(value(body, "app_up"), 1);
  EXPECT_NE(value(body, "process_resident_memory_bytes"), 123) << "ours, not the app's";
  EXPECT_EQ(value(body, "covet_sidecar_scrape_series_dropped_total",
                  {{"target", "app"}, {"reason", "name_clash"}}),
            1);
  expect_promtool_accepts(body);
  metrics();
  const std::string logs = sidecar->logs();
  EXPECT_NE(logs.find("\"metric\":\"process_resident_memory_bytes\""), std::string::npos) << logs;
  EXPECT_EQ(logs.find("process_resident_memory_bytes"), logs.rfind("process_resident_memory_bytes"))
      << logs;
}

TEST_F(ScrapeIT, WithADistinguishingLabelTheAppsProcessSeriesJoinOurFamily) {
  app.respond(200, "OK",
              "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 123\n");
  start(target(app.url("/metrics"), "    labels: { container: app }\n"));
  const std::string body = metrics().body;
  EXPECT_EQ(value(body, "process_resident_memory_bytes", {{"container", "app"}}), 123);
  EXPECT_EQ(value(body, "covet_sidecar_scrape_series_dropped_total",
                  {{"target", "app"}, {"reason", "name_clash"}}),
            0);
  // One TYPE line for the family, both series under it.
  const std::string type_line = "# TYPE process_resident_memory_bytes gauge\n";
  EXPECT_EQ(body.find(type_line), body.rfind(type_line)) << body;
  expect_promtool_accepts(body);
}

TEST_F(ScrapeIT, RulesDropKeepAndRename) {
  app.respond(200, "OK", kTextPage);
  start(target(app.url("/metrics"),
               "    rules:\n"
               "      - { action: drop, metric: \"http_request_duration_seconds\" }\n"
               "      - { action: drop, label: code, regex: \"5..\" }\n"
               "      - { action: rename_label, label: code, to: status }\n"));
  const std::string body = metrics().body;
  EXPECT_FALSE(contains(body, "http_request_duration_seconds")) << body;
  EXPECT_EQ(value(body, "http_requests_total", {{"route", "/"}, {"status", "200"}}), 10);
  EXPECT_FALSE(value(body, "http_requests_total", {{"route", "/a\"b"}}).has_value()) << body;
  EXPECT_EQ(value(body, "db_connections_active"), 7);
}

TEST_F(ScrapeIT, BearerTokenFromAFileIsSentAndNeverShown) {
  app.respond(200, "OK", kTextPage);
  const std::string secret = "s3cr3t-t0ken-value";
  const std::string token_file =
      ::testing::TempDir() + "covet_scrape_token_" + std::to_string(::getpid());
  write_file(token_file, secret + "\n");
  start(target(app.url("/metrics"), "    bearer_token_file: " + token_file + "\n"));
  const std::string body = metrics().body;
  EXPECT_EQ(value(body, "db_connections_active"), 7);
  EXPECT_TRUE(contains(app.last_request(), "Authorization: Bearer " + secret + "\r\n"));
  EXPECT_FALSE(contains(body, secret));
  EXPECT_FALSE(contains(sidecar->logs(), secret));
  EXPECT_FALSE(contains(client.get(sidecar->url("/health")).body, secret));
}

TEST_F(ScrapeIT, AnUnreadableTokenFileFailsTheFetchWithReasonCredentials) {
  app.respond(200, "OK", kTextPage);
  start(target(app.url("/metrics"), "    bearer_token_file: /nonexistent/token\n"));
  const std::string body = metrics().body;
  EXPECT_EQ(value(body, "covet_sidecar_scrape_failures_total",
                  {{"target", "app"}, {"reason", "credentials"}}),
            1);
  EXPECT_EQ(app.requests(), 0);
}

TEST_F(ScrapeIT, APageLargerThanMaxBodyBytesIsRefused) {
  std::string page;
  for (int i = 0; i < 2000; ++i) page += "m" + std::to_string(i) + " 1\n";
  app.respond(200, "OK", page);
  start(target(app.url("/metrics"), "    max_body_bytes: 4KiB\n"));
  const std::string body = metrics().body;
  EXPECT_EQ(value(body, "covet_sidecar_scrape_failures_total",
                  {{"target", "app"}, {"reason", "too_large"}}),
            1);
  EXPECT_FALSE(value(body, "m1").has_value());
}

}  // namespace
}  // namespace covet::testing
