#pragma once
// Gzip output assembled from pieces compressed ahead of time. Compressing a 10 MB /metrics
// page on the event loop for every scrape is too slow, so each part of the page is
// compressed once, when it changes, into a DeflateSegment, and a request only concatenates
// segments between a gzip header and trailer: a copy and a few CRC combinations.
//
// Why concatenation is valid: every segment is a raw deflate stream of its own (no window
// shared with any other segment), ended with Z_FULL_FLUSH instead of Z_FINISH, so it stops
// on a byte boundary after an empty stored block and has no block marked final. One such
// stream after another is one longer deflate stream; gzip_join closes it with a final
// empty block, and the gzip trailer's CRC-32 is combined from the segments' CRCs with
// crc32_combine, without reading the uncompressed bytes again. The price is a little
// compression at each seam (no back-references across it), which is small for segments of
// kilobytes and more.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace covet::metrics {

struct DeflateSegment {
  std::string data;        // raw deflate, byte-aligned, no final block; empty for no input
  std::uint32_t crc = 0;   // CRC-32 of the uncompressed bytes
  std::uint64_t size = 0;  // uncompressed length in bytes
};

// Compresses `input` at zlib `level` (Z_DEFAULT_COMPRESSION, or 0 to 9). Throws
// std::invalid_argument for any other level and std::bad_alloc when zlib runs out of memory;
// neither can come from the input's bytes.
DeflateSegment deflate_segment(std::string_view input, int level);

// Writes into `out` (replacing its contents, keeping its capacity, so a buffer reused
// across requests stops allocating) one gzip member whose content is the concatenation of
// the segments' inputs in order. Every pointer must be non-null. Throws std::length_error
// only for a segment too long for zlib's crc32_combine on this platform (over 2 GiB where
// z_off_t has 32 bits).
void gzip_join(std::span<const DeflateSegment* const> segments, std::string& out);
std::string gzip_join(std::span<const DeflateSegment* const> segments);

}  // namespace covet::metrics
