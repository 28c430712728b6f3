#include "exporters/otlp/json.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "exporters/otlp/wire.h"

namespace covet::otlp {
namespace {

// ordered_json keeps members in document order, so the protobuf fields come out in the order
// the sender wrote them (a JSON request written in field-number order encodes as protoc does).
using Json = nlohmann::ordered_json;

// JSON nesting past this is refused while parsing, before any tree is built from it. An
// AnyValue level takes three JSON levels ({"arrayValue":{"values":[...]}}), so this lets the
// AnyValue limit below, with its clearer message, apply first.
constexpr int kMaxJsonDepth = 256;
// AnyValue levels, as in the protobuf validation.
constexpr std::size_t kMaxValueDepth = 64;

// Whether arrays and objects nest deeper than `limit` anywhere in `json`, by one scan that
// skips strings. Done before parsing, so that no tree is built from such a document. (A
// parser callback did the same from inside the parser, at the cost of a call per token.) On
// malformed JSON the count may be off; the parser refuses it anyway.
bool nested_deeper_than(std::string_view json, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, which may be a quote
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

bool is(std::string_view key, std::string_view camel, std::string_view snake) {
  return key == camel || key == snake;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decode_hex(std::string_view text, std::string& out) {
  if (text.size() % 2 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = hex_digit(text[i]);
    const int low = hex_digit(text[i + 1]);
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
// Numbers past 2^53 arrive exactly (the parser keeps integers as 64-bit integers); a
// number with a fraction or exponent is taken when it is integral.
bool json_integer(const Json& value, std::int64_t minimum, std::uint64_t maximum, bool& negative,
                  std::uint64_t& magnitude) {
  negative = false;
  if (value.is_number_unsigned()) {
    magnitude = value.get<std::uint64_t>();
    return magnitude <= maximum;
  }
  if (value.is_number_integer()) {
    const auto number = value.get<std::int64_t>();
    if (number < minimum) return false;
    negative = number < 0;
    magnitude = negative ? 0 - static_cast<std::uint64_t>(number) : number;
    return negative || magnitude <= maximum;
  }
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (!std::isfinite(number) || std::trunc(number) != number) return false;
    // 2^64 and -2^63 are exact doubles, so these comparisons are exact.
    if (number >= 18446744073709551616.0 || number < static_cast<double>(minimum)) return false;
    negative = number < 0;
    magnitude = negative ? 0 - static_cast<std::uint64_t>(static_cast<std::int64_t>(number))
                         : static_cast<std::uint64_t>(number);
    return negative || magnitude <= maximum;
  }
  if (value.is_string()) {
    std::string_view text = value.get_ref<const std::string&>();
    if (!text.empty() && text[0] == '-') {
      std::int64_t number = 0;
      if (!parse_decimal(text, number) || number < minimum) return false;
      negative = number < 0;
      magnitude = 0 - static_cast<std::uint64_t>(number);
      return true;
    }
    return parse_decimal(text, magnitude) && magnitude <= maximum;
  }
  return false;
}

class Converter {
 public:
  bool request(const Json& json, std::string& out) {
    return object(json, [&](std::string_view key, const Json& value) {
      if (!is(key, "resourceSpans", "resource_spans")) return true;
      return repeated(value, "resourceSpans", out, 1, [&](const Json& item, std::string& bytes) {
        return resource_spans(item, bytes);
      });
    });
  }

  const std::string& error() const { return error_; }

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

 private:
  struct Segment {
    std::string_view name;
    std::size_t index;
  };
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

  // Calls on_field(key, value) for each member of an object; null members are absent
  // fields, as in proto3 JSON.
  template <typename OnField>
  bool object(const Json& json, OnField&& on_field) {
    if (!json.is_object()) return fail("expected an object");
    for (const auto& [key, value] : json.items()) {
      if (value.is_null()) continue;
      if (!on_field(key, value)) return false;
    }
    return true;
  }

  // A repeated message field: each element encoded by encode and appended as field number.
  template <typename Encode>
  bool repeated(const Json& json, std::string_view name, std::string& out, std::uint32_t number,
                Encode&& encode) {
    path_.push_back({name, kNoIndex});
    if (!json.is_array()) return fail("expected an array");
    path_.pop_back();
    for (std::size_t i = 0; i < json.size(); ++i) {
      path_.push_back({name, i});
      const std::size_t length_at = begin_message(out, number);
      if (!encode(json[i], out)) return false;
      end_message(out, length_at);
      path_.pop_back();
    }
    return true;
  }

  template <typename Encode>
  bool message(const Json& json, std::string_view name, std::string& out, std::uint32_t number,
               Encode&& encode) {
    path_.push_back({name, kNoIndex});
    const std::size_t length_at = begin_message(out, number);
    if (!encode(json, out)) return false;
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

  bool fail_at(std::string_view name, std::string_view reason) {
    path_.push_back({name, kNoIndex});
    return fail(reason);
  }

  bool string(const Json& json, std::string_view name, std::string& out, std::uint32_t number) {
    if (!json.is_string()) return fail_at(name, "expected a string");
    wire::put_bytes_field(out, number, json.get_ref<const std::string&>());
    return true;
  }

  bool boolean(const Json& json, std::string_view name, std::string& out, std::uint32_t number) {
    if (!json.is_boolean()) return fail_at(name, "expected true or false");
    wire::put_varint_field(out, number, json.get<bool>() ? 1 : 0);
    return true;
  }

  bool uint32(const Json& json, std::string_view name, std::string& out, std::uint32_t number) {
    bool negative = false;
    std::uint64_t value = 0;
    if (!json_integer(json, 0, std::numeric_limits<std::uint32_t>::max(), negative, value)) {
      return fail_at(name, "expected an unsigned 32-bit integer");
    }
    wire::put_varint_field(out, number, value);
    return true;
  }

  bool fixed32(const Json& json, std::string_view name, std::string& out, std::uint32_t number) {
    bool negative = false;
    std::uint64_t value = 0;
    if (!json_integer(json, 0, std::numeric_limits<std::uint32_t>::max(), negative, value)) {
      return fail_at(name, "expected an unsigned 32-bit integer");
    }
    wire::put_fixed32_field(out, number, static_cast<std::uint32_t>(value));
    return true;
  }

  bool fixed64(const Json& json, std::string_view name, std::string& out, std::uint32_t number) {
    bool negative = false;
    std::uint64_t value = 0;
    if (!json_integer(json, 0, std::numeric_limits<std::uint64_t>::max(), negative, value)) {
      return fail_at(name, "expected an unsigned 64-bit integer (a number or a decimal string)");
    }
    wire::put_fixed64_field(out, number, value);
    return true;
  }

  bool int64(const Json& json, std::string_view name, std::string& out, std::uint32_t number) {
    bool negative = false;
    std::uint64_t magnitude = 0;
    if (!json_integer(json, std::numeric_limits<std::int64_t>::min(),
                      std::numeric_limits<std::int64_t>::max(), negative, magnitude)) {
      return fail_at(name, "expected a signed 64-bit integer (a number or a decimal string)");
    }
    wire::put_varint_field(out, number, negative ? 0 - magnitude : magnitude);
    return true;
  }

  bool floating(const Json& json, std::string_view name, std::string& out, std::uint32_t number) {
    double value = 0;
    if (json.is_number()) {
      value = json.get<double>();
    } else if (json.is_string()) {
      const std::string& text = json.get_ref<const std::string&>();
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
  bool enumeration(const Json& json, std::string_view name, std::string& out, std::uint32_t number,
                   std::initializer_list<std::string_view> names) {
    if (json.is_string()) {
      const std::string& text = json.get_ref<const std::string&>();
      const auto found = std::find(names.begin(), names.end(), text);
      if (found == names.end()) return fail_at(name, fmt::format("unknown value \"{}\"", text));
      wire::put_varint_field(out, number, static_cast<std::uint64_t>(found - names.begin()));
      return true;
    }
    bool negative = false;
    std::uint64_t magnitude = 0;
    if (!json_integer(json, std::numeric_limits<std::int32_t>::min(),
                      std::numeric_limits<std::int32_t>::max(), negative, magnitude)) {
      return fail_at(name, "expected an integer");
    }
    // Negative int32 values are sign-extended to 64 bits, as protobuf encodes them.
    wire::put_varint_field(out, number, negative ? 0 - magnitude : magnitude);
    return true;
  }

  bool id(const Json& json, std::string_view name, std::string& out, std::uint32_t number,
          std::size_t size, bool may_be_empty, bool zero_allowed = false) {
    const auto hint = [&] {
      return fail_at(name, fmt::format("expected {} hex digits", size * 2));
    };
    if (!json.is_string()) return hint();
    const std::string& text = json.get_ref<const std::string&>();
    if (may_be_empty && text.empty()) return true;
    if (text.size() != size * 2 || !decode_hex(text, id_bytes_)) return hint();
    if (!zero_allowed &&
        std::all_of(id_bytes_.begin(), id_bytes_.end(), [](char c) { return c == 0; })) {
      return fail_at(name, "all zero, which is an invalid id");
    }
    wire::put_bytes_field(out, number, id_bytes_);
    return true;
  }

  bool bytes(const Json& json, std::string_view name, std::string& out, std::uint32_t number) {
    std::string decoded;
    if (!json.is_string() || !decode_base64(json.get_ref<const std::string&>(), decoded)) {
      return fail_at(name, "expected base64");
    }
    wire::put_bytes_field(out, number, decoded);
    return true;
  }

  bool attributes(const Json& json, std::string& out, std::uint32_t number, std::size_t depth) {
    return repeated(json, "attributes", out, number, [&](const Json& item, std::string& bytes) {
      return key_value(item, bytes, depth);
    });
  }

  bool resource_spans(const Json& json, std::string& out) {
    return object(json, [&](std::string_view key, const Json& value) {
      if (key == "resource") {
        return message(value, "resource", out, 1,
                       [&](const Json& item, std::string& bytes) { return resource(item, bytes); });
      }
      if (is(key, "scopeSpans", "scope_spans")) {
        return repeated(value, "scopeSpans", out, 2, [&](const Json& item, std::string& bytes) {
          return scope_spans(item, bytes);
        });
      }
      if (is(key, "schemaUrl", "schema_url")) return string(value, "schemaUrl", out, 3);
      return true;
    });
  }

  bool resource(const Json& json, std::string& out) {
    return object(json, [&](std::string_view key, const Json& value) {
      if (key == "attributes") return attributes(value, out, 1, 0);
      if (is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return uint32(value, "droppedAttributesCount", out, 2);
      }
      return true;
    });
  }

  bool key_value(const Json& json, std::string& out, std::size_t depth) {
    return object(json, [&](std::string_view key, const Json& value) {
      if (key == "key") return string(value, "key", out, 1);
      if (key == "value") {
        return message(value, "value", out, 2, [&](const Json& item, std::string& bytes) {
          return any_value(item, bytes, depth + 1);
        });
      }
      return true;
    });
  }

  bool any_value(const Json& json, std::string& out, std::size_t depth) {
    if (depth > kMaxValueDepth) return fail("values nested too deep");
    return object(json, [&](std::string_view key, const Json& value) {
      if (is(key, "stringValue", "string_value")) return string(value, "stringValue", out, 1);
      if (is(key, "boolValue", "bool_value")) return boolean(value, "boolValue", out, 2);
      if (is(key, "intValue", "int_value")) return int64(value, "intValue", out, 3);
      if (is(key, "doubleValue", "double_value")) return floating(value, "doubleValue", out, 4);
      if (is(key, "arrayValue", "array_value")) {
        return message(value, "arrayValue", out, 5, [&](const Json& item, std::string& bytes) {
          return object(item, [&](std::string_view inner, const Json& values) {
            if (inner != "values") return true;
            return repeated(values, "values", bytes, 1,
                            [&](const Json& element, std::string& element_bytes) {
                              return any_value(element, element_bytes, depth + 1);
                            });
          });
        });
      }
      if (is(key, "kvlistValue", "kvlist_value")) {
        return message(value, "kvlistValue", out, 6, [&](const Json& item, std::string& bytes) {
          return object(item, [&](std::string_view inner, const Json& values) {
            if (inner != "values") return true;
            return repeated(values, "values", bytes, 1,
                            [&](const Json& element, std::string& element_bytes) {
                              return key_value(element, element_bytes, depth + 1);
                            });
          });
        });
      }
      if (is(key, "bytesValue", "bytes_value")) return bytes(value, "bytesValue", out, 7);
      return true;
    });
  }

  bool scope_spans(const Json& json, std::string& out) {
    return object(json, [&](std::string_view key, const Json& value) {
      if (key == "scope") {
        return message(value, "scope", out, 1,
                       [&](const Json& item, std::string& bytes) { return scope(item, bytes); });
      }
      if (key == "spans") {
        return repeated(value, "spans", out, 2,
                        [&](const Json& item, std::string& bytes) { return span(item, bytes); });
      }
      if (is(key, "schemaUrl", "schema_url")) return string(value, "schemaUrl", out, 3);
      return true;
    });
  }

  bool scope(const Json& json, std::string& out) {
    return object(json, [&](std::string_view key, const Json& value) {
      if (key == "name") return string(value, "name", out, 1);
      if (key == "version") return string(value, "version", out, 2);
      if (key == "attributes") return attributes(value, out, 3, 0);
      if (is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return uint32(value, "droppedAttributesCount", out, 4);
      }
      return true;
    });
  }

  // Spans and links must carry both ids (null members count as absent, as object() skips
  // them).
  bool require_ids(bool has_trace_id, bool has_span_id) {
    if (!has_trace_id) return fail_at("traceId", "missing; expected 32 hex digits");
    if (!has_span_id) return fail_at("spanId", "missing; expected 16 hex digits");
    return true;
  }

  bool span(const Json& json, std::string& out) {
    bool has_trace_id = false;
    bool has_span_id = false;
    const bool ok = object(json, [&](std::string_view key, const Json& value) {
      if (is(key, "traceId", "trace_id")) {
        has_trace_id = true;
        return id(value, "traceId", out, 1, 16, false);
      }
      if (is(key, "spanId", "span_id")) {
        has_span_id = true;
        return id(value, "spanId", out, 2, 8, false);
      }
      if (is(key, "traceState", "trace_state")) return string(value, "traceState", out, 3);
      if (is(key, "parentSpanId", "parent_span_id")) {
        return id(value, "parentSpanId", out, 4, 8, true);
      }
      if (key == "name") return string(value, "name", out, 5);
      if (key == "kind") {
        return enumeration(value, "kind", out, 6,
                           {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                            "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"});
      }
      if (is(key, "startTimeUnixNano", "start_time_unix_nano")) {
        return fixed64(value, "startTimeUnixNano", out, 7);
      }
      if (is(key, "endTimeUnixNano", "end_time_unix_nano")) {
        return fixed64(value, "endTimeUnixNano", out, 8);
      }
      if (key == "attributes") return attributes(value, out, 9, 0);
      if (is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return uint32(value, "droppedAttributesCount", out, 10);
      }
      if (key == "events") {
        return repeated(value, "events", out, 11,
                        [&](const Json& item, std::string& bytes) { return event(item, bytes); });
      }
      if (is(key, "droppedEventsCount", "dropped_events_count")) {
        return uint32(value, "droppedEventsCount", out, 12);
      }
      if (key == "links") {
        return repeated(value, "links", out, 13,
                        [&](const Json& item, std::string& bytes) { return link(item, bytes); });
      }
      if (is(key, "droppedLinksCount", "dropped_links_count")) {
        return uint32(value, "droppedLinksCount", out, 14);
      }
      if (key == "status") {
        return message(value, "status", out, 15,
                       [&](const Json& item, std::string& bytes) { return status(item, bytes); });
      }
      if (key == "flags") return fixed32(value, "flags", out, 16);
      return true;
    });
    return ok && require_ids(has_trace_id, has_span_id);
  }

  bool event(const Json& json, std::string& out) {
    return object(json, [&](std::string_view key, const Json& value) {
      if (is(key, "timeUnixNano", "time_unix_nano")) return fixed64(value, "timeUnixNano", out, 1);
      if (key == "name") return string(value, "name", out, 2);
      if (key == "attributes") return attributes(value, out, 3, 0);
      if (is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return uint32(value, "droppedAttributesCount", out, 4);
      }
      return true;
    });
  }

  // Links may point at an all-zero (invalid) context, as in validate_export_request.
  bool link(const Json& json, std::string& out) {
    bool has_trace_id = false;
    bool has_span_id = false;
    const bool ok = object(json, [&](std::string_view key, const Json& value) {
      if (is(key, "traceId", "trace_id")) {
        has_trace_id = true;
        return id(value, "traceId", out, 1, 16, false, true);
      }
      if (is(key, "spanId", "span_id")) {
        has_span_id = true;
        return id(value, "spanId", out, 2, 8, false, true);
      }
      if (is(key, "traceState", "trace_state")) return string(value, "traceState", out, 3);
      if (key == "attributes") return attributes(value, out, 4, 0);
      if (is(key, "droppedAttributesCount", "dropped_attributes_count")) {
        return uint32(value, "droppedAttributesCount", out, 5);
      }
      if (key == "flags") return fixed32(value, "flags", out, 6);
      return true;
    });
    return ok && require_ids(has_trace_id, has_span_id);
  }

  bool status(const Json& json, std::string& out) {
    return object(json, [&](std::string_view key, const Json& value) {
      if (key == "message") return string(value, "message", out, 2);
      if (key == "code") {
        return enumeration(value, "code", out, 3,
                           {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"});
      }
      return true;
    });
  }

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
  if (nested_deeper_than(json, kMaxJsonDepth)) {
    result.error = fmt::format("invalid JSON: nested deeper than {} levels", kMaxJsonDepth);
    return result;
  }
  Json document;
  try {
    document = Json::parse(json.begin(), json.end(), nullptr, true);
  } catch (const Json::exception& error) {
    result.error = fmt::format("invalid JSON: {}", error.what());
    return result;
  }
  Converter converter;
  try {
    result.ok = converter.request(document, result.protobuf);
  } catch (const Json::exception& error) {
    // Every access checks the type first; this is a last line, not a path taken.
    converter.fail(error.what());
  }
  if (!result.ok) {
    result.protobuf.clear();
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
