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

// Whether every byte is below 0x80, without a branch per byte: words are OR-ed together
// and the last word overlaps the one before it, so a 13-byte key costs two loads.
inline bool all_ascii(std::string_view text) {
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  const std::size_t size = text.size();
  std::uint64_t seen = 0;
  if (size >= 8) {
    std::uint64_t word = 0;
    for (std::size_t i = 0; i + 8 < size; i += 8) {
      std::memcpy(&word, text.data() + i, 8);
      seen |= word;
    }
    std::memcpy(&word, text.data() + size - 8, 8);
    return ((seen | word) & kHighBits) == 0;
  }
  for (const char c : text) seen |= static_cast<unsigned char>(c);
  return (seen & 0x80) == 0;
}

// Well-formed UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
// Inline for ASCII: OTLP attribute keys and values are short and nearly always ASCII, and
// the call alone was most of their cost.
inline bool valid_utf8(std::string_view text) {
  return all_ascii(text) || valid_utf8_from(text, 0);
}

}  // namespace covet::text
