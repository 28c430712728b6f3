// libFuzzer target for the OTLP protobuf codec (exporters/otlp/wire.h, traces.h). Input: an
// ExportTraceServiceRequest, or anything.
//
// Properties checked, beyond "no crash, no sanitizer report":
//  - a rejected request always says why;
//  - the validator's shortcut for plain attributes gives the answer of the general walk;
//  - an accepted request, enriched, is still accepted with the same span and ResourceSpans
//    counts, and enriching it again changes nothing (every key is then present);
//  - an accepted request concatenated with itself is accepted with twice the counts (how
//    batches are built);
//  - the response readers never fail on what the encoders write.
//
//   ./otlp_protobuf_fuzz -max_total_time=60 tests/fuzz/corpus/otlp_protobuf

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "exporters/otlp/json.h"
#include "exporters/otlp/traces.h"

namespace {

using namespace covet::otlp;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "otlp_protobuf_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The readers of answers take any bytes too.
  (void)response_to_json(input);
  (void)status_to_json(input);

  const ValidationResult result = validate_export_request(input);
  const ValidationResult general = detail::validate_export_request_without_shortcuts(input);
  if (result.ok != general.ok || result.error != general.error || result.spans != general.spans) {
    fail(
        ("the plain-attribute shortcut changed the answer: " + result.error + " / " + general.error)
            .c_str(),
        input);
  }
  if (!result.ok) {
    if (result.error.empty()) fail("rejected without a reason", input);
    return 0;
  }
  const ResourceAttributes attributes{
      {"k8s.pod.name", "pod-1"}, {"service.name", "fallback"}, {"k8s.node.name", "node-1"}};
  const std::string enriched = enrich_resources(input, attributes);
  const ValidationResult again = validate_export_request(enriched);
  if (!again.ok) fail(("enriched request rejected: " + again.error).c_str(), enriched);
  if (again.spans != result.spans || again.resource_spans != result.resource_spans) {
    fail("enrichment changed the counts", enriched);
  }
  if (enrich_resources(enriched, attributes) != enriched)
    fail("enrichment not idempotent", enriched);

  const std::string doubled = std::string(input) + std::string(input);
  const ValidationResult both = validate_export_request(doubled);
  if (!both.ok || both.spans != 2 * result.spans ||
      both.resource_spans != 2 * result.resource_spans) {
    fail("concatenation is not one request", input);
  }

  const std::string response = encode_response(result.spans, result.error);
  if (!response_to_json(response)) fail("own response unreadable", response);
  return 0;
}
