#include "exporters/otlp/inflate.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace covet::otlp {
namespace {

// Owns a z_stream set up for gzip decoding; inflateEnd runs on every path out.
class GzipStream {
 public:
  GzipStream() { ok_ = inflateInit2(&stream_, 16 + MAX_WBITS) == Z_OK; }
  ~GzipStream() {
    if (ok_) inflateEnd(&stream_);
  }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  bool ok() const { return ok_; }
  z_stream& get() { return stream_; }

 private:
  z_stream stream_{};
  bool ok_ = false;
};

Inflated malformed(std::string error) {
  Inflated result;
  result.outcome = Inflated::Outcome::malformed;
  result.error = error.empty() ? "invalid gzip data" : std::move(error);
  return result;
}

}  // namespace

Inflated gunzip_bounded(std::string_view compressed, std::size_t max_output) {
  GzipStream gzip;
  if (!gzip.ok()) return malformed("out of memory");
  z_stream& stream = gzip.get();
  Inflated result;
  // A guess at the ratio bounded by the ceiling: grown as needed, never past max_output + 1
  // (one byte more than allowed is how "too large" is detected without inflating further).
  const std::size_t ceiling = max_output + 1;
  result.data.resize(std::min(ceiling, std::max<std::size_t>(compressed.size() * 4, 4096)));
  std::size_t produced = 0;
  std::size_t consumed = 0;
  for (;;) {
    const std::size_t in_left = compressed.size() - consumed;
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + consumed));
    stream.avail_in =
        static_cast<uInt>(std::min<std::size_t>(in_left, std::numeric_limits<uInt>::max()));
    if (produced == result.data.size()) {
      if (result.data.size() >= ceiling) {
        result.data.clear();
        result.outcome = Inflated::Outcome::too_large;
        return result;
      }
      result.data.resize(std::min(ceiling, result.data.size() * 2));
    }
    const std::size_t out_left = result.data.size() - produced;
    stream.next_out = reinterpret_cast<Bytef*>(result.data.data() + produced);
    stream.avail_out =
        static_cast<uInt>(std::min<std::size_t>(out_left, std::numeric_limits<uInt>::max()));
    const uInt in_before = stream.avail_in;
    const uInt out_before = stream.avail_out;
    const int rc = inflate(&stream, Z_NO_FLUSH);
    consumed += in_before - stream.avail_in;
    produced += out_before - stream.avail_out;
    if (rc == Z_STREAM_END) {
      if (consumed == compressed.size()) break;
      // Another gzip member follows.
      if (inflateReset(&stream) != Z_OK) return malformed("");
      continue;
    }
    if (rc == Z_BUF_ERROR && stream.avail_in == 0 && consumed == compressed.size()) {
      return malformed("truncated gzip data");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return malformed(stream.msg != nullptr ? stream.msg : "");
  }
  if (produced > max_output) {
    result.data.clear();
    result.outcome = Inflated::Outcome::too_large;
    return result;
  }
  result.data.resize(produced);
  return result;
}

}  // namespace covet::otlp
