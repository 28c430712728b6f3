// libFuzzer target for OTLP/JSON (exporters/otlp/json.h). Input: a JSON document, or
// anything.
//
// Properties checked, beyond "no crash, no sanitizer report, no exception":
//  - a rejected document always says why, and yields no protobuf;
//  - an accepted document's protobuf passes validate_export_request (the receiver relies on
//    it: a JSON request is forwarded as that protobuf), and enriching it keeps it valid.
//
//   ./otlp_json_fuzz -max_total_time=60 tests/fuzz/corpus/otlp_json

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
  std::fprintf(stderr, "otlp_json_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const JsonConversion result = json_to_protobuf(input);
  if (!result.ok) {
    if (result.error.empty()) fail("rejected without a reason", input);
    if (!result.protobuf.empty()) fail("rejected with a protobuf", input);
    return 0;
  }
  const ValidationResult validation = validate_export_request(result.protobuf);
  if (!validation.ok) fail(("converted request rejected: " + validation.error).c_str(), input);
  const std::string enriched = enrich_resources(result.protobuf, {{"k8s.pod.name", "pod-1"}});
  const ValidationResult again = validate_export_request(enriched);
  if (!again.ok || again.spans != validation.spans) fail("enriched conversion rejected", input);
  return 0;
}
