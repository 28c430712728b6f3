// The OpenTelemetry test tools against themselves, before any sidecar is in the path: the
// real JS SDK (tests/otel/send_spans.js) exports straight to the Jaeger stand-in
// (tests/otel/jaeger_standin.js), which decodes with its own protobufjs and the official
// .proto files, and compare_spans() finds every span intact. If these fail, an OTLP
// end-to-end test through the sidecar cannot be believed either way.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <ostream>
#include <string>

#include "tests/integration/otel_harness.h"
#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kSpans = 200;

JsonValue parse(const std::string& text) {
  JsonParseResult parsed = parse_json(text);
  EXPECT_TRUE(parsed.value) << parsed.error << " in " << text;
  return parsed.value ? *parsed.value : JsonValue();
}

std::string run_summary(const SendSpansResult& result) {
  return "exit " + std::to_string(result.exit_code) + " after " + std::to_string(result.seconds) +
         " s; harness: " + result.error + "\nstderr:\n" + result.err;
}

const JsonValue* resource_attribute(const JsonValue& span, const std::string& key) {
  const JsonValue* resource = span.find("resource");
  return resource == nullptr ? nullptr : resource->find(key);
}

TEST(OtelHarnessIT, AMissingInstallIsReportedNotSkipped) {
  // The real tools must be there: this is the line every OTLP test starts with.
  ASSERT_EQ(otel_tools_missing(), "");
  // And a directory without node_modules is named, with the command that fixes it.
  const std::filesystem::path empty =
      std::filesystem::temp_directory_path() / ("covet-otel-empty-" + std::to_string(::getpid()));
  std::filesystem::create_directories(empty);
  const std::string message = otel_tools_missing(empty.string());
  std::filesystem::remove_all(empty);
  EXPECT_NE(message.find("not installed"), std::string::npos) << message;
  EXPECT_NE(message.find("npm ci --prefix " + empty.string()), std::string::npos) << message;
}

struct Variant {
  std::string protocol;
  bool gzip;
  std::string content_type;
};

void PrintTo(const Variant& variant, std::ostream* out) {
  *out << variant.protocol << (variant.gzip ? " with gzip" : " without gzip");
}

class OtelHarnessDeliveryIT : public ::testing::TestWithParam<Variant> {};

TEST_P(OtelHarnessDeliveryIT, EverySpanArrivesOnceAndIntact) {
  ASSERT_EQ(otel_tools_missing(), "");
  const Variant& variant = GetParam();
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");

  SendSpansOptions options;
  options.protocol = variant.protocol;
  options.endpoint = standin.traces_url();
  options.spans = kSpans;
  options.gzip = variant.gzip;
  options.batch_size = 64;  // 4 requests: 64, 64, 64, 8
  options.resource = {{"k8s.pod.name", "from-app"}};
  const SendSpansResult result = send_spans(options);
  ASSERT_EQ(result.exit_code, 0) << run_summary(result);
  ASSERT_EQ(result.error, "");
  ASSERT_EQ(result.sent.size(), static_cast<std::size_t>(kSpans)) << result.out;

  const StandinContents received = standin.contents();
  ASSERT_EQ(received.error, "") << standin.logs();
  EXPECT_EQ(compare_spans(result.sent, received.spans), "") << standin.logs();
  ASSERT_EQ(received.requests.size(), 4u) << standin.logs();
  for (const StandinRequest& request : received.requests) {
    EXPECT_EQ(request.status, 200);
    EXPECT_EQ(request.content_type, variant.content_type);
    EXPECT_EQ(request.content_encoding, variant.gzip ? "gzip" : "");
  }

  // What the comparison rests on, checked once by hand: parents, kinds, errors, events,
  // links and the app's resource attribute are really there.
  std::size_t roots = 0, errors = 0, with_events = 0, with_links = 0;
  for (const JsonValue& span : received.spans) {
    if (span.string_at("parentSpanId") == "") ++roots;
    const JsonValue* status = span.find("status");
    if (status != nullptr && status->find("code")->as_number() == 2) ++errors;
    if (!span.find("events")->as_array().empty()) ++with_events;
    if (!span.find("links")->as_array().empty()) ++with_links;
    const JsonValue* pod = resource_attribute(span, "k8s.pod.name");
    ASSERT_NE(pod, nullptr);
    EXPECT_EQ(pod->string_at("stringValue"), "from-app");
  }
  EXPECT_EQ(roots, static_cast<std::size_t>(kSpans / 10));
  EXPECT_GT(errors, 0u);
  EXPECT_GT(with_events, 0u);
  EXPECT_EQ(with_links, static_cast<std::size_t>(kSpans / 10 - 1));
  std::cout << "[ timing ] " << variant.protocol << (variant.gzip ? "+gzip" : "") << ": " << kSpans
            << " spans sent and checked, send_spans.js took " << result.seconds << " s\n";
}

INSTANTIATE_TEST_SUITE_P(Otel, OtelHarnessDeliveryIT,
                         ::testing::Values(Variant{"proto", false, "application/x-protobuf"},
                                           Variant{"proto", true, "application/x-protobuf"},
                                           Variant{"http", false, "application/json"},
                                           Variant{"http", true, "application/json"}),
                         [](const ::testing::TestParamInfo<Variant>& info) {
                           return info.param.protocol + (info.param.gzip ? "_gzip" : "_plain");
                         });

class OtelHarnessRetryIT : public ::testing::TestWithParam<std::string> {};

TEST_P(OtelHarnessRetryIT, TheSdkRetriesA503WithRetryAfterAndEverySpanArrivesOnce) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin::Options injected;
  injected.fail_status = 503;
  injected.fail_count = 2;
  injected.retry_after_seconds = 1;
  JaegerStandin standin(injected);
  ASSERT_EQ(standin.start(), "");

  const SendSpansResult result = send_spans(GetParam(), standin.traces_url(), kSpans, false);
  ASSERT_EQ(result.exit_code, 0) << run_summary(result) << standin.logs();
  const StandinContents received = standin.contents();
  ASSERT_EQ(received.error, "");
  EXPECT_EQ(compare_spans(result.sent, received.spans), "") << standin.logs();
  ASSERT_GE(received.requests.size(), 3u) << standin.logs();
  EXPECT_EQ(received.requests[0].status, 503);
  EXPECT_EQ(received.requests[1].status, 503);
  EXPECT_EQ(received.requests.back().status, 200);
  EXPECT_EQ(standin.request_count(), static_cast<int>(received.requests.size()));
  // Two waits of about a second each. (The SDK's own first backoff is also about a second,
  // so this shows the retries waited, not on its own that Retry-After was read.)
  EXPECT_GE(result.seconds, 1.9) << run_summary(result);
  std::cout << "[ timing ] " << GetParam()
            << " with two 503s (Retry-After: 1): " << received.requests.size() << " requests, "
            << result.seconds << " s\n";
}

INSTANTIATE_TEST_SUITE_P(Otel, OtelHarnessRetryIT, ::testing::Values("proto", "http"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(OtelHarnessIT, ANonRetryableRefusalIsAFailedExportAndExitCodeOne) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin::Options injected;
  injected.fail_status = 400;
  injected.fail_count = 1;
  JaegerStandin standin(injected);
  ASSERT_EQ(standin.start(), "");
  const SendSpansResult result = send_spans("proto", standin.traces_url(), 20, false);
  EXPECT_EQ(result.exit_code, 1) << run_summary(result);
  EXPECT_EQ(result.error, "") << "the report is printed even when an export failed";
  const JsonValue* exports = result.report.find("exports");
  ASSERT_NE(exports, nullptr) << result.out;
  EXPECT_EQ(exports->find("failed")->as_number(), 1);
  EXPECT_NE(result.err.find("export of 20 spans failed"), std::string::npos) << result.err;
  EXPECT_EQ(standin.request_count(), 1);
  EXPECT_TRUE(standin.spans().empty());
}

TEST(OtelHarnessIT, GrpcAgainstAClosedPortFailsCleanlyAndQuickly) {
  // The stand-in speaks OTLP/HTTP only; this checks the gRPC path's failure reporting, so
  // it is ready for the sidecar's gRPC receiver.
  ASSERT_EQ(otel_tools_missing(), "");
  SendSpansOptions options;
  options.protocol = "grpc";
  options.endpoint = "http://127.0.0.1:" + std::to_string(free_port());
  options.spans = 20;
  options.timeout_ms = 3000;
  options.limit = 20s;
  const SendSpansResult result = send_spans(options);
  EXPECT_EQ(result.exit_code, 1) << run_summary(result);
  EXPECT_EQ(result.error, "") << run_summary(result);
  EXPECT_EQ(result.sent.size(), 20u) << result.out;
  EXPECT_NE(result.err.find("UNAVAILABLE"), std::string::npos) << result.err;
  EXPECT_LT(result.seconds, 10.0);
  std::cout << "[ timing ] grpc to a closed port: exit " << result.exit_code << " after "
            << result.seconds << " s\n";
}

TEST(OtelHarnessIT, TheStandinComesBackOnTheSamePortAndResetForgets) {
  ASSERT_EQ(otel_tools_missing(), "");
  JaegerStandin standin;
  ASSERT_EQ(standin.start(), "");
  const std::uint16_t port = standin.port();
  ASSERT_EQ(send_spans("proto", standin.traces_url(), 5, false).exit_code, 0);
  EXPECT_EQ(standin.spans().size(), 5u);
  ASSERT_TRUE(standin.reset());
  EXPECT_EQ(standin.request_count(), 0);
  EXPECT_TRUE(standin.spans().empty());

  standin.stop();
  EXPECT_EQ(standin.request_count(), -1);
  EXPECT_NE(standin.contents().error, "");
  // Meanwhile the port is held: no other test's server can bind it and take the exports.
  const int other = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_NE(::bind(other, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(errno, EADDRINUSE);
  ::close(other);
  ASSERT_EQ(standin.start(), "");
  EXPECT_EQ(standin.port(), port);
  const SendSpansResult result = send_spans("http", standin.traces_url(), 5, true);
  ASSERT_EQ(result.exit_code, 0) << run_summary(result);
  EXPECT_EQ(compare_spans(result.sent, standin.spans()), "");
}

// compare_spans() itself, on spans written by hand: it must see every kind of damage.
TEST(OtelHarnessIT, CompareSpansNamesMissingDuplicatedChangedAndUnexpectedSpans) {
  const auto span = [](const std::string& id, const std::string& name, const std::string& pod) {
    return parse(R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":")" + id +
                 R"(","parentSpanId":"","name":")" + name +
                 R"(","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"2",)"
                 R"("attributes":{"n":{"intValue":"1"}},"events":[],"links":[],)"
                 R"("status":{"code":0,"message":""},"scope":{"name":"s","version":""},)"
                 R"("resource":{"service.name":{"stringValue":"app"})" +
                 (pod.empty() ? "" : R"(,"k8s.pod.name":{"stringValue":")" + pod + "\"}") + "}}");
  };
  const JsonValue a = span("00f067aa0ba902b7", "a", "");
  const JsonValue b = span("00f067aa0ba902b8", "b", "");
  const JsonValue c = span("00f067aa0ba902b9", "c", "");
  EXPECT_EQ(compare_spans({a, b}, {b, a}), "");

  const std::string missing = compare_spans({a, b}, {a});
  EXPECT_NE(missing.find("1 missing"), std::string::npos) << missing;
  EXPECT_NE(missing.find("00f067aa0ba902b8 \"b\": missing"), std::string::npos) << missing;

  const std::string duplicated = compare_spans({a}, {a, a});
  EXPECT_NE(duplicated.find("arrived 2 times"), std::string::npos) << duplicated;

  const std::string unexpected = compare_spans({a}, {a, c});
  EXPECT_NE(unexpected.find("\"c\": arrived 1 time(s) but was not sent"), std::string::npos)
      << unexpected;

  const JsonValue renamed = span("00f067aa0ba902b7", "renamed", "");
  const std::string changed = compare_spans({a}, {renamed});
  EXPECT_NE(changed.find("name: sent \"a\", received \"renamed\""), std::string::npos) << changed;

  JsonValue::Object fields = a.as_object();
  for (auto& [key, value] : fields) {
    if (key == "attributes") {
      value = parse(R"({"n":{"doubleValue":1}})");
    }
  }
  const std::string retyped = compare_spans({a}, {JsonValue::object(fields)});
  EXPECT_NE(retyped.find(R"(attributes.n: sent {"intValue":"1"}, received {"doubleValue":1})"),
            std::string::npos)
      << retyped;

  // Enrichment: added where the app was silent, never over the app's own value.
  const std::vector<std::pair<std::string, std::string>> added = {{"k8s.pod.name", "pod-7"}};
  EXPECT_EQ(compare_spans({a}, {span("00f067aa0ba902b7", "a", "pod-7")}, added), "");
  EXPECT_NE(compare_spans({a}, {a}, added).find("resource.k8s.pod.name: missing"),
            std::string::npos);
  const JsonValue from_app = span("00f067aa0ba902b7", "a", "from-app");
  EXPECT_EQ(compare_spans({from_app}, {from_app}, added), "");
  const std::string overridden =
      compare_spans({from_app}, {span("00f067aa0ba902b7", "a", "pod-7")}, added);
  EXPECT_NE(
      overridden.find(
          R"(resource.k8s.pod.name: sent {"stringValue":"from-app"}, received {"stringValue":"pod-7"})"),
      std::string::npos)
      << overridden;
}

}  // namespace
}  // namespace covet::testing
