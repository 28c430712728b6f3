#pragma once
// gzip decompression with a ceiling on the output: a request body is measured after
// decompression, so a small gzip bomb is stopped while it inflates, before it costs more
// than `max_output` bytes of memory.

#include <cstddef>
#include <string>
#include <string_view>

namespace covet::otlp {

struct Inflated {
  enum class Outcome { ok, too_large, malformed };
  Outcome outcome = Outcome::ok;
  std::string data;   // when ok
  std::string error;  // when malformed: zlib's reason
};

// Decodes one or more concatenated gzip members (RFC 1952 allows several; `gzip -c a b`
// writes them). Trailing bytes that are not gzip are malformed.
Inflated gunzip_bounded(std::string_view compressed, std::size_t max_output);

}  // namespace covet::otlp
