// libFuzzer target for the disk spool's segment reader (exporters/otlp/spool_segment.h).
// Input: a segment file, or anything.
//
// Properties checked, beyond "no crash, no sanitizer report":
//  - the records found lie end to end from offset 0 to valid_bytes, inside the input, with
//    sequences strictly increasing from the file name's;
//  - "end" is reported exactly when every byte was accepted;
//  - each record's header is what the writer would write for its payload;
//  - the accepted prefix, scanned again, is accepted whole with the same records (what
//    recovery relies on after cutting a torn tail);
//  - the watermark and file name readers accept only what their writers produce.
//
//   ./spool_segment_fuzz -max_total_time=60 tests/fuzz/corpus/spool_segment

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "exporters/otlp/spool_segment.h"

namespace {

using namespace covet::otlp::spool;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "spool_segment_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The writer's sequences start where the file name says; take it from the first record, so
  // that well-formed inputs are scanned as the spool would.
  std::uint64_t first = 0;
  if (auto header = decode_record_header(input)) first = header->sequence;

  const SegmentScan scan = scan_segment(input, first);
  if (scan.valid_bytes > input.size()) fail("valid_bytes past the end");
  if ((scan.stop == SegmentScan::Stop::end) != (scan.valid_bytes == input.size())) {
    fail("stop and valid_bytes disagree");
  }
  if (scan.stop != SegmentScan::Stop::end && scan.reason.empty()) fail("stopped without a reason");
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < scan.records.size(); ++i) {
    const ScannedRecord& r = scan.records[i];
    if (r.offset != offset) fail("records not end to end");
    if (i == 0 ? r.sequence < first : r.sequence <= scan.records[i - 1].sequence) {
      fail("sequence order");
    }
    const std::string_view payload = input.substr(r.offset + record_header_bytes, r.length);
    if (payload.size() != r.length) fail("record past the end");
    const auto header = encode_record_header(r.sequence, r.spans, payload);
    if (input.substr(r.offset, record_header_bytes) !=
        std::string_view(header.data(), header.size())) {
      fail("header differs from the writer's");
    }
    offset += record_header_bytes + r.length;
  }
  if (offset != scan.valid_bytes) fail("records do not end at valid_bytes");

  const SegmentScan again = scan_segment(input.substr(0, scan.valid_bytes), first);
  if (again.stop != SegmentScan::Stop::end || again.records.size() != scan.records.size()) {
    fail("the accepted prefix is not accepted again");
  }

  if (auto watermark = decode_watermark(input)) {
    const auto bytes = encode_watermark(*watermark);
    if (input.substr(0, watermark_bytes) != std::string_view(bytes.data(), bytes.size())) {
      fail("watermark accepted that its writer would not write");
    }
  }
  if (auto number = parse_segment_file_name(input)) {
    if (segment_file_name(*number) != input) fail("file name accepted that is not canonical");
  }
  return 0;
}
