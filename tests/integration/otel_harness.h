#pragma once
// The real OpenTelemetry JS SDK and a stand-in for Jaeger, for the OTLP tests: the tools in
// tests/otel/ (node, npm packages installed by scripts/test.sh) driven from C++.
//
// - JaegerStandin runs tests/otel/jaeger_standin.js: an OTLP/HTTP receiver on a free port
//   that decodes what it receives independently of the SDK (protobufjs and the official
//   OTLP .proto files) and reports every span it got.
// - send_spans() runs tests/otel/send_spans.js to completion: the app, creating N spans with
//   the SDK and exporting them with the proto, http (JSON) or grpc exporter; it reports
//   every span it handed to the exporter.
// - compare_spans() says whether what arrived is exactly what was sent.
//
// Spans on both sides are JSON objects of one shape (documented in tests/otel/canonical.js):
// traceId, spanId, parentSpanId, name, kind, startTimeUnixNano, endTimeUnixNano,
// attributes, events, links, status, resource, scope; the stand-in adds "request" (which
// request, from 1, carried it).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/port_hold.h"
#include "tests/support/json_value.h"

namespace covet::testing {

class ExternalProcess;

using SpanList = std::vector<JsonValue>;

// tests/otel in the source tree.
std::string otel_tools_dir();
// "" when the npm packages of the tools in `dir` are installed (and node is there); else a
// message saying what is missing and how to install it. Tests ASSERT on it: a missing
// install is a failure, never a skip.
std::string otel_tools_missing(const std::string& dir = otel_tools_dir());

// One request the stand-in answered.
struct StandinRequest {
  int status = 0;
  std::string content_type;      // without parameters, lower case
  std::string content_encoding;  // "" when none
  std::size_t bytes = 0;         // the body as received (compressed, when it was)
  std::size_t spans = 0;         // spans recorded from it (0 unless the status was 200)
  double at_ms = 0;              // when it arrived: milliseconds since the Unix epoch
};

struct StandinContents {
  std::string error;  // "" when the stand-in answered and its answer parsed
  SpanList spans;     // in the order received
  std::vector<StandinRequest> requests;
};

class JaegerStandin {
 public:
  struct Options {
    // The first fail_count requests to /v1/traces get fail_status (and Retry-After:
    // retry_after_seconds when set) instead of 200.
    int fail_status = 503;
    int fail_count = 0;
    std::optional<int> retry_after_seconds;
    int delay_ms = 0;  // before answering each request to /v1/traces
  };

  JaegerStandin();
  explicit JaegerStandin(Options options);
  ~JaegerStandin();  // stops the process
  JaegerStandin(const JaegerStandin&) = delete;
  JaegerStandin& operator=(const JaegerStandin&) = delete;

  // Starts node on a free port (the same port again after stop()) and waits until it
  // listens. "" on success, else what failed, with the process's output. What was received
  // before a stop() is forgotten.
  std::string start();
  // SIGTERM, then SIGKILL; the port is kept for the next start() (a Jaeger outage): held,
  // so that no other process takes it meanwhile, and connecting to it is refused.
  void stop();

  std::uint16_t port() const { return port_; }
  // http://127.0.0.1:PORT/v1/traces: the endpoint to export to.
  std::string traces_url() const;

  StandinContents contents() const;
  SpanList spans() const { return contents().spans; }
  // -1 when the stand-in did not answer.
  int request_count() const;
  // Forgets what was received and re-arms the failure injection. False when it failed.
  bool reset() const;
  // Replaces the failure injection for the next requests (fail_count of them).
  bool inject(const Options& options) const;
  // Its stderr: one line per request.
  std::string logs() const;

 private:
  Options options_;
  std::uint16_t port_ = 0;
  bool keep_port_ = false;               // after stop(): start() again on the same port
  std::unique_ptr<PortHold> port_hold_;  // from stop() until the next start() listens
  std::unique_ptr<ExternalProcess> process_;
};

struct SendSpansOptions {
  std::string protocol = "proto";  // proto | http | grpc
  std::string endpoint;            // "" leaves the SDK's default (localhost:4318 / :4317)
  int spans = 10;
  bool gzip = false;
  int batch_size = 0;   // BatchSpanProcessor's maxExportBatchSize; 0: the SDK's 512
  bool simple = false;  // SimpleSpanProcessor: one export per span
  std::string service;  // service.name; "" for send_spans.js's default
  std::string run_id;   // covet.test.run_id; "" for a random one
  std::vector<std::pair<std::string, std::string>> resource;  // more resource attributes
  int timeout_ms = 0;            // the exporter's timeoutMillis; 0: the SDK's 10 s
  std::vector<std::string> env;  // "NAME=value" added to the environment
  std::chrono::milliseconds limit = std::chrono::seconds(60);  // killed past this
};

struct SendSpansResult {
  int exit_code = -1;  // 0 only when every export succeeded
  SpanList sent;       // every span the SDK handed to the exporter
  JsonValue report;    // the whole JSON line send_spans.js printed (null if none)
  std::string out;     // its stdout
  std::string err;     // its stderr: the SDK's complaints, the reasons for exit code 1
  std::string error;   // the harness's own: could not start, timed out, unparsable stdout
  double seconds = 0;
};

SendSpansResult send_spans(const SendSpansOptions& options);
SendSpansResult send_spans(const std::string& protocol, const std::string& endpoint, int spans,
                           bool gzip);

// "" when every sent span arrived exactly once with its ids, parent, name, kind, times,
// attributes, events, links, status, scope and resource intact, and nothing else arrived;
// otherwise one line per difference (missing, duplicated, changed field, unexpected),
// capped at `max_lines` with a count of the rest. `added_resource` are attributes the
// receiver is expected to add to each span's resource where the app did not set them (a
// string value each); an attribute the app set must arrive with the app's value.
std::string compare_spans(
    const SpanList& sent, const SpanList& received,
    const std::vector<std::pair<std::string, std::string>>& added_resource = {},
    std::size_t max_lines = 20);

// Compact JSON text of `value`, for messages.
std::string to_json(const JsonValue& value);

}  // namespace covet::testing
