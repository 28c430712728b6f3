#include "exporters/otlp/spool_segment.h"

#include <zlib.h>

#include <cstdio>

namespace covet::otlp::spool {
namespace {

constexpr std::uint32_t watermark_magic = 0x4b415343;  // "CSAK"

void put32(char* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void put64(char* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint32_t get32(const char* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}
std::uint64_t get64(const char* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

std::uint32_t crc(std::uint32_t seed, std::string_view bytes) {
  // zlib takes uInt lengths; payloads are bounded by max_record_payload_bytes (< 4 GiB).
  return static_cast<std::uint32_t>(
      crc32(seed, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// The CRC of a record: header bytes 8..24, then the payload.
std::uint32_t record_crc(std::string_view header_tail, std::string_view payload) {
  return crc(crc(crc32(0, nullptr, 0), header_tail), payload);
}

}  // namespace

std::array<char, record_header_bytes> encode_record_header(std::uint64_t sequence,
                                                           std::uint32_t spans,
                                                           std::string_view payload) {
  std::array<char, record_header_bytes> h{};
  put32(h.data(), record_magic);
  put32(h.data() + 8, static_cast<std::uint32_t>(payload.size()));
  put32(h.data() + 12, spans);
  put64(h.data() + 16, sequence);
  put32(h.data() + 4, record_crc(std::string_view(h.data() + 8, 16), payload));
  return h;
}

std::optional<RecordHeader> decode_record_header(std::string_view bytes) {
  if (bytes.size() < record_header_bytes || get32(bytes.data()) != record_magic) {
    return std::nullopt;
  }
  RecordHeader h;
  h.crc = get32(bytes.data() + 4);
  h.length = get32(bytes.data() + 8);
  h.spans = get32(bytes.data() + 12);
  h.sequence = get64(bytes.data() + 16);
  if (h.length > max_record_payload_bytes) return std::nullopt;
  return h;
}

bool payload_matches(const RecordHeader& header, std::string_view payload) {
  if (payload.size() != header.length) return false;
  char tail[16];
  put32(tail, header.length);
  put32(tail + 4, header.spans);
  put64(tail + 8, header.sequence);
  return record_crc(std::string_view(tail, sizeof tail), payload) == header.crc;
}

SegmentScan scan_segment(std::string_view data, std::uint64_t first_sequence) {
  SegmentScan scan;
  std::uint64_t offset = 0;
  auto stop = [&](SegmentScan::Stop why, std::string reason) {
    scan.valid_bytes = offset;
    scan.stop = why;
    scan.reason = std::move(reason);
    return scan;
  };
  while (offset < data.size()) {
    const std::string_view rest = data.substr(offset);
    if (rest.size() < record_header_bytes) {
      return stop(SegmentScan::Stop::truncated, "record header cut short");
    }
    const std::optional<RecordHeader> header = decode_record_header(rest);
    if (!header) return stop(SegmentScan::Stop::corrupt, "bad record header");
    // Checked before the CRC: a header whose length runs past the end is what an
    // interrupted write leaves, whatever the bytes after it.
    if (rest.size() - record_header_bytes < header->length) {
      return stop(SegmentScan::Stop::truncated, "record payload cut short");
    }
    if (!payload_matches(*header, rest.substr(record_header_bytes, header->length))) {
      return stop(SegmentScan::Stop::corrupt, "record checksum mismatch");
    }
    const bool ordered = scan.records.empty() ? header->sequence >= first_sequence
                                              : header->sequence > scan.records.back().sequence;
    if (!ordered) return stop(SegmentScan::Stop::corrupt, "record sequence out of order");
    scan.records.push_back({header->sequence, offset, header->length, header->spans});
    offset += record_header_bytes + header->length;
  }
  scan.valid_bytes = offset;
  return scan;
}

std::string segment_file_name(std::uint64_t first_sequence) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(first_sequence));
  return name;
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  constexpr std::size_t digits = 20;
  if (name.size() != digits + 4 || name.substr(digits) != ".seg") return std::nullopt;
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::array<char, watermark_bytes> encode_watermark(std::uint64_t watermark) {
  std::array<char, watermark_bytes> out{};
  put32(out.data(), watermark_magic);
  put64(out.data() + 4, watermark);
  put32(out.data() + 12, crc(crc32(0, nullptr, 0), std::string_view(out.data(), 12)));
  return out;
}

std::optional<std::uint64_t> decode_watermark(std::string_view bytes) {
  if (bytes.size() < watermark_bytes || get32(bytes.data()) != watermark_magic) return std::nullopt;
  if (crc(crc32(0, nullptr, 0), bytes.substr(0, 12)) != get32(bytes.data() + 12)) {
    return std::nullopt;
  }
  return get64(bytes.data() + 4);
}

}  // namespace covet::otlp::spool
