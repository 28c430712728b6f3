#pragma once
// UTF-8 validation shared by the parsers of text from outside (metrics pages, OTLP
// requests): both formats require valid UTF-8, and accepting anything else would pass
// garbage on to Prometheus or Jaeger.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace covet::text {

// valid_utf8 from byte `from` on, where the first non-ASCII byte may be.
bool valid_utf8_from(std::string_view text, std::size_t from);

// Well-formed UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
// Inline up to the first non-ASCII byte: OTLP attribute keys and values are short and
// nearly always ASCII, and the call alone was most of their cost.
inline bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (text.size() - i >= 8) {
    std::uint64_t eight = 0;
    std::memcpy(&eight, text.data() + i, 8);
    if ((eight & 0x8080808080808080ULL) != 0) return valid_utf8_from(text, i);
    i += 8;
  }
  for (; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) >= 0x80) return valid_utf8_from(text, i);
  }
  return true;
}

}  // namespace covet::text
