#include "exporters/otlp/json.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "exporters/hex.h"
#include "exporters/otlp/json_reader.h"
#include "exporters/otlp/wire.h"

namespace covet::otlp {
namespace {

using text::hex_value;

// Writes the strings of JSON answers (quoted()). Requests are read by json::Reader, in
// document order, so the protobuf fields come out in the order the sender wrote them (a
// JSON request written in field-number order encodes as protoc does).
using Json = nlohmann::json;

// JSON nesting past this is refused by the reader, which bounds recursion over it. An
// AnyValue level takes three JSON levels ({"arrayValue":{"values":[...]}}), so this lets the
// AnyValue limit below, with its clearer message, apply first.
constexpr int kMaxJsonDepth = 256;
// AnyValue levels, as in the protobuf validation.
constexpr std::size_t kMaxValueDepth = 64;

bool is(std::string_view key, std::string_view camel, std::string_view snake) {
  return key == camel || key == snake;
}

bool decode_hex(std::string_view text, std::string& out) {
  if (text.size() % 2 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = hex_value(text[i]);
    const int low = hex_value(text[i + 1]);
    if (high < 0 || low < 0) return false;
    out.push_back(static_cast<char>(high * 16 + low));
  }
  return true;
}

int base64_digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // standard and URL-safe alphabets, as proto3 JSON
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Base64 with or without padding.
bool decode_base64(std::string_view text, std::string& out) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return false;
  out.clear();
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int digit = base64_digit(c);
    if (digit < 0) return false;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return true;
}

template <typename Integer>
bool parse_decimal(std::string_view text, Integer& value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

// An integer field's value: a JSON number or a decimal string, within [minimum, maximum].
// A number past 64 bits is read as a double, as a JSON parser would; a number with a
// fraction or exponent is taken when it is integral.
bool integer_number(const json::Number& number, std::int64_t minimum, std::uint64_t maximum,
                    bool& negative, std::uint64_t& magnitude) {
  negative = false;
  if (number.integral) {
    if (number.text[0] != '-') {
      if (parse_decimal(number.text, magnitude)) return magnitude <= maximum;
    } else {
      std::int64_t value = 0;
      if (parse_decimal(number.text, value)) {
        if (value < minimum) return false;
        negative = value < 0;
        magnitude = negative ? 0 - static_cast<std::uint64_t>(value) : value;
        return negative || magnitude <= maximum;
      }
    }
  }
  double value = 0;
  if (!parse_decimal(number.text, value)) return false;  // out of a double's range
  if (!std::isfinite(value) || std::trunc(value) != value) return false;
  // 2^64 and -2^63 are exact doubles, so these comparisons are exact.
  if (value >= 18446744073709551616.0 || value < static_cast<double>(minimum)) return false;
  negative = value < 0;
  magnitude = negative ? 0 - static_cast<std::uint64_t>(static_cast<std::int64_t>(value))
                       : static_cast<std::uint64_t>(value);
  return negative || magnitude <= maximum;
}

bool decimal_string(std::string_view text, std::int64_t minimum, std::uint64_t maximum,
                    bool& negative, std::uint64_t& magnitude) {
  negative = false;
  if (!text.empty() && text[0] == '-') {
    std::int64_t number = 0;
    if (!parse_decimal(text, number) || number < minimum) return false;
    negative = number < 0;
    magnitude = 0 - static_cast<std::uint64_t>(number);
    return true;
  }
  return parse_decimal(text, magnitude) && magnitude <= maximum;
}

// Reads the request from the document front to back, writing the protobuf as it goes: no
// tree of the document is built. (Parsing it into an nlohmann::json tree first and walking
// that took 4.4 times as long: 9.1 ms against 2.0 ms for 512 spans, bench/otlp_codec.) Each
// function below reads one value of the document, the one the reader is at.
class Converter {
 public:
  explicit Converter(std::string_view document) : reader_(document, kMaxJsonDepth) {}

  bool request(std::string& out) {
    const bool ok = object([&](std::string_view key) {
      if (!is(key, "resourceSpans", "resource_spans")) return skip();
      return repeated("resourceSpans", out, 1,
                      [&](std::string& bytes) { return resource_spans(bytes); });
    });
    return ok && reader_.at_end();
  }

  // The error: the reader's when the JSON is malformed, else where the schema was not met.
  const std::string& error() const { return reader_.failed() ? reader_.error() : error_; }

 private:
  struct Segment {
    std::string_view name;
    std::size_t index;
  };
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

  bool fail(std::string_view reason) {
    std::string where;
    for (const Segment& segment : path_) {
      if (!where.empty()) where += '.';
      where += segment.name;
      if (segment.index != kNoIndex) where += fmt::format("[{}]", segment.index);
    }
    error_ = where.empty() ? std::string(reason) : fmt::format("{}: {}", where, reason);
    return false;
  }

  bool fail_at(std::string_view name, std::string_view reason) {
    path_.push_back({name, kNoIndex});
    return fail(reason);
  }

  bool skip() { return reader_.skip_value(); }

  // Calls on_field(key) for each member of an object, with the reader at the member's
  // value, which on_field reads or skips; null members are absent fields, as in proto3
  // JSON.
  template <typename OnField>
  bool object(OnField&& on_field) {
    if (reader_.peek() != json::Kind::object) return fail("expected an object");
    if (!reader_.begin_object()) return false;
    std::string_view key;
    bool done = false;
    while (reader_.next_member(key, done) && !done) {
      if (reader_.peek() == json::Kind::null) {
        if (!reader_.read_null()) return false;
        continue;
      }
      if (!on_field(key)) return false;
    }
    return !reader_.failed();
  }

  // A repeated message field: each element encoded by encode and appended as field number.
  template <typename Encode>
  bool repeated(std::string_view name, std::string& out, std::uint32_t number, Encode&& encode) {
    if (reader_.peek() != json::Kind::array) return fail_at(name, "expected an array");
    if (!reader_.begin_array()) return false;
    bool done = false;
    for (std::size_t i = 0; reader_.next_element(done) && !done; ++i) {
      path_.push_back({name, i});
      const std::size_t length_at = begin_message(out, number);
      if (!encode(out)) return false;
      end_message(out, length_at);
      path_.pop_back();
    }
    return !reader_.failed();
  }

  template <typename Encode>
  bool message(std::string_view name, std::string& out, std::uint32_t number, Encode&& encode) {
    path_.push_back({name, kNoIndex});
    const std::size_t length_at = begin_message(out, number);
    if (!encode(out)) return false;
    end_message(out, length_at);
    path_.pop_back();
    return true;
  }

  // A message field is encoded in place: its tag, room for the longest length, then its
  // fields; end_message writes the length and moves the fields back over the room it did
  // not need. Encoding each message into a buffer of its own and copying it into its parent
  // took an allocation per message and a copy per level.
  static std::size_t begin_message(std::string& out, std::uint32_t number) {
    wire::put_tag(out, number, wire::WireType::length_delimited);
    const std::size_t length_at = out.size();
    out.append(kLengthRoom, '\0');
    return length_at;
  }

  static void end_message(std::string& out, std::size_t length_at) {
    const std::size_t content = out.size() - length_at - kLengthRoom;
    std::string length;
    wire::put_varint(length, content);
    out.replace(length_at, kLengthRoom, length);
  }

  static constexpr std::size_t kLengthRoom = 10;  // the longest varint

  // A string value, or fail_at(name, why) when the value is of another kind.
  bool text(std::string_view name, std::string_view why, std::string_view& value) {
    if (reader_.peek() != json::Kind::string) return fail_at(name, why);
    return reader_.read_string(value);
  }

  bool string(std::string_view name, std::string& out, std::uint32_t number) {
    std::string_view value;
    if (!text(name, "expected a string", value)) return false;
    wire::put_bytes_field(out, number, value);
    return true;
  }

  bool boolean(std::string_view name, std::string& out, std::uint32_t number) {
    if (reader_.peek() != json::Kind::boolean) return fail_at(name, "expected true or false");
    bool value = false;
    if (!reader_.read_boolean(value)) return false;
    wire::put_varint_field(out, number, value ? 1 : 0);
    return true;
  }

  // An integer value, number or decimal string, within [minimum, maximum]; fail_at(name,
  // why) otherwise.
  bool integer(std::string_view name, std::string_view why, std::int64_t minimum,
               std::uint64_t maximum, bool& negative, std::uint64_t& magnitude) {
    const json::Kind kind = reader_.peek();
    if (kind == json::Kind::number) {
      json::Number number;
      if (!reader_.read_number(number)) return false;
      return integer_number(number, minimum, maximum, negative, magnitude) || fail_at(name, why);
    }
    if (kind == json::Kind::string) {
      std::string_view value;
      if (!reader_.read_string(value)) return false;
      return decimal_string(value, minimum, maximum, negative, magnitude) || fail_at(name, why);
    }
    return fail_at(name, why);
  }

  bool uint32(std::string_view name, std::string& out, std::uint32_t number) {
    bool negative = false;
    std::uint64_t value = 0;
    if (!integer(name, "expected an unsigned 32-bit integer", 0,
                 std::numeric_limits<std::uint32_t>::max(), negative, value)) {
      return false;
    }
    wire::put_varint_field(out, number, value);
    return true;
  }

  bool fixed32(std::string_view name, std::string& out, std::uint32_t number) {
    bool negative = false;
    std::uint64_t value = 0;
    if (!integer(name, "expected an unsigned 32-bit integer", 0,
                 std::numeric_limits<std::uint32_t>::max(), negative, value)) {
      return false;
    }
    wire::put_fixed32_field(out, number, static_cast<std::uint32_t>(value));
    return true;
  }

  bool fixed64(std::string_view name, std::string& out, std::uint32_t number) {
    bool negative = false;
    std::uint64_t value = 0;
    if (!integer(name, "expected an unsigned 64-bit integer (a number or a decimal string)", 0,
                 std::numeric_limits<std::uint64_t>::max(), negative, value)) {
      return false;
    }
    wire::put_fixed64_field(out, number, value);
    return true;
  }

  bool int64(std::string_view name, std::string& out, std::uint32_t number) {
    bool negative = false;
    std::uint64_t magnitude = 0;
    if (!integer(name, "expected a signed 64-bit integer (a number or a decimal string)",
                 std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
                 negative, magnitude)) {
      return false;
    }
    wire::put_varint_field(out, number, negative ? 0 - magnitude : magnitude);
    return true;
  }

  bool floating(std::string_view name, std::string& out, std::uint32_t number) {
    double value = 0;
    const json::Kind kind = reader_.peek();
    if (kind == json::Kind::number) {
      json::Number parsed;
      if (!reader_.read_number(parsed)) return false;
      // Past a double's range, above or below (1e400, 1e-400): no encoder of doubles
      // writes such a number. The smallest subnormals still read.
      if (!parse_decimal(parsed.text, value)) return fail_at(name, "expected a number");
    } else if (kind == json::Kind::string) {
      std::string_view text;
      if (!reader_.read_string(text)) return false;
      if (text == "NaN") {
        value = std::numeric_limits<double>::quiet_NaN();
      } else if (text == "Infinity") {
        value = std::numeric_limits<double>::infinity();
      } else if (text == "-Infinity") {
        value = -std::numeric_limits<double>::infinity();
      } else if (!parse_decimal(text, value) || !std::isfinite(value)) {
        return fail_at(name, "expected a number");
      }
    } else {
      return fail_at(name, "expected a number");
    }
    wire::put_double_field(out, number, value);
    return true;
  }

  // An enum: its integer (what OTLP senders must send) or its name.
  bool enumeration(std::string_view name, std::string& out, std::uint32_t number,
                   std::initializer_list<std::string_view> names) {
    if (reader_.peek() == json::Kind::string) {
      std::string_view text;
      if (!reader_.read_string(text)) return false;
      const auto found = std::find(names.begin(), names.end(), text);
      if (found == names.end()) return fail_at(name, fmt::format("unknown value \"{}\"", text));
      wire::put_varint_field(out, number, static_cast<std::uint64_t>(found - names.begin()));
      return true;
    }
    if (reader_.peek() != json::Kind::number) return fail_at(name, "expected an integer");
    json::Number parsed;
    if (!reader_.read_number(parsed)) return false;
    bool negative = false;
    std::uint64_t magnitude = 0;
    if (!integer_number(parsed, std::numeric_limits<std::int32_t>::min(),
                        std::numeric_limits<std::int32_t>::max(), negative, magnitude)) {
      return fail_at(name, "expected an integer");
    }
    // Negative int32 values are sign-extended to 64 bits, as protobuf encodes them.
    wire::put_varint_field(out, number, negative ? 0 - magnitude : magnitude);
    return true;
  }

  bool id(std::string_view name, std::string& out, std::uint32_t number, std::size_t size,
          bool may_be_empty, bool zero_allowed = false) {
    const auto hint = [&] {
      return fail_at(name, fmt::format("expected {} hex digits", size * 2));
    };
    if (reader_.peek() != json::Kind::string) return hint();
    std::string_view text;
    if (!reader_.read_string(text)) return false;
    if (may_be_empty && text.empty()) return true;
    if (text.size() != size * 2 || !decode_hex(text, id_bytes_)) return hint();
    if (!zero_allowed &&
        std::all_of(id_bytes_.begin(), id_bytes_.end(), [](char c) { return c == 0; })) {
      return fail_at(name, "all zero, which is an invalid id");
    }
    wire::put_bytes_field(out, number, id_bytes_);
    return true;
  }

  bool bytes(std::string_view name, std::string& out, std::uint32_t number) {
    std::string_view text;
    if (!this->text(name, "expected base64", text)) return false;
    std::string decoded;
    if (!decode_base64(text, decoded)) return fail_at(name, "expected base64");
    wire::put_bytes_field(out, number, decoded);
    return true;
  }

  bool attributes(std::string& out, std::uint32_t number, std::size_t depth) {
    return repeated("attributes", out, number,
                    [&](std::string& bytes) { return key_value(bytes, depth); });
  }

  bool resource_spans(std::string& out) {
    return object([&](std::string_view key) {
      if (key == "resource") {
        return message("resource", out, 1, [&](std::string& bytes) { return resource(bytes); });
      }
      if (is(key, "scopeSpans", "scope_spans")) {
        return repeated("scopeSpans", out, 2,
                        [&](std::string& bytes) { return scope_spans(bytes); });
      }
      if (is(key, "schemaUrl", "schema_url")) return string("schemaUrl", out, 3);
      return skip();
    });
  }

  bool resource(std::string& out) {
    return object([&](std::string_view key) {
      if (key == "attributes") return attributes(out, 1, 0);
      if (is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return uint32("droppedAttributesCount", out, 2);
      }
      return skip();
    });
  }

  bool key_value(std::string& out, std::size_t depth) {
    return object([&](std::string_view key) {
      if (key == "key") return string("key", out, 1);
      if (key == "value") {
        return message("value", out, 2,
                       [&](std::string& bytes) { return any_value(bytes, depth + 1); });
      }
      return skip();
    });
  }

  // The "values" of an ArrayValue or a KeyValueList, each encoded by encode.
  template <typename Encode>
  bool values(std::string& out, Encode&& encode) {
    return object([&](std::string_view key) {
      if (key != "values") return skip();
      return repeated("values", out, 1, encode);
    });
  }

  bool any_value(std::string& out, std::size_t depth) {
    if (depth > kMaxValueDepth) return fail("values nested too deep");
    return object([&](std::string_view key) {
      if (is(key, "stringValue", "string_value")) return string("stringValue", out, 1);
      if (is(key, "boolValue", "bool_value")) return boolean("boolValue", out, 2);
      if (is(key, "intValue", "int_value")) return int64("intValue", out, 3);
      if (is(key, "doubleValue", "double_value")) return floating("doubleValue", out, 4);
      if (is(key, "arrayValue", "array_value")) {
        return message("arrayValue", out, 5, [&](std::string& bytes) {
          return values(bytes, [&](std::string& element) { return any_value(element, depth + 1); });
        });
      }
      if (is(key, "kvlistValue", "kvlist_value")) {
        return message("kvlistValue", out, 6, [&](std::string& bytes) {
          return values(bytes, [&](std::string& element) { return key_value(element, depth + 1); });
        });
      }
      if (is(key, "bytesValue", "bytes_value")) return bytes("bytesValue", out, 7);
      return skip();
    });
  }

  bool scope_spans(std::string& out) {
    return object([&](std::string_view key) {
      if (key == "scope") {
        return message("scope", out, 1, [&](std::string& bytes) { return scope(bytes); });
      }
      if (key == "spans") {
        return repeated("spans", out, 2, [&](std::string& bytes) { return span(bytes); });
      }
      if (is(key, "schemaUrl", "schema_url")) return string("schemaUrl", out, 3);
      return skip();
    });
  }

  bool scope(std::string& out) {
    return object([&](std::string_view key) {
      if (key == "name") return string("name", out, 1);
      if (key == "version") return string("version", out, 2);
      if (key == "attributes") return attributes(out, 3, 0);
      if (is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return uint32("droppedAttributesCount", out, 4);
      }
      return skip();
    });
  }

  // Spans and links must carry both ids (a null one is absent, as object() skips it).
  bool require_ids(bool has_trace_id, bool has_span_id) {
    if (!has_trace_id) return fail_at("traceId", "missing; expected 32 hex digits");
    if (!has_span_id) return fail_at("spanId", "missing; expected 16 hex digits");
    return true;
  }

  bool span(std::string& out) {
    bool has_trace_id = false;
    bool has_span_id = false;
    const bool ok = object([&](std::string_view key) {
      if (is(key, "traceId", "trace_id")) {
        has_trace_id = true;
        return id("traceId", out, 1, 16, false);
      }
      if (is(key, "spanId", "span_id")) {
        has_span_id = true;
        return id("spanId", out, 2, 8, false);
      }
      if (is(key, "traceState", "trace_state")) return string("traceState", out, 3);
      if (is(key, "parentSpanId", "parent_span_id")) return id("parentSpanId", out, 4, 8, true);
      if (key == "name") return string("name", out, 5);
      if (key == "kind") {
        return enumeration("kind", out, 6,
                           {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                            "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"});
      }
      if (is(key, "startTimeUnixNano", "start_time_unix_nano")) {
        return fixed64("startTimeUnixNano", out, 7);
      }
      if (is(key, "endTimeUnixNano", "end_time_unix_nano")) {
        return fixed64("endTimeUnixNano", out, 8);
      }
      if (key == "attributes") return attributes(out, 9, 0);
      if (is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return uint32("droppedAttributesCount", out, 10);
      }
      if (key == "events") {
        return repeated("events", out, 11, [&](std::string& bytes) { return event(bytes); });
      }
      if (is(key, "droppedEventsCount", "dropped_events_count")) {
        return uint32("droppedEventsCount", out, 12);
      }
      if (key == "links") {
        return repeated("links", out, 13, [&](std::string& bytes) { return link(bytes); });
      }
      if (is(key, "droppedLinksCount", "dropped_links_count")) {
        return uint32("droppedLinksCount", out, 14);
      }
      if (key == "status") {
        return message("status", out, 15, [&](std::string& bytes) { return status(bytes); });
      }
      if (key == "flags") return fixed32("flags", out, 16);
      return skip();
    });
    return ok && require_ids(has_trace_id, has_span_id);
  }

  bool event(std::string& out) {
    return object([&](std::string_view key) {
      if (is(key, "timeUnixNano", "time_unix_nano")) return fixed64("timeUnixNano", out, 1);
      if (key == "name") return string("name", out, 2);
      if (key == "attributes") return attributes(out, 3, 0);
      if (is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return uint32("droppedAttributesCount", out, 4);
      }
      return skip();
    });
  }

  // Links may point at an all-zero (invalid) context, as in validate_export_request.
  bool link(std::string& out) {
    bool has_trace_id = false;
    bool has_span_id = false;
    const bool ok = object([&](std::string_view key) {
      if (is(key, "traceId", "trace_id")) {
        has_trace_id = true;
        return id("traceId", out, 1, 16, false, true);
      }
      if (is(key, "spanId", "span_id")) {
        has_span_id = true;
        return id("spanId", out, 2, 8, false, true);
      }
      if (is(key, "traceState", "trace_state")) return string("traceState", out, 3);
      if (key == "attributes") return attributes(out, 4, 0);
      if (is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return uint32("droppedAttributesCount", out, 5);
      }
      if (key == "flags") return fixed32("flags", out, 6);
      return skip();
    });
    return ok && require_ids(has_trace_id, has_span_id);
  }

  bool status(std::string& out) {
    return object([&](std::string_view key) {
      if (key == "message") return string("message", out, 2);
      if (key == "code") {
        return enumeration("code", out, 3,
                           {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"});
      }
      return skip();
    });
  }

  json::Reader reader_;
  std::vector<Segment> path_;
  std::string error_;
  std::string id_bytes_;  // a decoded id, reused from id to id
};

std::string quoted(std::string_view text) {
  // replace: a message that is not UTF-8 is still answered, with U+FFFD in its place.
  return Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

JsonConversion json_to_protobuf(std::string_view json) {
  JsonConversion result;
  // RFC 8259 §8.1: senders must not add a byte order mark, and readers may ignore one.
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  if (json.starts_with(kByteOrderMark)) json.remove_prefix(kByteOrderMark.size());
  Converter converter(json);
  result.ok = converter.request(result.protobuf);
  if (result.ok) return result;
  result.protobuf.clear();
  // Malformed JSON is reported as such wherever it is, even past a value of the wrong type
  // (the conversion stops at the first problem it meets): the sender's JSON encoder is then
  // what needs fixing, not a field.
  json::Reader syntax(json, kMaxJsonDepth);
  if (!syntax.skip_value() || !syntax.at_end()) {
    result.error = syntax.error();
  } else {
    result.error = converter.error();
  }
  return result;
}

std::optional<std::string> response_to_json(std::string_view protobuf) {
  wire::Reader reader(protobuf);
  wire::Field field;
  std::optional<std::int64_t> rejected;
  std::optional<std::string_view> message;
  bool partial_success = false;
  while (reader.next(field)) {
    if (field.number != 1 || field.type != wire::WireType::length_delimited) continue;
    partial_success = true;
    wire::Reader inner(field.bytes);
    wire::Field part;
    while (inner.next(part)) {
      if (part.number == 1 && part.type == wire::WireType::varint) {
        rejected = static_cast<std::int64_t>(part.value);
      } else if (part.number == 2 && part.type == wire::WireType::length_delimited) {
        message = part.bytes;
      }
    }
    if (!inner.ok()) return std::nullopt;
  }
  if (!reader.ok()) return std::nullopt;
  if (!partial_success) return std::string("{}");
  std::string out = "{\"partialSuccess\":{";
  if (rejected && *rejected != 0) out += fmt::format("\"rejectedSpans\":\"{}\"", *rejected);
  if (message && !message->empty()) {
    if (out.back() != '{') out += ',';
    out += "\"errorMessage\":" + quoted(*message);
  }
  out += "}}";
  return out;
}

std::optional<std::string> status_to_json(std::string_view protobuf) {
  wire::Reader reader(protobuf);
  wire::Field field;
  std::int32_t code = 0;
  std::string_view message;
  while (reader.next(field)) {
    if (field.number == 1 && field.type == wire::WireType::varint) {
      code = static_cast<std::int32_t>(field.value);  // int32: the low 32 bits
    } else if (field.number == 2 && field.type == wire::WireType::length_delimited) {
      message = field.bytes;
    }
  }
  if (!reader.ok()) return std::nullopt;
  std::string out = "{";
  if (code != 0) out += fmt::format("\"code\":{}", code);
  if (!message.empty()) {
    if (out.size() > 1) out += ',';
    out += "\"message\":" + quoted(message);
  }
  out += '}';
  return out;
}

}  // namespace covet::otlp
