// Decode + validate + count throughput of the OTLP traces codec (exporters/otlp/), and, when
// built with COVET_BENCH_LIBPROTOBUF, of libprotobuf's generated code for the same schema
// doing the same work (parse, walk every span, check id sizes, count), on one realistic
// request: 512 spans as the OpenTelemetry JS SDK batches them (its BatchSpanProcessor's
// default maxExportBatchSize), each with HTTP server attributes, half with an event, some
// with a link. Built and run by bench/otlp_codec.sh; see that script. bench/otlp.sh builds
// it too, for `--write FILE SPANS`: the same request's protobuf body, written to a file.

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "exporters/otlp/json.h"
#include "exporters/otlp/traces.h"
#include "exporters/otlp/wire.h"

#ifdef COVET_BENCH_LIBPROTOBUF
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#endif

namespace {

using covet::otlp::wire::put_bytes_field;
using covet::otlp::wire::put_double_field;
using covet::otlp::wire::put_fixed64_field;
using covet::otlp::wire::put_int64_field;
using covet::otlp::wire::put_varint_field;

std::string hex(std::string_view bytes) {
  std::string out;
  for (char c : bytes) out += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return out;
}

// Writes each attribute to the protobuf and the JSON form of the request at once.
struct Both {
  std::string protobuf;
  std::string json;
};

struct Attribute {
  std::string key;
  enum { string, integer, floating } type;
  std::string text;
  std::int64_t integer_value = 0;
  double double_value = 0;
};

void put_attributes(const std::vector<Attribute>& attributes, std::uint32_t field, Both& out) {
  out.json += "\"attributes\":[";
  bool first = true;
  for (const Attribute& attribute : attributes) {
    std::string any;
    std::string any_json;
    switch (attribute.type) {
      case Attribute::string:
        put_bytes_field(any, 1, attribute.text);
        any_json = fmt::format("{{\"stringValue\":\"{}\"}}", attribute.text);
        break;
      case Attribute::integer:
        put_int64_field(any, 3, attribute.integer_value);
        any_json = fmt::format("{{\"intValue\":\"{}\"}}", attribute.integer_value);
        break;
      case Attribute::floating:
        put_double_field(any, 4, attribute.double_value);
        any_json = fmt::format("{{\"doubleValue\":{}}}", attribute.double_value);
        break;
    }
    std::string key_value;
    put_bytes_field(key_value, 1, attribute.key);
    put_bytes_field(key_value, 2, any);
    put_bytes_field(out.protobuf, field, key_value);
    out.json +=
        fmt::format("{}{{\"key\":\"{}\",\"value\":{}}}", first ? "" : ",", attribute.key, any_json);
    first = false;
  }
  out.json += "]";
}

Both make_request(std::size_t spans) {
  std::mt19937_64 random(42);
  const auto random_bytes = [&](std::size_t size) {
    std::string out;
    while (out.size() < size) out.push_back(static_cast<char>(random() | 1));
    return out;
  };
  Both resource;
  resource.json += "{";
  put_attributes({{"service.name", Attribute::string, "checkout"},
                  {"service.version", Attribute::string, "1.4.2"},
                  {"telemetry.sdk.language", Attribute::string, "nodejs"},
                  {"telemetry.sdk.name", Attribute::string, "opentelemetry"},
                  {"telemetry.sdk.version", Attribute::string, "2.12.0"},
                  {"process.pid", Attribute::integer, "", 4242},
                  {"process.runtime.name", Attribute::string, "nodejs"},
                  {"process.runtime.version", Attribute::string, "20.19.0"},
                  {"host.name", Attribute::string, "checkout-7d9f8c6b5-x2x7q"}},
                 1, resource);
  resource.json += "}";

  Both scope;
  std::string scope_body;
  put_bytes_field(scope_body, 1, "@opentelemetry/instrumentation-http");
  put_bytes_field(scope_body, 2, "0.223.0");
  put_bytes_field(scope.protobuf, 1, scope_body);
  scope.json += R"({"scope":{"name":"@opentelemetry/instrumentation-http","version":"0.223.0"},)";
  scope.json += "\"spans\":[";
  const std::string trace = random_bytes(16);
  std::uint64_t start = 1'764'030'000'000'000'000ULL;
  for (std::size_t i = 0; i < spans; ++i) {
    Both span;
    const std::string id = random_bytes(8);
    const std::string parent = random_bytes(8);
    put_bytes_field(span.protobuf, 1, trace);
    put_bytes_field(span.protobuf, 2, id);
    put_bytes_field(span.protobuf, 4, parent);
    put_bytes_field(span.protobuf, 5, "GET /api/orders/:id");
    put_varint_field(span.protobuf, 6, 2);
    put_fixed64_field(span.protobuf, 7, start);
    put_fixed64_field(span.protobuf, 8, start + 12'345'678);
    span.json += fmt::format(
        R"({}{{"traceId":"{}","spanId":"{}","parentSpanId":"{}","name":"GET /api/orders/:id",)"
        R"("kind":2,"startTimeUnixNano":"{}","endTimeUnixNano":"{}",)",
        i == 0 ? "" : ",", hex(trace), hex(id), hex(parent), start, start + 12'345'678);
    put_attributes(
        {{"http.request.method", Attribute::string, "GET"},
         {"url.full", Attribute::string,
          fmt::format("http://checkout.shop.svc.cluster.local:8080/api/orders/{}?expand=items", i)},
         {"url.path", Attribute::string, fmt::format("/api/orders/{}", i)},
         {"http.route", Attribute::string, "/api/orders/:id"},
         {"http.response.status_code", Attribute::integer, "", 200},
         {"network.peer.address", Attribute::string, "10.42.0.17"},
         {"network.peer.port", Attribute::integer, "", 43512},
         {"user_agent.original", Attribute::string,
          "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0 Safari/537.36"},
         {"server.duration_ms", Attribute::floating, "", 0, 12.345678}},
        9, span);
    if (i % 2 == 0) {
      Both event;
      put_fixed64_field(event.protobuf, 1, start + 1000);
      put_bytes_field(event.protobuf, 2, "cache miss");
      event.json += fmt::format(R"({{"timeUnixNano":"{}","name":"cache miss",)", start + 1000);
      put_attributes({{"cache.key", Attribute::string, fmt::format("orders:{}", i)},
                      {"cache.tier", Attribute::string, "redis"}},
                     3, event);
      event.json += "}";
      put_bytes_field(span.protobuf, 11, event.protobuf);
      span.json += ",\"events\":[" + event.json + "]";
    }
    if (i % 8 == 0) {
      std::string link;
      const std::string linked_trace = random_bytes(16);
      const std::string linked_span = random_bytes(8);
      put_bytes_field(link, 1, linked_trace);
      put_bytes_field(link, 2, linked_span);
      put_bytes_field(span.protobuf, 13, link);
      span.json += fmt::format(R"(,"links":[{{"traceId":"{}","spanId":"{}"}}])", hex(linked_trace),
                               hex(linked_span));
    }
    std::string status;
    put_varint_field(status, 3, 1);
    put_bytes_field(span.protobuf, 15, status);
    span.json += R"(,"status":{"code":1}})";
    put_bytes_field(scope.protobuf, 2, span.protobuf);
    scope.json += span.json;
    start += 20'000'000;
  }
  scope.json += "]}";

  std::string resource_spans;
  put_bytes_field(resource_spans, 1, resource.protobuf);
  put_bytes_field(resource_spans, 2, scope.protobuf);
  Both request;
  put_bytes_field(request.protobuf, 1, resource_spans);
  request.json = "{\"resourceSpans\":[{\"resource\":" + resource.json + ",\"scopeSpans\":[" +
                 scope.json + "]}]}";
  return request;
}

// Runs work until at least min_seconds have passed; prints MB/s of input and spans/s.
template <typename Work>
void measure(const char* name, std::size_t bytes, std::size_t spans, double min_seconds,
             Work&& work) {
  using Clock = std::chrono::steady_clock;
  std::size_t iterations = 0;
  std::size_t checksum = 0;
  const auto begin = Clock::now();
  double seconds = 0;
  do {
    for (int i = 0; i < 10; ++i) checksum += work();
    iterations += 10;
    seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  } while (seconds < min_seconds);
  if (checksum != iterations * spans) {
    std::fprintf(stderr, "%s: wrong span count (%zu for %zu iterations)\n", name, checksum,
                 iterations);
    std::exit(1);
  }
  const double mb = static_cast<double>(bytes) * static_cast<double>(iterations) / 1e6;
  std::printf("| %-48s | %9.1f | %12.0f | %8.1f |\n", name, mb / seconds,
              static_cast<double>(spans * iterations) / seconds, 1e6 * seconds / iterations);
}

#ifdef COVET_BENCH_LIBPROTOBUF
namespace otlp_proto = opentelemetry::proto;

// What validate_export_request does, through the generated classes: parse everything
// (libprotobuf cannot skip), then check every span's ids and count.
std::size_t libprotobuf_validate(
    std::string_view bytes, otlp_proto::collector::trace::v1::ExportTraceServiceRequest& request) {
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return 0;
  std::size_t spans = 0;
  for (const auto& resource_spans : request.resource_spans()) {
    for (const auto& scope_spans : resource_spans.scope_spans()) {
      for (const auto& span : scope_spans.spans()) {
        if (span.trace_id().size() != 16 || span.span_id().size() != 8) return 0;
        ++spans;
      }
    }
  }
  return spans;
}
#endif

long max_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  // `--write FILE SPANS`: only write the protobuf request to FILE (bench/otlp.sh's bodies).
  if (argc == 4 && std::string_view(argv[1]) == "--write") {
    const Both request = make_request(std::stoul(argv[3]));
    std::FILE* out = std::fopen(argv[2], "wb");
    if (out == nullptr ||
        std::fwrite(request.protobuf.data(), 1, request.protobuf.size(), out) !=
            request.protobuf.size() ||
        std::fclose(out) != 0) {
      std::fprintf(stderr, "otlp_codec: cannot write %s\n", argv[2]);
      return 1;
    }
    std::printf("%zu\n", request.protobuf.size());
    return 0;
  }
  const std::size_t spans = argc > 1 ? std::stoul(argv[1]) : 512;
  const double seconds = argc > 2 ? std::stod(argv[2]) : 3.0;
  const Both request = make_request(spans);
  const covet::otlp::ResourceAttributes enrichment{{"k8s.pod.name", "checkout-7d9f8c6b5-x2x7q"},
                                                   {"k8s.namespace.name", "shop"},
                                                   {"k8s.node.name", "node-1"}};
  std::printf("request: %zu spans, %zu bytes protobuf, %zu bytes JSON\n\n", spans,
              request.protobuf.size(), request.json.size());
  std::printf("| %-48s | %9s | %12s | %8s |\n", "work", "MB/s", "spans/s", "us/req");
  std::printf("|%s|%s|%s|%s|\n", std::string(50, '-').c_str(), std::string(11, '-').c_str(),
              std::string(14, '-').c_str(), std::string(10, '-').c_str());
  const long rss_before = max_rss_kib();
  measure("covet: validate + count", request.protobuf.size(), spans, seconds, [&] {
    const auto result = covet::otlp::validate_export_request(request.protobuf);
    return result.ok ? result.spans : 0;
  });
  measure("covet: validate + count + enrich", request.protobuf.size(), spans, seconds, [&] {
    const auto result = covet::otlp::validate_export_request(request.protobuf);
    const std::string enriched = covet::otlp::enrich_resources(request.protobuf, enrichment);
    return result.ok && enriched.size() > request.protobuf.size() ? result.spans : 0;
  });
  measure("covet: JSON -> protobuf + validate (JSON MB)", request.json.size(), spans, seconds, [&] {
    const auto converted = covet::otlp::json_to_protobuf(request.json);
    const auto result = covet::otlp::validate_export_request(converted.protobuf);
    return converted.ok && result.ok ? result.spans : 0;
  });
  const long rss_covet = max_rss_kib();
#ifdef COVET_BENCH_LIBPROTOBUF
  otlp_proto::collector::trace::v1::ExportTraceServiceRequest reused;
  measure("libprotobuf: parse + count (reused message)", request.protobuf.size(), spans, seconds,
          [&] { return libprotobuf_validate(request.protobuf, reused); });
  measure("libprotobuf: parse + count (new message)", request.protobuf.size(), spans, seconds, [&] {
    otlp_proto::collector::trace::v1::ExportTraceServiceRequest fresh;
    return libprotobuf_validate(request.protobuf, fresh);
  });
  measure("libprotobuf: parse + count + enrich + serialize", request.protobuf.size(), spans,
          seconds, [&] {
            otlp_proto::collector::trace::v1::ExportTraceServiceRequest fresh;
            const std::size_t count = libprotobuf_validate(request.protobuf, fresh);
            for (auto& resource_spans : *fresh.mutable_resource_spans()) {
              for (const auto& [key, value] : enrichment) {
                auto* attribute = resource_spans.mutable_resource()->add_attributes();
                attribute->set_key(key);
                attribute->mutable_value()->set_string_value(value);
              }
            }
            const std::string out = fresh.SerializeAsString();
            return out.size() > request.protobuf.size() ? count : 0;
          });
#else
  std::printf("| %-48s | %9s | %12s | %8s |\n", "libprotobuf: not built (see script)", "-", "-",
              "-");
#endif
  std::printf("\nmax RSS: %ld KiB after the covet runs, %ld KiB at the end (started at %ld)\n",
              rss_covet, max_rss_kib(), rss_before);
  return 0;
}
