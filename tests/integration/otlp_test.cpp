// OTLP through the real binary: the real OpenTelemetry JS SDK (tests/otel/send_spans.js) as
// the app, the sidecar in the middle, and a stand-in for Jaeger that decodes what arrives
// with protobufjs and the official .proto files (tests/otel/jaeger_standin.js). Every test
// compares what the SDK sent with what arrived, span by span (compare_spans), and reads the
// sidecar's own counters to check they tell the same story.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <array>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "exporters/metrics/gzip_segments.h"
#include "exporters/otlp/grpc_framing.h"
#include "tests/integration/otel_harness.h"
#include "tests/integration/prometheus_text.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/waiting.h"
#include "tests/support/grpc_test_client.h"
#include "tests/unit/exporters/otlp/request_builder.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;
using Attributes = std::vector<std::pair<std::string, std::string>>;

struct OtlpSetup {
  std::uint16_t http_port = free_port();
  std::uint16_t grpc_port = free_port();
  std::string exporter_extra;  // more exporter keys, YAML flow entries: "queue: {...}"
  std::string batch = "{ timeout: 20ms }";
  std::string top_extra;  // more top-level YAML (shutdown: ...)
  std::string resource =
      "{ k8s.pod.name: pod-7, k8s.namespace.name: shop, "
      "service.instance.id: instance-1 }";
};

std::string otlp_config(const OtlpSetup& setup, const std::string& traces_url) {
  return "listen: 127.0.0.1:{PORT}\nlog: { format: json, level: debug }\nprobes: []\n" +
         setup.top_extra + "otlp:\n  http: { listen: 127.0.0.1:" + std::to_string(setup.http_port) +
         " }\n  grpc: { listen: 127.0.0.1:" + std::to_string(setup.grpc_port) +
         " }\n  resource: " + setup.resource +
         "\n  exporters:\n    - { name: jaeger, endpoint: " + traces_url +
         ", batch: " + setup.batch + ", retry: { initial_backoff: 200ms, max_backoff: 1s }" +
         (setup.exporter_extra.empty() ? "" : ", " + setup.exporter_extra) + " }\n";
}

std::string receiver_url(const OtlpSetup& setup) {
  return "http://127.0.0.1:" + std::to_string(setup.http_port) + "/v1/traces";
}

// What the sidecar's /metrics says, as numbers.
class SidecarMetrics {
 public:
  explicit SidecarMetrics(SidecarProcess& sidecar) : sidecar_(sidecar) {}
  double value(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    const HttpResult page = client_.get(sidecar_.url("/metrics"));
    return sample_value(parse_samples(page.body), name, labels).value_or(-1);
  }

 private:
  SidecarProcess& sidecar_;
  HttpClient client_;
};

std::string summary(const SendSpansResult& result) {
  return "exit " + std::to_string(result.exit_code) + " after " + std::to_string(result.seconds) +
         " s; harness: " + result.error + "\nstderr:\n" + result.err;
}

const Attributes kAdded{{"k8s.pod.name", "pod-7"},
                        {"k8s.namespace.name", "shop"},
                        {"service.instance.id", "instance-1"}};

struct Variant {
  std::string protocol;
  bool gzip;
};

void PrintTo(const Variant& variant, std::ostream* out) {
  *out << variant.protocol << (variant.gzip ? " with gzip" : " without gzip");
}

class OtlpDeliveryIT : public ::testing::TestWithParam<Variant> {};

TEST_P(OtlpDeliveryIT, EverySpanArrivesOnceIntactAndEnriched) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  OtlpSetup setup;
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();

  SendSpansOptions options;
  options.protocol = GetParam().protocol;
  options.gzip = GetParam().gzip;
  options.endpoint = GetParam().protocol == "grpc"
                         ? "http://127.0.0.1:" + std::to_string(setup.grpc_port)
                         : receiver_url(setup);
  options.spans = 300;
  options.batch_size = 64;
  // The app sets one of the attributes the sidecar adds: the app's value must win.
  options.resource = {{"k8s.pod.name", "from-app"}};
  const SendSpansResult sent = send_spans(options);
  ASSERT_EQ(sent.exit_code, 0) << summary(sent);
  ASSERT_EQ(sent.sent.size(), 300u);

  ASSERT_TRUE(eventually([&] { return standin.spans().size() >= 300; }, 10s))
      << standin.spans().size() << " arrived\n"
      << sidecar.logs();
  const StandinContents arrived = standin.contents();
  EXPECT_EQ(compare_spans(sent.sent, arrived.spans, kAdded), "");
  for (const JsonValue& span : arrived.spans) {
    const JsonValue* pod = span.find("resource")->find("k8s.pod.name");
    ASSERT_NE(pod, nullptr);
    EXPECT_EQ(pod->string_at("stringValue"), "from-app");
  }
  // Forwarded as protobuf whatever came in, compressed by default.
  for (const StandinRequest& request : arrived.requests) {
    EXPECT_EQ(request.content_type, "application/x-protobuf");
    EXPECT_EQ(request.content_encoding, "gzip");
    EXPECT_EQ(request.status, 200);
  }

  SidecarMetrics metrics(sidecar);
  const std::string protocol = GetParam().protocol == "proto"  ? "http/protobuf"
                               : GetParam().protocol == "grpc" ? "grpc"
                                                               : "http/json";
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_received_spans_total", {{"protocol", protocol}}),
            300);
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_exported_spans_total", {{"destination", "jaeger"}}),
            300);
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_queue_spans", {{"destination", "jaeger"}}), 0);
}

INSTANTIATE_TEST_SUITE_P(Protocols, OtlpDeliveryIT,
                         ::testing::Values(Variant{"proto", false}, Variant{"proto", true},
                                           Variant{"http", false}, Variant{"http", true},
                                           Variant{"grpc", false}, Variant{"grpc", true}),
                         [](const auto& info) {
                           return info.param.protocol + (info.param.gzip ? "_gzip" : "_plain");
                         });

// A batch merges several requests of the app and is sent from them as they are, one after
// the other (without compression), or as one gzip member of a deflate segment per request:
// the destination must see one well-formed request holding every span of each.
class OtlpBatchIT : public ::testing::TestWithParam<std::string> {};

TEST_P(OtlpBatchIT, ABatchOfSeveralRequestsArrivesAsOneIntactRequest) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  OtlpSetup setup;
  setup.batch = "{ timeout: 1s }";  // long enough for the app's requests to meet in a batch
  setup.exporter_extra = "compression: " + GetParam();
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();

  SendSpansOptions options;
  options.endpoint = receiver_url(setup);
  options.spans = 400;
  options.batch_size = 25;  // 16 requests from the app
  const SendSpansResult sent = send_spans(options);
  ASSERT_EQ(sent.exit_code, 0) << summary(sent);
  ASSERT_EQ(sent.sent.size(), 400u);

  ASSERT_TRUE(eventually([&] { return standin.spans().size() >= 400; }, 10s))
      << standin.spans().size() << " arrived\n"
      << sidecar.logs();
  const StandinContents arrived = standin.contents();
  EXPECT_EQ(compare_spans(sent.sent, arrived.spans, kAdded), "");
  std::size_t largest = 0;
  for (const StandinRequest& request : arrived.requests) {
    EXPECT_EQ(request.status, 200);
    EXPECT_EQ(request.content_encoding, GetParam() == "gzip" ? "gzip" : "");
    largest = std::max(largest, request.spans);
  }
  EXPECT_GT(largest, 25u) << arrived.requests.size() << " requests: none merged two of the app's";
}

INSTANTIATE_TEST_SUITE_P(Compression, OtlpBatchIT, ::testing::Values("none", "gzip"));

TEST(OtlpFaultIT, JaegerDownForAMinuteLosesNothing) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  standin.stop();  // the port is kept for the restart
  OtlpSetup setup;
  setup.exporter_extra = "queue: { max_bytes: 4MiB }";
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  SidecarMetrics metrics(sidecar);

  // Spans flow for the whole minute Jaeger is away: six apps of 100 spans, ten seconds apart.
  const auto outage_start = SteadyClock::now();
  SpanList sent;
  double max_queue_bytes = 0;
  for (int round = 0; round < 6; ++round) {
    SendSpansOptions options;
    options.protocol = "proto";
    options.endpoint = receiver_url(setup);
    options.spans = 100;
    options.batch_size = 50;
    const SendSpansResult result = send_spans(options);
    ASSERT_EQ(result.exit_code, 0) << summary(result);
    sent.insert(sent.end(), result.sent.begin(), result.sent.end());
    const auto next = outage_start + std::chrono::seconds(10 * (round + 1));
    while (SteadyClock::now() < next) {
      max_queue_bytes = std::max(max_queue_bytes, metrics.value("covet_sidecar_otlp_queue_bytes",
                                                                {{"destination", "jaeger"}}));
      std::this_thread::sleep_for(500ms);
    }
  }
  EXPECT_GE(seconds_since(outage_start), 60.0);
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_queue_spans", {{"destination", "jaeger"}}), 600);
  EXPECT_GT(metrics.value("covet_sidecar_otlp_export_retries_total", {{"destination", "jaeger"}}),
            10);
  EXPECT_GT(max_queue_bytes, 0);
  EXPECT_LE(max_queue_bytes, 4 << 20);
  // The traces check reports the backlog meanwhile.
  HttpClient client;
  const HttpResult health = client.get(sidecar.url("/health?verbose"));
  EXPECT_TRUE(contains(health.body, "last_export_error")) << health.body;

  ASSERT_EQ(standin.start(), "");
  ASSERT_TRUE(eventually([&] { return standin.spans().size() >= 600; }, 15s))
      << standin.spans().size() << " arrived\n"
      << sidecar.logs();
  EXPECT_EQ(compare_spans(sent, standin.spans(), kAdded), "");
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_exported_spans_total", {{"destination", "jaeger"}}),
            600);
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_dropped_spans_total",
                          {{"destination", "jaeger"}, {"reason", "queue_full"}}),
            0);
}

TEST(OtlpFaultIT, FullQueueAnswers503AndTheSdkRetriesUntilNothingIsLost) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  standin.stop();
  OtlpSetup setup;
  // Room for about one SDK request of 64 spans: the next ones are refused until it drains.
  setup.exporter_extra = "queue: { max_bytes: 64KiB }";
  setup.batch = "{ max_bytes: 64KiB, timeout: 0s }";
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  SidecarMetrics metrics(sidecar);

  SendSpansOptions options;
  options.protocol = "proto";
  options.endpoint = receiver_url(setup);
  options.spans = 256;
  options.batch_size = 64;
  options.timeout_ms = 60000;
  options.limit = 120s;
  auto sending = std::async(std::launch::async, [&] { return send_spans(options); });
  ASSERT_TRUE(eventually(
      [&] {
        return metrics.value("covet_sidecar_otlp_refused_requests_total",
                             {{"reason", "queue_full"}}) >= 2;
      },
      20s))
      << sidecar.logs();
  ASSERT_EQ(standin.start(), "");
  const SendSpansResult sent = sending.get();
  ASSERT_EQ(sent.exit_code, 0) << summary(sent);
  ASSERT_TRUE(eventually([&] { return standin.spans().size() >= 256; }, 20s))
      << standin.spans().size() << " arrived\n"
      << sidecar.logs();
  EXPECT_EQ(compare_spans(sent.sent, standin.spans(), kAdded), "");
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_exported_spans_total", {{"destination", "jaeger"}}),
            256);
  for (const char* reason : {"queue_full", "rejected", "shutdown"}) {
    EXPECT_EQ(metrics.value("covet_sidecar_otlp_dropped_spans_total",
                            {{"destination", "jaeger"}, {"reason", reason}}),
              0)
        << reason;
  }
}

// A request that finds the queue full is not refused at once: it waits, briefly, for an
// export to make room and is then accepted. Only when nothing leaves the queue within the
// wait is it answered 503 with Retry-After.
TEST(OtlpFaultIT, ARequestWaitsForAnExportToMakeRoomBeforeItIsRefused) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin::Options slow;
  slow.delay_ms = 150;  // every export takes this long
  JaegerStandin standin(slow);
  ASSERT_EQ(standin.start(), "");
  OtlpSetup setup;
  // One request per batch, one batch at a time: the queue drains a request per 150 ms.
  setup.exporter_extra = "queue: { max_bytes: 64KiB }, max_concurrent_exports: 1";
  setup.batch = "{ max_bytes: 8KiB, timeout: 0s }";
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  SidecarMetrics metrics(sidecar);
  HttpClient client;
  const std::vector<std::string> protobuf{"Content-Type: application/x-protobuf"};
  const std::string message = otlp::testing::simple_request(100);
  // Within what may wait at once (an eighth of the queue), and several to a queue.
  ASSERT_LT(message.size(), 7u << 10);
  ASSERT_GT(message.size(), 4u << 10);

  // Three queues' worth, sent faster than they drain: each one past the first queue-full
  // waits for an export, and none is refused.
  const int requests = static_cast<int>(3 * (64u << 10) / message.size());
  for (int i = 0; i < requests; ++i) {
    const HttpResult result = client.post(receiver_url(setup), message, protobuf);
    ASSERT_EQ(result.status, 200) << "request " << i << ": " << result.body << sidecar.logs();
  }
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_refused_requests_total", {{"reason", "queue_full"}}),
            0);
  ASSERT_TRUE(eventually(
      [&] {
        return metrics.value("covet_sidecar_otlp_exported_spans_total",
                             {{"destination", "jaeger"}}) == requests * 100.0;
      },
      30s))
      << sidecar.logs();

  // Jaeger down: nothing leaves the queue, so once it is full a request waits out the wait
  // and is refused, telling the sender when to retry.
  standin.stop();
  HttpResult refused;
  double refused_after_s = 0;
  for (int i = 0; i < 40; ++i) {
    const auto sent_at = SteadyClock::now();
    refused = client.post(receiver_url(setup), message, protobuf);
    refused_after_s = seconds_since(sent_at);
    if (refused.status != 200) break;
  }
  ASSERT_EQ(refused.status, 503) << refused.body << sidecar.logs();
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_GE(refused_after_s, 0.4);  // it waited (half a second) before the answer
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_refused_requests_total", {{"reason", "queue_full"}}),
            1);
}

class OtlpDropIT : public ::testing::TestWithParam<std::string> {};

TEST_P(OtlpDropIT, DropsAreCountedExactly) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  standin.stop();
  OtlpSetup setup;
  setup.exporter_extra = "queue: { max_bytes: 64KiB, on_full: " + GetParam() + " }";
  setup.batch = "{ max_bytes: 64KiB, timeout: 0s }";
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  SidecarMetrics metrics(sidecar);

  SendSpansOptions options;
  options.protocol = "proto";
  options.endpoint = receiver_url(setup);
  options.spans = 640;
  options.batch_size = 64;
  const SendSpansResult sent = send_spans(options);
  // Dropped spans are answered as a partial success, which the SDK does not retry.
  ASSERT_EQ(sent.sent.size(), 640u) << summary(sent);
  const double dropped = metrics.value("covet_sidecar_otlp_dropped_spans_total",
                                       {{"destination", "jaeger"}, {"reason", "queue_full"}});
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(
      metrics.value("covet_sidecar_otlp_received_spans_total", {{"protocol", "http/protobuf"}}),
      640);

  ASSERT_EQ(standin.start(), "");
  ASSERT_TRUE(eventually(
      [&] {
        return metrics.value("covet_sidecar_otlp_queue_spans", {{"destination", "jaeger"}}) == 0;
      },
      20s))
      << sidecar.logs();
  const SpanList arrived = standin.spans();
  EXPECT_EQ(static_cast<double>(arrived.size()), 640 - dropped);
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_exported_spans_total", {{"destination", "jaeger"}}),
            640 - dropped);
  // Nothing arrived twice and nothing arrived that was not sent.
  std::map<std::string, int> seen;
  for (const JsonValue& span : arrived) ++seen[span.string_at("spanId").value_or("")];
  std::map<std::string, int> sent_ids;
  for (const JsonValue& span : sent.sent) ++sent_ids[span.string_at("spanId").value_or("")];
  for (const auto& [id, count] : seen) {
    EXPECT_EQ(count, 1) << id;
    EXPECT_EQ(sent_ids.count(id), 1u) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, OtlpDropIT, ::testing::Values("drop_oldest", "drop_newest"));

TEST(OtlpFaultIT, RetryAfterIsHonoured) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin::Options injected;
  injected.fail_status = 429;
  injected.fail_count = 1;
  injected.retry_after_seconds = 2;
  JaegerStandin standin(injected);
  ASSERT_EQ(standin.start(), "");
  OtlpSetup setup;
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();

  const SendSpansResult sent = send_spans("proto", receiver_url(setup), 20, false);
  ASSERT_EQ(sent.exit_code, 0) << summary(sent);
  ASSERT_TRUE(eventually([&] { return standin.spans().size() >= 20; }, 10s)) << sidecar.logs();
  const StandinContents contents = standin.contents();
  ASSERT_EQ(contents.requests.size(), 2u);
  EXPECT_EQ(contents.requests[0].status, 429);
  EXPECT_EQ(contents.requests[1].status, 200);
  const double waited_ms = contents.requests[1].at_ms - contents.requests[0].at_ms;
  std::cout << "retry after Retry-After: 2 came " << waited_ms << " ms after the 429\n";
  EXPECT_GE(waited_ms, 2000);
  EXPECT_EQ(compare_spans(sent.sent, contents.spans, kAdded), "");
}

TEST(OtlpFaultIT, RefusedExportIsDroppedAndCounted) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin::Options injected;
  injected.fail_status = 400;  // not retryable
  injected.fail_count = 1;
  JaegerStandin standin(injected);
  ASSERT_EQ(standin.start(), "");
  OtlpSetup setup;
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  SidecarMetrics metrics(sidecar);

  const SendSpansResult first = send_spans("proto", receiver_url(setup), 20, false);
  ASSERT_EQ(first.exit_code, 0) << summary(first);
  ASSERT_TRUE(eventually(
      [&] {
        return metrics.value("covet_sidecar_otlp_dropped_spans_total",
                             {{"destination", "jaeger"}, {"reason", "rejected"}}) == 20;
      },
      10s))
      << sidecar.logs();
  const SendSpansResult second = send_spans("proto", receiver_url(setup), 10, false);
  ASSERT_TRUE(eventually([&] { return standin.spans().size() >= 10; }, 10s)) << sidecar.logs();
  EXPECT_EQ(compare_spans(second.sent, standin.spans(), kAdded), "");
  EXPECT_EQ(standin.request_count(), 2);  // the 400 was not retried
  EXPECT_TRUE(contains(sidecar.logs(), "destination refused an export"));
}

TEST(OtlpShutdownIT, SigtermFlushesAFullQueueBeforeExit) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  standin.stop();
  OtlpSetup setup;
  setup.top_extra = "shutdown: { drain_delay: 1s, grace_period: 20s }\n";
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  SidecarMetrics metrics(sidecar);
  const SendSpansResult sent = send_spans("proto", receiver_url(setup), 500, false);
  ASSERT_EQ(sent.exit_code, 0) << summary(sent);
  ASSERT_EQ(metrics.value("covet_sidecar_otlp_queue_spans", {{"destination", "jaeger"}}), 500);

  sidecar.signal(SIGTERM);
  std::this_thread::sleep_for(2s);  // past the drain delay: the receivers are closed
  ASSERT_EQ(standin.start(), "");
  const std::optional<int> exit_code = sidecar.wait_exit(20s);
  ASSERT_TRUE(exit_code.has_value()) << sidecar.logs();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_EQ(compare_spans(sent.sent, standin.spans(), kAdded), "");
  EXPECT_FALSE(contains(sidecar.logs(), "spans lost at shutdown")) << sidecar.logs();
}

TEST(OtlpShutdownIT, WhatCannotBeSentWithinTheGracePeriodIsLoggedAsLost) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  standin.stop();  // and it never comes back
  OtlpSetup setup;
  setup.top_extra = "shutdown: { drain_delay: 0s, grace_period: 2s }\n";
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  const SendSpansResult sent = send_spans("proto", receiver_url(setup), 30, false);
  ASSERT_EQ(sent.exit_code, 0) << summary(sent);
  sidecar.signal(SIGTERM);
  const std::optional<int> exit_code = sidecar.wait_exit(10s);
  ASSERT_TRUE(exit_code.has_value()) << sidecar.logs();
  EXPECT_TRUE(contains(sidecar.logs(), "spans lost at shutdown")) << sidecar.logs();
  EXPECT_TRUE(contains(sidecar.logs(), "\"spans\":\"30\"")) << sidecar.logs();
}

// Spans in arrival order with each span id's first copy only; how many were repeats.
std::pair<SpanList, std::size_t> without_duplicates(const SpanList& spans) {
  SpanList unique;
  std::map<std::string, int> seen;
  std::size_t repeats = 0;
  for (const JsonValue& span : spans) {
    if (seen[span.string_at("spanId").value_or("")]++ == 0) {
      unique.push_back(span);
    } else {
      ++repeats;
    }
  }
  return {unique, repeats};
}

TEST(OtlpSpoolIT, SigkillLosesNothingAcknowledged) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  char spool_template[] = "/tmp/covet-spool-XXXXXX";
  ASSERT_NE(::mkdtemp(spool_template), nullptr);
  const std::string spool_dir = std::string(spool_template) + "/spool";
  OtlpSetup setup;
  setup.batch = "{ max_spans: 50, timeout: 0s }";
  setup.exporter_extra = "max_concurrent_exports: 2, spool: { dir: " + spool_dir +
                         ", max_bytes: 64MiB, fsync: always }";
  const std::string config = otlp_config(setup, standin.traces_url());

  SendSpansResult sent;
  double replay_expected = 0;
  {
    SidecarProcess first(config);
    ASSERT_TRUE(first.start()) << first.logs();
    SidecarMetrics metrics(first);
    // A first half is delivered and acknowledged to the spool; then Jaeger goes away and a
    // second half is only acknowledged to the app (exit 0: every export got its 200, so
    // every span is on disk) when the SIGKILL comes.
    sent = send_spans("proto", receiver_url(setup), 300, false);
    ASSERT_EQ(sent.exit_code, 0) << summary(sent);
    ASSERT_TRUE(eventually(
        [&] {
          return metrics.value("covet_sidecar_otlp_exported_spans_total",
                               {{"destination", "jaeger"}}) == 300;
        },
        10s));
    standin.stop();
    const SendSpansResult more = send_spans("proto", receiver_url(setup), 300, false);
    ASSERT_EQ(more.exit_code, 0) << summary(more);
    sent.sent.insert(sent.sent.end(), more.sent.begin(), more.sent.end());
    replay_expected = 300;
    first.signal(SIGKILL);
    ASSERT_TRUE(first.wait_exit(10s).has_value());
  }

  ASSERT_EQ(standin.start(), "");  // it forgot what it had: only the replay arrives now
  SidecarProcess second(config);
  ASSERT_TRUE(second.start()) << second.logs();
  ASSERT_TRUE(eventually(
      [&] { return without_duplicates(standin.spans()).first.size() >= replay_expected; }, 30s))
      << without_duplicates(standin.spans()).first.size() << " distinct arrived\n"
      << second.logs();
  const auto [unique, repeats] = without_duplicates(standin.spans());
  std::cout << "replayed after the SIGKILL: " << unique.size()
            << " spans; delivered twice: " << repeats << "\n";
  const SpanList second_half(sent.sent.begin() + 300, sent.sent.end());
  EXPECT_EQ(compare_spans(second_half, unique, kAdded), "");
  SidecarMetrics metrics(second);
  const double replayed =
      metrics.value("covet_sidecar_otlp_spool_replayed_spans_total", {{"destination", "jaeger"}});
  // The acknowledged first half is not sent again; the second half is, whole.
  EXPECT_EQ(replayed, replay_expected);
  EXPECT_TRUE(contains(second.logs(), "sending them again")) << second.logs();
  ASSERT_TRUE(eventually(
      [&] {
        return metrics.value("covet_sidecar_otlp_spool_bytes", {{"destination", "jaeger"}}) == 0;
      },
      10s));
  // The bound the spool alert divides by: spool.max_bytes, 64 MiB here.
  EXPECT_EQ(metrics.value("covet_sidecar_otlp_spool_max_bytes", {{"destination", "jaeger"}}),
            64.0 * 1024 * 1024);
  std::error_code ec;
  std::filesystem::remove_all(spool_template, ec);
}

// With a spool the memory queue is a window onto it: what the window reads back it must
// give back as it is delivered, or it stays full after queue.max_bytes of traffic and
// nothing leaves the spool again. Here about 15 times the window flows through.
TEST(OtlpSpoolIT, ManyTimesTheQueueBoundFlowsThroughTheSpool) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  char spool_template[] = "/tmp/covet-spool-XXXXXX";
  ASSERT_NE(::mkdtemp(spool_template), nullptr);
  const std::string spool_dir = std::string(spool_template) + "/spool";
  OtlpSetup setup;
  setup.batch = "{ max_bytes: 16KiB, timeout: 0s }";
  setup.exporter_extra =
      "compression: none, queue: { max_bytes: 64KiB }, spool: { dir: " + spool_dir +
      ", max_bytes: 64MiB, fsync: never }";
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();

  // Six runs of the app, ten requests each: more at once would exceed the SDK's own limit
  // of concurrent exports, which is not what this is about.
  SpanList sent;
  for (int run = 0; run < 6; ++run) {
    SendSpansOptions options;
    options.endpoint = receiver_url(setup);
    options.spans = 500;
    options.batch_size = 50;
    const SendSpansResult result = send_spans(options);
    ASSERT_EQ(result.exit_code, 0) << summary(result);
    sent.insert(sent.end(), result.sent.begin(), result.sent.end());
  }
  ASSERT_EQ(sent.size(), 3000u);

  ASSERT_TRUE(eventually([&] { return standin.spans().size() >= 3000; }, 20s))
      << standin.spans().size() << " arrived\n"
      << sidecar.logs();
  const StandinContents arrived = standin.contents();
  EXPECT_EQ(compare_spans(sent, arrived.spans, kAdded), "");
  std::size_t delivered_bytes = 0;
  for (const StandinRequest& request : arrived.requests) delivered_bytes += request.bytes;
  EXPECT_GT(delivered_bytes, 10u * 64 * 1024) << "too little traffic to pass the window";
  SidecarMetrics metrics(sidecar);
  // Delivered records stay on disk until their segment is finished, so the spool's bytes
  // need not fall to 0; the window's must.
  EXPECT_TRUE(eventually(
      [&] {
        return metrics.value("covet_sidecar_otlp_queue_bytes", {{"destination", "jaeger"}}) == 0;
      },
      10s))
      << metrics.value("covet_sidecar_otlp_queue_bytes", {{"destination", "jaeger"}});
  std::error_code ec;
  std::filesystem::remove_all(spool_template, ec);
}

TEST(OtlpSpoolIT, SigtermWithJaegerDownKeepsEverythingForTheNextStart) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  standin.stop();
  char spool_template[] = "/tmp/covet-spool-XXXXXX";
  ASSERT_NE(::mkdtemp(spool_template), nullptr);
  const std::string spool_dir = std::string(spool_template) + "/spool";
  OtlpSetup setup;
  setup.top_extra = "shutdown: { drain_delay: 0s, grace_period: 2s }\n";
  setup.exporter_extra = "spool: { dir: " + spool_dir + ", max_bytes: 64MiB }";
  const std::string config = otlp_config(setup, standin.traces_url());
  SendSpansResult sent;
  {
    SidecarProcess first(config);
    ASSERT_TRUE(first.start()) << first.logs();
    sent = send_spans("proto", receiver_url(setup), 200, false);
    ASSERT_EQ(sent.exit_code, 0) << summary(sent);
    first.signal(SIGTERM);
    const std::optional<int> exit_code = first.wait_exit(10s);
    ASSERT_TRUE(exit_code.has_value());
    EXPECT_EQ(*exit_code, 0);
    EXPECT_FALSE(contains(first.logs(), "spans lost")) << first.logs();
    EXPECT_TRUE(contains(first.logs(), "spans left in the spool")) << first.logs();
  }
  ASSERT_EQ(standin.start(), "");
  SidecarProcess second(config);
  ASSERT_TRUE(second.start()) << second.logs();
  ASSERT_TRUE(eventually([&] { return standin.spans().size() >= 200; }, 20s)) << second.logs();
  EXPECT_EQ(compare_spans(sent.sent, standin.spans(), kAdded), "");
  std::error_code ec;
  std::filesystem::remove_all(spool_template, ec);
}

// --- bad input -----------------------------------------------------------------------------

class OtlpBadInputIT : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(otel_tools_missing(), "");
    ASSERT_EQ(standin_.start(), "");
    sidecar_ = std::make_unique<SidecarProcess>(otlp_config(setup_, standin_.traces_url()));
    ASSERT_TRUE(sidecar_->start()) << sidecar_->logs();
  }

  HttpResult post(const std::string& body, std::vector<std::string> headers) {
    return client_.post(receiver_url(setup_), body, headers);
  }

  // A good request still goes through: the sidecar kept serving.
  void expect_still_serving() {
    const SendSpansResult sent = send_spans("proto", receiver_url(setup_), 5, false);
    EXPECT_EQ(sent.exit_code, 0) << summary(sent);
    EXPECT_TRUE(eventually([&] { return standin_.spans().size() >= 5; }, 10s));
  }

  JaegerStandin standin_;
  OtlpSetup setup_;
  std::unique_ptr<SidecarProcess> sidecar_;
  HttpClient client_;
};

const std::vector<std::string> kProtobuf{"Content-Type: application/x-protobuf"};
const std::vector<std::string> kJson{"Content-Type: application/json"};

// ExportTraceServiceRequest { resource_spans { scope_spans { span { trace_id, span_id, name } } } }
std::string one_span_request() {
  const std::string span = std::string("\x0a\x10", 2) + std::string(16, '\x11') +
                           std::string("\x12\x08", 2) + std::string(8, '\x22') +
                           std::string("\x2a\x01x", 3);
  const std::string scope = std::string("\x12") + char(span.size()) + span;
  const std::string resource = std::string("\x12") + char(scope.size()) + scope;
  return std::string("\x0a") + char(resource.size()) + resource;
}

TEST_F(OtlpBadInputIT, AValidHandMadeRequestIsAccepted) {
  const HttpResult result = post(one_span_request(), kProtobuf);
  EXPECT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(result.headers.at("content-type"), "application/x-protobuf");
  EXPECT_TRUE(eventually([&] { return standin_.spans().size() == 1; }, 10s));
}

TEST_F(OtlpBadInputIT, TruncatedAndCorruptedProtobufAre400WithAStatus) {
  const std::string good = one_span_request();
  for (const std::string& body :
       {good.substr(0, good.size() - 3), std::string("\x0a\xff\xff\xff\xff\x0f", 6),
        std::string("\x08\x01", 2), good.substr(0, 20) + std::string(8, '\0') + good.substr(28)}) {
    const HttpResult result = post(body, kProtobuf);
    EXPECT_EQ(result.status, 400);
    EXPECT_EQ(result.headers.at("content-type"), "application/x-protobuf");
    EXPECT_FALSE(result.body.empty());
  }
  expect_still_serving();
  EXPECT_EQ(standin_.spans().size(), 5u);  // none of the bad ones was forwarded
}

TEST_F(OtlpBadInputIT, InvalidJsonAndWrongTypesAre400InJson) {
  for (const std::string& body :
       {std::string("{\"resourceSpans\": ["), std::string("not json"),
        std::string("{\"resourceSpans\": [{\"scopeSpans\": [{\"spans\": [{\"traceId\": 5}]}]}]}"),
        std::string("{\"resourceSpans\": \"x\"}")}) {
    const HttpResult result = post(body, kJson);
    EXPECT_EQ(result.status, 400) << body;
    EXPECT_EQ(result.headers.at("content-type"), "application/json");
    EXPECT_TRUE(contains(result.body, "\"code\":3")) << result.body;
  }
  expect_still_serving();
}

TEST_F(OtlpBadInputIT, WrongContentTypeIs415AndOtherPathsAndMethodsAsUsual) {
  EXPECT_EQ(post(one_span_request(), {"Content-Type: text/plain"}).status, 415);
  EXPECT_EQ(
      post(one_span_request(), {"Content-Type: application/x-protobuf", "Content-Encoding: br"})
          .status,
      415);
  EXPECT_EQ(client_.get(receiver_url(setup_)).status, 405);
  EXPECT_EQ(client_
                .post("http://127.0.0.1:" + std::to_string(setup_.http_port) + "/v1/metrics",
                      one_span_request(), kProtobuf)
                .status,
            404);
  expect_still_serving();
}

std::string gzip_of(const std::string& input) {
  const metrics::DeflateSegment segment = metrics::deflate_segment(input, 9);
  const std::array<const metrics::DeflateSegment*, 1> segments{&segment};
  return metrics::gzip_join(segments);
}

TEST_F(OtlpBadInputIT, GzipBombAndOversizedBodiesAre413) {
  // 100 MiB of zeros in about 100 KB: stopped at 20 MiB while inflating.
  const std::string bomb = gzip_of(std::string(100u << 20, '\0'));
  ASSERT_LT(bomb.size(), 200u * 1024);
  const HttpResult inflated =
      post(bomb, {"Content-Type: application/x-protobuf", "Content-Encoding: gzip"});
  EXPECT_EQ(inflated.status, 413);
  const HttpResult declared = post(std::string((20u << 20) + 1, 'x'), kProtobuf);
  EXPECT_EQ(declared.status, 413);
  const HttpResult chunked =
      post(std::string((20u << 20) + 1, 'x'),
           {"Content-Type: application/x-protobuf", "Transfer-Encoding: chunked"});
  EXPECT_TRUE(chunked.status == 413 || !chunked.error.empty()) << chunked.status;
  expect_still_serving();
}

TEST_F(OtlpBadInputIT, ChunkedBodiesWithoutALengthAreAccepted) {
  const HttpResult result = post(
      one_span_request(), {"Content-Type: application/x-protobuf", "Transfer-Encoding: chunked"});
  EXPECT_EQ(result.status, 200) << result.body;
  EXPECT_TRUE(eventually([&] { return standin_.spans().size() == 1; }, 10s));
}

// gRPC through the binary: backpressure as UNAVAILABLE with a RetryInfo delay (the JS gRPC
// exporter does not retry it, so an HTTP/2 client of our own reads the trailers), and
// HTTP/2 garbage on the port cut without disturbing the next call.
TEST(OtlpGrpcIT, FullQueueIsUnavailableWithRetryInfoAndGarbageIsCut) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  standin.stop();
  OtlpSetup setup;
  setup.exporter_extra = "queue: { max_bytes: 64KiB }";
  setup.batch = "{ max_bytes: 64KiB, timeout: 0s }";
  SidecarProcess sidecar(otlp_config(setup, standin.traces_url()));
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();

  const std::string message = otlp::testing::simple_request(200);
  const auto call = [&](SocketClient& client) {
    const auto id = client.h2().call(grpc_frame(message));
    EXPECT_TRUE(client.run_until([&] { return client.h2().response(id).closed; }));
    return client.h2().response(id);
  };
  SocketClient client(setup.grpc_port);
  ASSERT_TRUE(client.connected());
  int accepted = 0;
  H2Client::Response refused;
  for (int i = 0; i < 40 && refused.grpc_status() != 14; ++i) {
    const H2Client::Response response = call(client);
    if (response.grpc_status() == 0) {
      ++accepted;
    } else {
      refused = response;
    }
  }
  EXPECT_GT(accepted, 0);
  ASSERT_EQ(refused.grpc_status(), 14) << sidecar.logs();
  const std::optional<std::string> details =
      otlp::grpc::base64_decode(refused.metadata("grpc-status-details-bin"));
  ASSERT_TRUE(details.has_value());
  EXPECT_TRUE(contains(*details, "type.googleapis.com/google.rpc.RetryInfo"));

  {
    SocketClient garbage(setup.grpc_port);
    ASSERT_TRUE(garbage.connected());
    garbage.send_raw(std::string(300, '\x17'));
    EXPECT_TRUE(garbage.wait_closed());
  }
  {
    SocketClient bad_frames(setup.grpc_port);
    ASSERT_TRUE(bad_frames.connected());
    bad_frames.send_raw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    bad_frames.send_raw(std::string("\0\0\0\4\0\0\0\0\0", 9));
    bad_frames.send_raw(std::string("\0\0\1\0\0\0\0\0\0x", 10));
    EXPECT_TRUE(bad_frames.wait_closed());
  }
  // Jaeger is back: the queue drains and a new call over the first connection is accepted.
  ASSERT_EQ(standin.start(), "");
  ASSERT_TRUE(eventually([&] { return call(client).grpc_status() == 0; }, 20s)) << sidecar.logs();
  ASSERT_TRUE(eventually(
      [&] { return standin.spans().size() == static_cast<std::size_t>(accepted + 1) * 200; }, 20s))
      << standin.spans().size();
}

}  // namespace
}  // namespace covet::testing
