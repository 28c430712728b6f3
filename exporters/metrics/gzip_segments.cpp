#include "exporters/metrics/gzip_segments.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <new>
#include <stdexcept>

namespace covet::metrics {
namespace {

// Raw deflate (RFC 1951), no zlib or gzip wrapper: the wrapper is written once by gzip_join.
constexpr int kRawDeflateWindowBits = -15;
constexpr int kDefaultMemLevel = 8;  // zlib's own default for deflateInit
// zlib's avail_in / avail_out are 32-bit; larger inputs go in slices of this size.
constexpr std::size_t kMaxSliceBytes = std::size_t{1} << 30;
// zlib asks for more than six bytes of output room on each flushing call, or it may emit
// repeated flush markers; keep more than that free.
constexpr std::size_t kFlushRoomBytes = 16;

// RFC 1952 §2.3: magic, CM=8 (deflate), no flags, MTIME 0 (none), XFL 0, OS 255 (unknown).
constexpr unsigned char kGzipHeader[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
// A final, empty, fixed-Huffman block (BFINAL=1, BTYPE=01, end-of-block code): what zlib
// writes for deflate(Z_FINISH) after a flush with no new input. Segments end byte-aligned,
// so it starts on a byte of its own.
constexpr unsigned char kFinalBlock[] = {0x03, 0x00};
constexpr std::size_t kTrailerBytes = 8;  // CRC32 and ISIZE, little-endian

// One deflate stream: initialised in the constructor, released in the destructor, on
// every path. deflateInit2 frees what it allocated when it fails, so a constructor that
// throws leaves nothing behind.
class Deflater {
 public:
  explicit Deflater(int level) {
    const int rc = deflateInit2(&stream_, level, Z_DEFLATED, kRawDeflateWindowBits,
                                kDefaultMemLevel, Z_DEFAULT_STRATEGY);
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc == Z_STREAM_ERROR) throw std::invalid_argument("deflateInit2: invalid level");
    if (rc != Z_OK) throw std::runtime_error("deflateInit2: zlib version mismatch");
  }
  ~Deflater() { deflateEnd(&stream_); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  z_stream& stream() { return stream_; }

 private:
  z_stream stream_{};  // zalloc, zfree, opaque = Z_NULL: zlib's default allocator
};

void put_le32(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

}  // namespace

DeflateSegment deflate_segment(std::string_view input, int level) {
  // Checked here so an empty input, which skips zlib, answers a bad level the same way.
  if (level != Z_DEFAULT_COMPRESSION && (level < 0 || level > 9)) {
    throw std::invalid_argument("deflate_segment: level must be -1 or 0..9");
  }
  DeflateSegment segment;
  // Nothing at all, not an empty stored block: an empty segment adds no bytes to a join.
  if (input.empty()) return segment;

  Deflater deflater(level);
  z_stream& stream = deflater.stream();
  std::string& out = segment.data;
  // deflateBound is for Z_FINISH; the full flush's empty stored block fits in the margin.
  out.resize(deflateBound(&stream, input.size()) + kFlushRoomBytes);
  std::size_t produced = 0;
  std::size_t offset = 0;
  bool last = false;
  while (!last) {
    const std::size_t slice = std::min(input.size() - offset, kMaxSliceBytes);
    // zlib's next_in is not const, but deflate never writes through it.
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data() + offset));
    stream.avail_in = static_cast<uInt>(slice);
    offset += slice;
    last = offset == input.size();
    const int flush = last ? Z_FULL_FLUSH : Z_NO_FLUSH;
    // Until deflate leaves output room unused: then it has taken all of this slice and,
    // on the last one, completed the flush.
    do {
      if (out.size() - produced <= kFlushRoomBytes) out.resize(out.size() * 2);
      const std::size_t room = std::min(out.size() - produced, kMaxSliceBytes);
      stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
      stream.avail_out = static_cast<uInt>(room);
      // Z_BUF_ERROR only says no progress was possible in this call; not an error.
      if (deflate(&stream, flush) == Z_STREAM_ERROR) {
        throw std::logic_error("deflate: inconsistent stream state");
      }
      produced += room - stream.avail_out;
    } while (stream.avail_out == 0);
  }
  out.resize(produced);
  // Segments live until their part of the page changes; give back the bound's slack, which
  // for text is most of it.
  out.shrink_to_fit();
  segment.crc = static_cast<std::uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(input.data()), input.size()));
  segment.size = input.size();
  return segment;
}

void gzip_join(std::span<const DeflateSegment* const> segments, std::string& out) {
  // Checked before writing, so `out` is untouched when this throws.
  constexpr auto kMaxCombinedBytes =
      static_cast<std::uint64_t>(std::numeric_limits<z_off_t>::max());
  std::size_t total_bytes = sizeof(kGzipHeader) + sizeof(kFinalBlock) + kTrailerBytes;
  for (const DeflateSegment* segment : segments) {
    if (segment->size > kMaxCombinedBytes) {
      throw std::length_error("gzip_join: segment too long for crc32_combine");
    }
    total_bytes += segment->data.size();
  }
  out.clear();
  out.reserve(total_bytes);

  out.append(reinterpret_cast<const char*>(kGzipHeader), sizeof(kGzipHeader));
  uLong crc = crc32(0, Z_NULL, 0);
  std::uint64_t size = 0;
  for (const DeflateSegment* segment : segments) {
    out += segment->data;
    if (segment->size == 0) continue;
    crc = crc32_combine(crc, segment->crc, static_cast<z_off_t>(segment->size));
    size += segment->size;
  }
  out.append(reinterpret_cast<const char*>(kFinalBlock), sizeof(kFinalBlock));
  put_le32(out, static_cast<std::uint32_t>(crc));
  // RFC 1952: ISIZE is the input size modulo 2^32.
  put_le32(out, static_cast<std::uint32_t>(size & 0xffffffffu));
}

std::string gzip_join(std::span<const DeflateSegment* const> segments) {
  std::string out;
  gzip_join(segments, out);
  return out;
}

}  // namespace covet::metrics
