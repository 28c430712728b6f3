#pragma once
// The disk spool's file formats, pure (no I/O): records in segment files, segment file names,
// and the acknowledgement watermark. The spool (spool.h) reads files into buffers and asks
// these functions what they hold; the fuzz target feeds them anything.
//
// A segment is a sequence of records, each a 24-byte header then the payload:
//   0  magic     uint32 LE  "CSP1"
//   4  crc       uint32 LE  zlib crc32 of bytes 8..24 and of the payload
//   8  length    uint32 LE  payload bytes
//   12 spans     uint32 LE
//   16 sequence  uint64 LE  strictly increasing within a segment, >= the file name's number
// The CRC covers the length and the sequence too, so a torn or bit-flipped header is caught
// like a torn payload; a zero-filled tail (what a file system may leave after a power loss)
// fails the magic check.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace covet::otlp::spool {

inline constexpr std::size_t record_header_bytes = 24;
inline constexpr std::uint32_t record_magic = 0x31505343;  // "CSP1" read as little-endian
// Larger lengths are corruption: requests are bounded far below this before they get here.
inline constexpr std::uint32_t max_record_payload_bytes = 1u << 30;

struct RecordHeader {
  std::uint32_t crc = 0;
  std::uint32_t length = 0;
  std::uint32_t spans = 0;
  std::uint64_t sequence = 0;
};

std::array<char, record_header_bytes> encode_record_header(std::uint64_t sequence,
                                                           std::uint32_t spans,
                                                           std::string_view payload);

// The header's fields when `bytes` (at least record_header_bytes) starts with a plausible
// header: right magic, length within bounds. The CRC is checked by payload_matches.
std::optional<RecordHeader> decode_record_header(std::string_view bytes);
bool payload_matches(const RecordHeader& header, std::string_view payload);

struct ScannedRecord {
  std::uint64_t sequence = 0;
  std::uint64_t offset = 0;  // of the header
  std::uint32_t length = 0;  // payload bytes
  std::uint32_t spans = 0;
};

struct SegmentScan {
  enum class Stop {
    end,        // every byte belongs to a good record
    truncated,  // the last record is cut short: a write interrupted by a crash
    corrupt,    // bad magic, CRC or sequence at `valid_bytes`
  };
  std::vector<ScannedRecord> records;
  std::uint64_t valid_bytes = 0;  // the good records end here; nothing after is trusted
  Stop stop = Stop::end;
  std::string reason;  // for truncated and corrupt: what was wrong at valid_bytes
};

// Reads the records of a segment whose file name says `first_sequence`, stopping at the
// first record that is not intact.
SegmentScan scan_segment(std::string_view data, std::uint64_t first_sequence);

// "00000000000000000042.seg": zero-padded so that names sort like their numbers.
std::string segment_file_name(std::uint64_t first_sequence);
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

// The ACKED file: every sequence below the watermark has been acknowledged. 16 bytes: magic,
// the watermark, a CRC of both; rewritten in place with one pwrite.
inline constexpr std::size_t watermark_bytes = 16;
std::array<char, watermark_bytes> encode_watermark(std::uint64_t watermark);
std::optional<std::uint64_t> decode_watermark(std::string_view bytes);

}  // namespace covet::otlp::spool
