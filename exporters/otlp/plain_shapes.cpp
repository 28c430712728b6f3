#include "exporters/otlp/plain_shapes.h"

#include "exporters/utf8.h"

namespace covet::otlp::detail {
namespace {

// The helpers are always inlined: GCC left them out of line, and the calls alone were a
// third of the time a span took (perf, bench/otlp_codec).

// A part of `bytes` the caller has checked lies within it: substr would check again, and
// throw, out of line.
[[gnu::always_inline]] inline std::string_view within(std::string_view bytes, std::size_t from,
                                                      std::size_t size) {
  return {bytes.data() + from, size};
}

[[gnu::always_inline]] inline unsigned byte_at(std::string_view bytes, std::size_t i) {
  return static_cast<unsigned char>(bytes[i]);
}

// Each reads what follows a tag at `position` and moves past it; false when the field is
// truncated or longer than this pass takes. `position` never passes the end.

// A length of one or two bytes (below 16384), and the bytes it covers.
[[gnu::always_inline]] inline bool take(std::string_view message, std::size_t& position,
                                        std::string_view& bytes) {
  std::size_t at = position;
  if (at >= message.size()) return false;
  std::size_t length = byte_at(message, at++);
  if (length >= 0x80) {
    if (at >= message.size() || byte_at(message, at) >= 0x80) return false;
    length = (length & 0x7F) | (static_cast<std::size_t>(byte_at(message, at++)) << 7);
  }
  if (length > message.size() - at) return false;
  bytes = within(message, at, length);
  position = at + length;
  return true;
}

// A varint of one byte: kinds, codes and counts are small.
[[gnu::always_inline]] inline bool skip_small_varint(std::string_view message,
                                                     std::size_t& position) {
  if (position >= message.size() || byte_at(message, position) >= 0x80) return false;
  ++position;
  return true;
}

[[gnu::always_inline]] inline bool skip_fixed(std::string_view message, std::size_t& position,
                                              std::size_t size) {
  if (message.size() - position < size) return false;
  position += size;
  return true;
}

// The AnyValue of a KeyValue: one string, bool, int or double (or nothing). `ascii` says
// the whole KeyValue is ASCII, and so a string value valid UTF-8.
[[gnu::always_inline]] inline bool any_value_shape(std::string_view value, bool ascii) {
  if (value.empty()) return true;  // an AnyValue with nothing set
  const auto value_at = [value](std::size_t i) { return byte_at(value, i); };
  switch (value_at(0)) {
    case 0x0A: {  // string_value
      std::size_t end = 1;
      std::string_view string;
      return take(value, end, string) && end == value.size() && (ascii || text::valid_utf8(string));
    }
    case 0x10:    // bool_value
    case 0x18: {  // int_value: a varint of at most 9 bytes (always in range) ending the value
      if (value.size() < 2 || value.size() > 10) return false;
      for (std::size_t i = 1; i + 1 < value.size(); ++i) {
        if (value_at(i) < 0x80) return false;
      }
      return value_at(value.size() - 1) < 0x80;
    }
    case 0x21:  // double_value
      return value.size() == 9;
    default:
      return false;
  }
}

// KeyValue: key (1), then value (2), and nothing after.
[[gnu::always_inline]] inline bool key_value_shape(std::string_view bytes) {
  std::string_view key;
  std::string_view value;
  if (bytes.size() < 128) {
    // Every length is one byte here: read without take()'s second-byte checks, which cost
    // a tenth of the time a span took (bench/otlp_codec).
    const auto at = [bytes](std::size_t i) { return byte_at(bytes, i); };
    if (bytes.size() < 4 || at(0) != 0x0A || at(1) >= 0x80) return false;
    const std::size_t key_end = 2 + at(1);
    if (key_end + 2 > bytes.size() || at(key_end) != 0x12 ||
        key_end + 2 + at(key_end + 1) != bytes.size()) {
      return false;
    }
    key = within(bytes, 2, key_end - 2);
    value = within(bytes, key_end + 2, bytes.size() - key_end - 2);
  } else {
    std::size_t position = 1;
    if (byte_at(bytes, 0) != 0x0A || !take(bytes, position, key) || position >= bytes.size() ||
        byte_at(bytes, position++) != 0x12 || !take(bytes, position, value) ||
        position != bytes.size()) {
      return false;
    }
  }
  // Tags and one-byte lengths are ASCII too: when every byte is, key and string value
  // are valid UTF-8 without looking at each on its own.
  const bool ascii = text::all_ascii(bytes);
  return (ascii || text::valid_utf8(key)) && any_value_shape(value, ascii);
}

[[gnu::always_inline]] inline bool take_string(std::string_view message, std::size_t& position) {
  std::string_view text;
  return take(message, position, text) && text::valid_utf8(text);
}

[[gnu::always_inline]] inline bool take_attribute(std::string_view message, std::size_t& position) {
  std::string_view key_value;
  return take(message, position, key_value) && key_value_shape(key_value);
}

// An id of exactly `size` bytes; all zero only where `zero_allowed`.
[[gnu::always_inline]] inline bool take_id(std::string_view message, std::size_t& position,
                                           std::size_t size, bool zero_allowed) {
  std::string_view id;
  return take(message, position, id) && id.size() == size && (zero_allowed || !all_zero(id));
}

// Span.Event: time_unix_nano (1), name (2), attributes (3), dropped_attributes_count (4).
bool plain_event(std::string_view event) {
  std::size_t position = 0;
  while (position < event.size()) {
    bool ok = false;
    switch (byte_at(event, position++)) {
      case 0x09:
        ok = skip_fixed(event, position, 8);
        break;
      case 0x12:
        ok = take_string(event, position);
        break;
      case 0x1A:
        ok = take_attribute(event, position);
        break;
      case 0x20:
        ok = skip_small_varint(event, position);
        break;
      default:
        break;
    }
    if (!ok) return false;
  }
  return true;
}

// Span.Link: trace_id (1) and span_id (2), both required and all zero allowed, trace_state
// (3), attributes (4), dropped_attributes_count (5), flags (6).
bool plain_link(std::string_view link) {
  std::size_t position = 0;
  bool has_trace_id = false;
  bool has_span_id = false;
  while (position < link.size()) {
    bool ok = false;
    switch (byte_at(link, position++)) {
      case 0x0A:
        ok = has_trace_id = take_id(link, position, 16, true);
        break;
      case 0x12:
        ok = has_span_id = take_id(link, position, 8, true);
        break;
      case 0x1A:
        ok = take_string(link, position);
        break;
      case 0x22:
        ok = take_attribute(link, position);
        break;
      case 0x28:
        ok = skip_small_varint(link, position);
        break;
      case 0x35:
        ok = skip_fixed(link, position, 4);
        break;
      default:
        break;
    }
    if (!ok) return false;
  }
  return has_trace_id && has_span_id;
}

// Status: message (2), code (3).
bool plain_status(std::string_view status) {
  std::size_t position = 0;
  while (position < status.size()) {
    bool ok = false;
    switch (byte_at(status, position++)) {
      case 0x12:
        ok = take_string(status, position);
        break;
      case 0x18:
        ok = skip_small_varint(status, position);
        break;
      default:
        break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool plain_key_value(std::string_view bytes) { return key_value_shape(bytes); }

bool plain_span(std::string_view span) {
  std::size_t position = 0;
  bool has_trace_id = false;
  bool has_span_id = false;
  while (position < span.size()) {
    bool ok = false;
    switch (byte_at(span, position++)) {
      case 0x0A:  // trace_id
        ok = has_trace_id = take_id(span, position, 16, false);
        break;
      case 0x12:  // span_id
        ok = has_span_id = take_id(span, position, 8, false);
        break;
      case 0x1A:  // trace_state
      case 0x2A:  // name
        ok = take_string(span, position);
        break;
      case 0x22: {  // parent_span_id: none (a root span) or a valid one
        std::string_view parent;
        ok = take(span, position, parent) &&
             (parent.empty() || (parent.size() == 8 && !all_zero(parent)));
        break;
      }
      case 0x30:  // kind
      case 0x50:  // dropped_attributes_count
      case 0x60:  // dropped_events_count
      case 0x70:  // dropped_links_count
        ok = skip_small_varint(span, position);
        break;
      case 0x39:  // start_time_unix_nano
      case 0x41:  // end_time_unix_nano
        ok = skip_fixed(span, position, 8);
        break;
      case 0x4A:  // attributes
        ok = take_attribute(span, position);
        break;
      case 0x5A: {  // events
        std::string_view event;
        ok = take(span, position, event) && plain_event(event);
        break;
      }
      case 0x6A: {  // links
        std::string_view link;
        ok = take(span, position, link) && plain_link(link);
        break;
      }
      case 0x7A: {  // status
        std::string_view status;
        ok = take(span, position, status) && plain_status(status);
        break;
      }
      case 0x85:  // flags: field 16, a two-byte tag (0x85 0x01), fixed32
        ok = position < span.size() && byte_at(span, position) == 0x01 &&
             skip_fixed(span, ++position, 4);
        break;
      default:
        break;
    }
    if (!ok) return false;
  }
  return has_trace_id && has_span_id;
}

}  // namespace covet::otlp::detail
