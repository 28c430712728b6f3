#include "exporters/otlp/gzip_parts.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <new>
#include <stdexcept>

namespace covet::otlp {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // the largest window, with a gzip wrapper
constexpr int kDefaultMemLevel = 8;       // zlib's own default for deflateInit

// One deflate stream, released on every path out.
class GzipDeflater {
 public:
  explicit GzipDeflater(int level) {
    const int rc = deflateInit2(&stream_, level, Z_DEFLATED, kGzipWindowBits, kDefaultMemLevel,
                                Z_DEFAULT_STRATEGY);
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc != Z_OK) throw std::invalid_argument("deflateInit2: invalid level");
  }
  ~GzipDeflater() { deflateEnd(&stream_); }
  GzipDeflater(const GzipDeflater&) = delete;
  GzipDeflater& operator=(const GzipDeflater&) = delete;

  z_stream& stream() { return stream_; }

 private:
  z_stream stream_{};  // zalloc, zfree, opaque = Z_NULL: zlib's default allocator
};

}  // namespace

void gzip_parts(std::span<const std::string_view> parts, int level, std::string& out) {
  GzipDeflater deflater(level);
  z_stream& stream = deflater.stream();
  std::size_t total = 0;
  for (std::string_view part : parts) total += part.size();
  // deflateBound covers the whole stream with its wrapper; the loop below grows `out`
  // anyway, should zlib ever need more.
  out.resize(deflateBound(&stream, static_cast<uLong>(total)));
  std::size_t written = 0;
  const auto give_output_room = [&] {
    if (written == out.size()) out.resize(out.size() * 2 + 64);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + written);
    stream.avail_out = static_cast<uInt>(
        std::min<std::size_t>(out.size() - written, std::numeric_limits<uInt>::max()));
  };
  for (std::size_t i = 0; i <= parts.size(); ++i) {
    // One pass more than there are parts, with no input, to finish the stream.
    const std::string_view part = i < parts.size() ? parts[i] : std::string_view();
    const int flush = i < parts.size() ? Z_NO_FLUSH : Z_FINISH;
    std::size_t taken = 0;
    for (;;) {
      const std::size_t left = part.size() - taken;
      // zlib's next_in is not const, but deflate never writes through it.
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(part.data() + taken));
      stream.avail_in =
          static_cast<uInt>(std::min<std::size_t>(left, std::numeric_limits<uInt>::max()));
      give_output_room();
      const uInt offered_in = stream.avail_in;
      const uInt offered_out = stream.avail_out;
      const int rc = deflate(&stream, flush);
      if (rc == Z_STREAM_ERROR) throw std::logic_error("deflate: inconsistent stream state");
      taken += offered_in - stream.avail_in;
      written += offered_out - stream.avail_out;
      if (rc == Z_STREAM_END) break;
      // A part is done once it is all taken and zlib left output room unused.
      if (flush == Z_NO_FLUSH && taken == part.size() && stream.avail_out > 0) break;
    }
  }
  out.resize(written);
}

}  // namespace covet::otlp
