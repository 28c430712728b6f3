#pragma once
// Hex digits as OTLP ids (JSON), percent-encoded grpc-message text and JSON \u escapes
// write them.

namespace covet::text {

// The value of one hex digit, either case; -1 for anything else.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace covet::text
