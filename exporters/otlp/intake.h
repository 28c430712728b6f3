#pragma once
// Where the receivers hand what they received. Both receivers (OTLP/HTTP, OTLP/gRPC) turn
// a request into the protobuf encoding of an ExportTraceServiceRequest, decompressed, and
// submit it here; the answer says what to tell the sender. The receivers know nothing of
// queues, spools or destinations, and the pipeline knows nothing of HTTP or HTTP/2.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace covet::otlp {

// What the receivers report in covet_sidecar_otlp_received_spans_total{protocol}: the names
// OTEL_EXPORTER_OTLP_PROTOCOL uses.
inline constexpr std::string_view protocol_grpc = "grpc";
inline constexpr std::string_view protocol_http_protobuf = "http/protobuf";
inline constexpr std::string_view protocol_http_json = "http/json";

struct Admission {
  enum class Outcome {
    accepted,  // 200 / OK; rejected_spans > 0 makes it a partial success
    invalid,   // 400 / INVALID_ARGUMENT: not retryable, `message` says where and why
    full,      // 503 + Retry-After / UNAVAILABLE + RetryInfo: the sender should retry
  };
  Outcome outcome = Outcome::accepted;
  std::string message;                  // for invalid, and a partial success's error_message
  std::size_t rejected_spans = 0;       // accepted only: spans dropped on arrival, not retryable
  std::chrono::seconds retry_after{1};  // full only
};

class Intake {
 public:
  virtual ~Intake() = default;
  using Done = std::function<void(Admission)>;
  // `request` is an ExportTraceServiceRequest in protobuf, not yet validated. `done` runs
  // exactly once on the loop thread, inside submit() or later (after a spool write, or
  // after waiting for room in a full queue).
  virtual void submit(std::string request, std::string_view protocol, Done done) = 0;
  // Counts a request a receiver refused before it could be submitted (undecodable
  // framing, too large, wrong content type), for covet_sidecar_otlp_refused_spans_total:
  // its spans are unknown, so it counts requests under reason.
  virtual void refused_request(std::string_view reason) = 0;
  // An empty buffer with room for `bytes`, to receive a request into before submit(): the
  // pipeline recycles the memory of requests it has exported.
  virtual std::string buffer(std::size_t bytes) {
    std::string fresh;
    fresh.reserve(bytes);
    return fresh;
  }
  // The same for a caller that writes the whole request over it: its size and bytes are
  // unspecified (a recycled buffer keeps an earlier request's), so it is not zeroed first.
  virtual std::string buffer_to_overwrite(std::size_t bytes) { return buffer(bytes); }
};

}  // namespace covet::otlp
