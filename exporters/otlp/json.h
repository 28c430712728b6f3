#pragma once
// OTLP/JSON for traces: a request in JSON becomes the protobuf encoding everything else
// handles (so it is validated, enriched, batched and forwarded like any other), and the
// protobuf answers become JSON for a client that sent JSON.
//
// The mapping is proto3's JSON mapping with OTLP's deviations (opentelemetry-proto
// docs/specification.md, "JSON Protobuf Encoding"): trace and span ids are hex, not base64;
// enums are integers. Unknown fields are ignored, as the spec requires. We also accept what
// a proto3 JSON parser accepts and OTLP tells senders not to send, since taking it costs
// nothing and refusing it would only lose spans: the original snake_case field names, enum
// names ("SPAN_KIND_SERVER"), and 64-bit integers as numbers as well as strings. A value of
// the wrong type is an error that says where: "resourceSpans[0].scopeSpans[1].spans[3]
// .traceId: expected 32 hex digits".
//
// Pure: no I/O, so it is fuzzed directly (tests/fuzz/otlp_json_fuzz.cpp).

#include <optional>
#include <string>
#include <string_view>

namespace covet::otlp {

struct JsonConversion {
  bool ok = false;
  std::string protobuf;  // the ExportTraceServiceRequest, when ok
  std::string error;     // where and why, otherwise
};

// An ExportTraceServiceRequest in OTLP/JSON to protobuf. What it returns as ok passes
// validate_export_request: ids are checked here too, so their errors name JSON fields.
JsonConversion json_to_protobuf(std::string_view json);

// An ExportTraceServiceResponse in protobuf to JSON: `{}`, or
// `{"partialSuccess":{"rejectedSpans":"2","errorMessage":"..."}}` (int64 as a string, as
// proto3 JSON writes it). nullopt when the protobuf cannot be read.
std::optional<std::string> response_to_json(std::string_view protobuf);

// A google.rpc.Status in protobuf to JSON: `{"code":3,"message":"..."}`.
std::optional<std::string> status_to_json(std::string_view protobuf);

}  // namespace covet::otlp
