#pragma once
// gzip compression of a body held in several pieces: an export batch is its requests one
// after the other, never gathered into one buffer. One deflate stream runs over all the
// pieces in order, so the output is what compressing their concatenation gives, with the
// window reaching back across the seams.

#include <span>
#include <string>
#include <string_view>

namespace covet::otlp {

// Replaces `out`'s content (keeping its capacity) with one gzip member (RFC 1952) of the
// concatenation of `parts`, at zlib `level` (1 to 9). Throws std::bad_alloc when zlib runs
// out of memory; nothing about the input can make it fail.
void gzip_parts(std::span<const std::string_view> parts, int level, std::string& out);

}  // namespace covet::otlp
