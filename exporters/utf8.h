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

// Whether every byte is below 0x80, without a branch per byte: words are OR-ed together,
// 16 bytes a step, and the last ones overlap those before, so a 13-byte key costs two loads.
// Few steps matter as much as few loads: the loop's exit, mispredicted once per string, was
// a fifth of the time it took to check a span's attributes.
[[gnu::always_inline]] inline bool all_ascii(std::string_view text) {
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  const char* const data = text.data();
  const std::size_t size = text.size();
  const auto word_at = [data](std::size_t i) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + i, 8);
    return word;
  };
  std::uint64_t seen = 0;
  if (size >= 16) {
    for (std::size_t i = 0; i + 16 < size; i += 16) seen |= word_at(i) | word_at(i + 8);
    seen |= word_at(size - 16) | word_at(size - 8);
  } else if (size >= 8) {
    seen = word_at(0) | word_at(size - 8);
  } else {
    for (std::size_t i = 0; i < size; ++i) seen |= static_cast<unsigned char>(data[i]);
  }
  return (seen & kHighBits) == 0;
}

// Well-formed UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
// Inline for ASCII: OTLP attribute keys and values are short and nearly always ASCII, and
// the call alone was most of their cost.
[[gnu::always_inline]] inline bool valid_utf8(std::string_view text) {
  return all_ascii(text) || valid_utf8_from(text, 0);
}

}  // namespace covet::text
