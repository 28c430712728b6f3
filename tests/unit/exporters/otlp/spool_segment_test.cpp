#include "exporters/otlp/spool_segment.h"

#include <gtest/gtest.h>

#include <string>

namespace covet::otlp::spool {
namespace {

std::string record(std::uint64_t sequence, std::uint32_t spans, const std::string& payload) {
  const auto header = encode_record_header(sequence, spans, payload);
  return std::string(header.data(), header.size()) + payload;
}

TEST(SpoolSegment, ScansRecordsWrittenBack) {
  const std::string data = record(7, 3, "abc") + record(8, 0, "") + record(10, 5, "xyz!");
  const SegmentScan scan = scan_segment(data, 7);
  EXPECT_EQ(scan.stop, SegmentScan::Stop::end);
  EXPECT_EQ(scan.valid_bytes, data.size());
  ASSERT_EQ(scan.records.size(), 3u);
  EXPECT_EQ(scan.records[0].sequence, 7u);
  EXPECT_EQ(scan.records[0].spans, 3u);
  EXPECT_EQ(scan.records[0].offset, 0u);
  EXPECT_EQ(scan.records[0].length, 3u);
  EXPECT_EQ(scan.records[1].offset, record_header_bytes + 3);
  EXPECT_EQ(scan.records[2].sequence, 10u);
  EXPECT_EQ(data.substr(scan.records[2].offset + record_header_bytes, 4), "xyz!");
}

TEST(SpoolSegment, EmptySegmentIsClean) {
  const SegmentScan scan = scan_segment("", 0);
  EXPECT_EQ(scan.stop, SegmentScan::Stop::end);
  EXPECT_TRUE(scan.records.empty());
}

TEST(SpoolSegment, CutRecordIsTruncatedAtEveryLength) {
  const std::string first = record(1, 1, "first");
  const std::string second = record(2, 1, "second payload");
  for (std::size_t cut = 1; cut < second.size(); ++cut) {
    const SegmentScan scan = scan_segment(first + second.substr(0, cut), 1);
    EXPECT_EQ(scan.stop, SegmentScan::Stop::truncated) << cut;
    EXPECT_EQ(scan.valid_bytes, first.size()) << cut;
    EXPECT_EQ(scan.records.size(), 1u) << cut;
  }
}

TEST(SpoolSegment, FlippedBitAnywhereIsCaught) {
  const std::string first = record(1, 1, "first");
  const std::string second = record(2, 4, "second payload");
  for (std::size_t i = 0; i < second.size(); ++i) {
    std::string bad = second;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    const SegmentScan scan = scan_segment(first + bad + first, 1);
    EXPECT_NE(scan.stop, SegmentScan::Stop::end) << i;
    EXPECT_EQ(scan.valid_bytes, first.size()) << i;
    EXPECT_EQ(scan.records.size(), 1u) << i;
  }
}

TEST(SpoolSegment, ZeroFilledTailIsCorrupt) {
  const std::string data = record(1, 1, "first") + std::string(100, '\0');
  const SegmentScan scan = scan_segment(data, 1);
  EXPECT_EQ(scan.stop, SegmentScan::Stop::corrupt);
  EXPECT_EQ(scan.reason, "bad record header");
}

TEST(SpoolSegment, SequencesMustIncreaseFromTheFileName) {
  EXPECT_EQ(scan_segment(record(4, 0, "a"), 5).stop, SegmentScan::Stop::corrupt);
  const SegmentScan scan = scan_segment(record(5, 0, "a") + record(5, 0, "b"), 5);
  EXPECT_EQ(scan.stop, SegmentScan::Stop::corrupt);
  EXPECT_EQ(scan.reason, "record sequence out of order");
  EXPECT_EQ(scan.records.size(), 1u);
}

TEST(SpoolSegment, FileNamesSortLikeNumbers) {
  EXPECT_EQ(segment_file_name(42), "00000000000000000042.seg");
  EXPECT_EQ(parse_segment_file_name("00000000000000000042.seg"), 42u);
  EXPECT_EQ(parse_segment_file_name(segment_file_name(UINT64_MAX)), UINT64_MAX);
  EXPECT_FALSE(parse_segment_file_name("99999999999999999999.seg"));  // > UINT64_MAX
  EXPECT_FALSE(parse_segment_file_name("0000000000000000004x.seg"));
  EXPECT_FALSE(parse_segment_file_name("42.seg"));
  EXPECT_FALSE(parse_segment_file_name("00000000000000000042.ack"));
  EXPECT_FALSE(parse_segment_file_name("LOCK"));
}

TEST(SpoolSegment, WatermarkRoundTripsAndRejectsDamage) {
  const auto bytes = encode_watermark(123456789);
  const std::string good(bytes.data(), bytes.size());
  EXPECT_EQ(decode_watermark(good), 123456789u);
  std::string bad = good;
  bad[6] = static_cast<char>(bad[6] ^ 1);
  EXPECT_FALSE(decode_watermark(bad));
  EXPECT_FALSE(decode_watermark(good.substr(0, 15)));
  EXPECT_FALSE(decode_watermark(std::string(16, '\0')));
}

}  // namespace
}  // namespace covet::otlp::spool
