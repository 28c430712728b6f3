#pragma once
// The validator's shortcuts (traces.cpp): a span or an attribute in the shape SDKs send
// (one-byte tags, the fields the schema knows, short lengths) is checked in one flat pass
// over its bytes, without a field reader per level and without keeping a path for an error
// message. Each says only "valid" or "not sure": false for every error and for every shape
// it does not know, and the general walk, which says where an error is, then decides. The
// fuzz target holds the validator with shortcuts and without to the same answers.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace covet::otlp::detail {

// Whether every byte is zero; ids are 8 or 16 bytes, so a word at a time.
inline bool all_zero(std::string_view bytes) {
  std::size_t i = 0;
  for (; bytes.size() - i >= 8; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + i, 8);
    if (word != 0) return false;
  }
  return std::all_of(bytes.begin() + static_cast<std::ptrdiff_t>(i), bytes.end(),
                     [](char c) { return c == 0; });
}

// A KeyValue of a key and one string, bool, int or double value (or none), with one-byte
// tags and lengths below 16384: true only when the general walk would accept it.
bool plain_key_value(std::string_view key_value);

// A Span whose fields are the schema's (1 to 16), with one-byte varints and lengths below
// 16384, attributes plain_key_value accepts, and events, links and status of the same kind:
// true only when the general walk would accept it.
bool plain_span(std::string_view span);

}  // namespace covet::otlp::detail
