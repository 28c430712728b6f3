#pragma once
// Builds OTLP trace messages for the tests with the codec's own writer helpers, and reads
// back what the tests check, so each test states its request in a few lines.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporters/otlp/wire.h"

namespace covet::otlp::testing {

inline std::string message(std::uint32_t number, std::string_view body) {
  std::string out;
  wire::put_bytes_field(out, number, body);
  return out;
}

inline std::string string_value(std::string_view value) { return message(1, value); }

inline std::string int_value(std::int64_t value) {
  std::string out;
  wire::put_int64_field(out, 3, value);
  return out;
}

// A KeyValue as the body of a field (the caller frames it as attributes).
inline std::string key_value(std::string_view key, std::string_view any_value) {
  return message(1, key) + message(2, any_value);
}

inline std::string attribute(std::uint32_t field, std::string_view key, std::string_view value) {
  return message(field, key_value(key, string_value(value)));
}

inline std::string trace_id(std::uint8_t seed) { return std::string(15, '\x01') + char(seed); }
inline std::string span_id(std::uint8_t seed) { return std::string(7, '\x02') + char(seed); }

// A span body: ids, name, kind, times, and whatever extra fields are passed.
inline std::string span(std::string_view trace, std::string_view span_identifier,
                        std::string_view name = "GET /", std::string_view extra = {}) {
  std::string out = message(1, trace) + message(2, span_identifier) + message(5, name);
  wire::put_varint_field(out, 6, 2);
  wire::put_fixed64_field(out, 7, 1'700'000'000'000'000'000ULL);
  wire::put_fixed64_field(out, 8, 1'700'000'000'001'000'000ULL);
  out.append(extra);
  return out;
}

inline std::string scope_spans(const std::vector<std::string>& spans) {
  std::string out = message(1, message(1, "test-scope"));
  for (const std::string& body : spans) out += message(2, body);
  return out;
}

// A ResourceSpans body; resource_body empty means no resource field at all.
inline std::string resource_spans(std::string_view resource_body,
                                  const std::vector<std::string>& scopes) {
  std::string out;
  if (!resource_body.empty()) out += message(1, resource_body);
  for (const std::string& body : scopes) out += message(2, body);
  return out;
}

inline std::string request(const std::vector<std::string>& resources) {
  std::string out;
  for (const std::string& body : resources) out += message(1, body);
  return out;
}

// One request, one resource with service.name, one scope, n spans.
inline std::string simple_request(std::size_t spans, std::string_view service = "shop") {
  std::vector<std::string> bodies;
  for (std::size_t i = 0; i < spans; ++i) {
    bodies.push_back(span(trace_id(1), span_id(static_cast<std::uint8_t>(i + 1))));
  }
  return request({resource_spans(attribute(1, "service.name", service), {scope_spans(bodies)})});
}

using Attributes = std::vector<std::pair<std::string, std::string>>;

// Every ResourceSpans' resource attributes, string values only (others as "?"), in order.
inline std::vector<Attributes> resource_attributes(std::string_view request_bytes) {
  std::vector<Attributes> out;
  wire::Reader reader(request_bytes);
  wire::Field field;
  while (reader.next(field)) {
    if (field.number != 1) continue;
    Attributes attributes;
    wire::Reader resource_spans_reader(field.bytes);
    wire::Field resource;
    while (resource_spans_reader.next(resource)) {
      if (resource.number != 1) continue;
      wire::Reader resource_reader(resource.bytes);
      wire::Field kv;
      while (resource_reader.next(kv)) {
        if (kv.number != 1) continue;
        std::string key;
        std::string value = "?";
        wire::Reader kv_reader(kv.bytes);
        wire::Field part;
        while (kv_reader.next(part)) {
          if (part.number == 1) key = part.bytes;
          if (part.number == 2) {
            wire::Reader any(part.bytes);
            wire::Field inner;
            while (any.next(inner)) {
              if (inner.number == 1) value = inner.bytes;
            }
          }
        }
        attributes.emplace_back(key, value);
      }
    }
    out.push_back(attributes);
  }
  return out;
}

// The raw bytes of every ScopeSpans field, in order: what enrichment must leave alone.
inline std::vector<std::string> scope_spans_bytes(std::string_view request_bytes) {
  std::vector<std::string> out;
  wire::Reader reader(request_bytes);
  wire::Field field;
  while (reader.next(field)) {
    if (field.number != 1) continue;
    wire::Reader inner(field.bytes);
    wire::Field scope;
    while (inner.next(scope)) {
      if (scope.number == 2) out.emplace_back(scope.raw);
    }
  }
  return out;
}

// Reads field `number` of type length-delimited from `message`; "" when absent.
inline std::string bytes_field(std::string_view message, std::uint32_t number) {
  wire::Reader reader(message);
  wire::Field field;
  while (reader.next(field)) {
    if (field.number == number && field.type == wire::WireType::length_delimited) {
      return std::string(field.bytes);
    }
  }
  return "";
}

// Field `number` of type varint; 0 when absent.
inline std::uint64_t varint_field(std::string_view message, std::uint32_t number) {
  wire::Reader reader(message);
  wire::Field field;
  while (reader.next(field)) {
    if (field.number == number && field.type == wire::WireType::varint) return field.value;
  }
  return 0;
}

}  // namespace covet::otlp::testing
