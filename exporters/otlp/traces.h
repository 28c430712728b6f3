#pragma once
// OTLP traces in protobuf, handled as bytes: validated and counted without being decoded
// into objects, enriched by re-framing only the resource, and forwarded as received.
//
// Concatenated ExportTraceServiceRequest encodings are one valid request holding all their
// ResourceSpans (a repeated field's occurrences append), which is how batches are built:
// nothing here needs to decode a request to merge it with another.
//
// Pure: no I/O, so it is fuzzed directly (tests/fuzz/otlp_protobuf_fuzz.cpp).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace covet::otlp {

struct ValidationResult {
  bool ok = false;
  // Where and why, when not ok: "resource_spans[0].scope_spans[1].spans[3].trace_id: 15
  // bytes, expected 16".
  std::string error;
  std::size_t spans = 0;           // spans in the request (counted up to the error, if any)
  std::size_t resource_spans = 0;  // ResourceSpans in the request
};

// Checks an ExportTraceServiceRequest as a receiver must before acknowledging it: every
// field the trace schema knows has its wire type, every string is UTF-8, every span has a
// 16-byte trace id and an 8-byte span id that are not all zero, a parent span id that is
// empty or 8 bytes, and links carry ids of the same sizes (all zero allowed there: a link to
// an invalid context is user code's doing, not a broken sender). Fields it does not know are
// skipped (newer schemas add fields; the receiver must still accept them) and forwarded.
//
// A request fails as a whole. The spec offers partial success for a server that "accepts
// only parts of the data"; we do not take that route for bad spans, because accepting
// part would mean re-encoding the request without them, where every accepted request is
// otherwise forwarded byte for byte, and because no SDK produces an invalid id: such a
// request comes from a broken sender, which a 400 (not retryable) tells plainly, while a
// partial success is logged by most SDKs at most once. It also keeps one bad request from
// poisoning a concatenated batch that Jaeger would then refuse whole.
ValidationResult validate_export_request(std::string_view protobuf);

namespace detail {
// The same check without the validator's shortcuts for spans and attributes in their usual
// shape (plain_shapes.h): the fuzz target holds the two to the same answer.
ValidationResult validate_export_request_without_shortcuts(std::string_view protobuf);
}  // namespace detail

using ResourceAttributes = std::vector<std::pair<std::string, std::string>>;

// Returns the request with every ResourceSpans' resource carrying each of the attributes
// (as string values) whose key it does not already have: the app's own value wins. A
// ResourceSpans without a resource gets one. Only the ResourceSpans and Resource framing
// is re-encoded; spans, scopes and unknown fields are copied byte for byte. Takes a
// validated request; anything it cannot read is returned unchanged. The result is built in
// `out`, whose memory is reused (its content is replaced).
std::string enrich_resources(std::string_view request, const ResourceAttributes& attributes,
                             std::string out = {});

// The most bytes enrich_resources can make of a request of `request_bytes` with
// `resource_spans` ResourceSpans: what it reserves, and so the size of buffer to hand it.
// Close to the request's size, so that a buffer that held a request can hold its
// enrichment, and the other way round, when they are recycled (see BufferPool::take).
std::size_t enriched_size_bound(std::size_t request_bytes, std::size_t resource_spans,
                                const ResourceAttributes& attributes);

// An ExportTraceServiceResponse: empty on full success; with partial_success when spans
// were rejected or there is a message to pass on (the spec's warning case).
std::string encode_response(std::size_t rejected_spans, std::string_view error_message);

// What a destination said about an export it answered 200: the spans it rejected and why.
struct PartialSuccess {
  std::uint64_t rejected_spans = 0;
  std::string error_message;
};
// Reads an ExportTraceServiceResponse; nullopt when it is not one. An empty body is full
// success (rejected_spans 0, no message).
std::optional<PartialSuccess> decode_response(std::string_view protobuf);

// A google.rpc.Status (code = 1, message = 2): the body of OTLP/HTTP 4xx and 5xx answers.
std::string encode_status(int code, std::string_view message);

}  // namespace covet::otlp
