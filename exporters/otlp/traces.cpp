#include "exporters/otlp/traces.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "exporters/otlp/plain_shapes.h"
#include "exporters/otlp/wire.h"
#include "exporters/utf8.h"

namespace covet::otlp {
namespace {

using detail::all_zero;
using detail::plain_key_value;
using detail::plain_span;
using wire::Field;
using wire::Reader;
using wire::WireType;

// AnyValue nests through arrays and key-value lists. libprotobuf stops at 100 messages
// deep; 64 AnyValue levels sit well inside that with the request's own framing around.
constexpr std::size_t kMaxValueDepth = 64;

// One walk over a request. The path of the message being read is kept as a stack of
// (field name, index) so that an error says where it is without any cost until then.
class Validator {
 public:
  Validator(ValidationResult& result, bool shortcuts) : result_(result), shortcuts_(shortcuts) {}

  bool request(std::string_view bytes) {
    Reader reader(bytes);
    Field field;
    while (reader.next(field)) {
      if (field.number != 1) continue;
      if (!enter(field, "resource_spans", result_.resource_spans)) return false;
      ++result_.resource_spans;
      if (!resource_spans(field.bytes)) return false;
      path_.pop_back();
    }
    return reader_done(reader.error());
  }

 private:
  struct Segment {
    const char* name;
    std::size_t index;  // kNoIndex for a singular field
  };
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

  // The path as a fixed stack rather than a vector: a push and a pop come with every
  // message field, and a vector's out-of-line growth check was 7% of a receiver's time
  // (perf, 512-span requests). any_value refuses nesting past kMaxValueDepth before it
  // pushes more, with at most three segments per AnyValue level (kvlist_value, values,
  // value) and a few for the request's own framing.
  class Path {
   public:
    static constexpr std::size_t kCapacity = 3 * (kMaxValueDepth + 2) + 16;

    void push_back(Segment segment) {
      // Never taken (see above); kept so that a mistake there cannot write out of bounds.
      if (size_ < kCapacity) segments_[size_] = segment;
      ++size_;
    }
    void pop_back() { --size_; }
    const Segment* begin() const { return segments_.data(); }
    const Segment* end() const { return segments_.data() + std::min(size_, kCapacity); }

   private:
    std::array<Segment, kCapacity> segments_;
    std::size_t size_ = 0;
  };

  bool fail(std::string_view reason) {
    std::string where;
    for (const Segment& segment : path_) {
      if (!where.empty()) where += '.';
      where += segment.name;
      if (segment.index != kNoIndex) where += fmt::format("[{}]", segment.index);
    }
    result_.error = where.empty() ? std::string(reason) : fmt::format("{}: {}", where, reason);
    return false;
  }

  // Takes the reader's error, not the reader, so that no reader's address is taken.
  bool reader_done(const char* error) { return error == nullptr || fail(error); }

  bool expect(const Field& field, WireType type, const char* name) {
    if (field.type == type) return true;
    path_.push_back({name, kNoIndex});
    return fail("wrong wire type");
  }

  // Checks a message field's wire type and pushes it on the path; the caller pops it.
  bool enter(const Field& field, const char* name, std::size_t index = kNoIndex) {
    path_.push_back({name, index});
    return field.type == WireType::length_delimited || fail("wrong wire type");
  }

  bool string(const Field& field, const char* name) {
    if (!expect(field, WireType::length_delimited, name)) return false;
    if (text::valid_utf8(field.bytes)) return true;
    path_.push_back({name, kNoIndex});
    return fail("invalid UTF-8");
  }

  enum class Zero { invalid, allowed };

  bool id(const Field& field, const char* name, std::size_t size, bool may_be_empty,
          Zero zero = Zero::invalid) {
    if (!expect(field, WireType::length_delimited, name)) return false;
    if (may_be_empty && field.bytes.empty()) return true;
    path_.push_back({name, kNoIndex});
    if (field.bytes.size() != size) {
      return fail(fmt::format("{} bytes, expected {}", field.bytes.size(), size));
    }
    if (zero == Zero::invalid && all_zero(field.bytes)) {
      return fail("all zero, which is an invalid id");
    }
    path_.pop_back();
    return true;
  }

  bool missing(const char* name, std::size_t size) {
    path_.push_back({name, kNoIndex});
    return fail(fmt::format("0 bytes, expected {}", size));
  }

  bool resource_spans(std::string_view bytes) {
    Reader reader(bytes);
    Field field;
    std::size_t scopes = 0;
    while (reader.next(field)) {
      switch (field.number) {
        case 1:
          if (!enter(field, "resource") || !resource(field.bytes)) return false;
          path_.pop_back();
          break;
        case 2:
          if (!enter(field, "scope_spans", scopes++) || !scope_spans(field.bytes)) return false;
          path_.pop_back();
          break;
        case 3:
          if (!string(field, "schema_url")) return false;
          break;
        default:
          break;
      }
    }
    return reader_done(reader.error());
  }

  bool resource(std::string_view bytes) {
    Reader reader(bytes);
    Field field;
    std::size_t attributes = 0;
    while (reader.next(field)) {
      if (field.number == 1) {
        if (!key_value_field(field, "attributes", attributes++, 0)) return false;
      } else if (field.number == 2) {
        if (!expect(field, WireType::varint, "dropped_attributes_count")) return false;
      }
    }
    return reader_done(reader.error());
  }

  bool key_value_field(const Field& field, const char* name, std::size_t index, std::size_t depth) {
    if (shortcuts_ && field.type == WireType::length_delimited && depth < kMaxValueDepth &&
        plain_key_value(field.bytes)) {
      return true;
    }
    if (!enter(field, name, index) || !key_value(field.bytes, depth)) return false;
    path_.pop_back();
    return true;
  }

  bool key_value(std::string_view bytes, std::size_t depth) {
    Reader reader(bytes);
    Field field;
    while (reader.next(field)) {
      if (field.number == 1) {
        if (!string(field, "key")) return false;
      } else if (field.number == 2) {
        if (!enter(field, "value") || !any_value(field.bytes, depth + 1)) return false;
        path_.pop_back();
      }
    }
    return reader_done(reader.error());
  }

  bool any_value(std::string_view bytes, std::size_t depth) {
    if (depth > kMaxValueDepth) return fail("values nested too deep");
    Reader reader(bytes);
    Field field;
    while (reader.next(field)) {
      switch (field.number) {
        case 1:
          if (!string(field, "string_value")) return false;
          break;
        case 2:
          if (!expect(field, WireType::varint, "bool_value")) return false;
          break;
        case 3:
          if (!expect(field, WireType::varint, "int_value")) return false;
          break;
        case 4:
          if (!expect(field, WireType::fixed64, "double_value")) return false;
          break;
        case 5:
          if (!enter(field, "array_value") || !array_value(field.bytes, depth)) return false;
          path_.pop_back();
          break;
        case 6:
          if (!enter(field, "kvlist_value") || !kvlist_value(field.bytes, depth)) return false;
          path_.pop_back();
          break;
        case 7:
          if (!expect(field, WireType::length_delimited, "bytes_value")) return false;
          break;
        default:
          break;
      }
    }
    return reader_done(reader.error());
  }

  bool array_value(std::string_view bytes, std::size_t depth) {
    Reader reader(bytes);
    Field field;
    std::size_t values = 0;
    while (reader.next(field)) {
      if (field.number != 1) continue;
      if (!enter(field, "values", values++) || !any_value(field.bytes, depth + 1)) return false;
      path_.pop_back();
    }
    return reader_done(reader.error());
  }

  bool kvlist_value(std::string_view bytes, std::size_t depth) {
    Reader reader(bytes);
    Field field;
    std::size_t values = 0;
    while (reader.next(field)) {
      if (field.number == 1 && !key_value_field(field, "values", values++, depth)) return false;
    }
    return reader_done(reader.error());
  }

  bool scope_spans(std::string_view bytes) {
    Reader reader(bytes);
    Field field;
    std::size_t spans = 0;
    while (reader.next(field)) {
      switch (field.number) {
        case 1:
          if (!enter(field, "scope") || !scope(field.bytes)) return false;
          path_.pop_back();
          break;
        case 2:
          // SDKs send spans in one shape, checked in one flat pass (half the time the
          // general walk takes); any other shape, and every error, take the general walk.
          if (shortcuts_ && field.type == WireType::length_delimited && plain_span(field.bytes)) {
            ++spans;
          } else {
            if (!enter(field, "spans", spans++) || !span(field.bytes)) return false;
            path_.pop_back();
          }
          ++result_.spans;
          break;
        case 3:
          if (!string(field, "schema_url")) return false;
          break;
        default:
          break;
      }
    }
    return reader_done(reader.error());
  }

  bool scope(std::string_view bytes) {
    Reader reader(bytes);
    Field field;
    std::size_t attributes = 0;
    while (reader.next(field)) {
      switch (field.number) {
        case 1:
          if (!string(field, "name")) return false;
          break;
        case 2:
          if (!string(field, "version")) return false;
          break;
        case 3:
          if (!key_value_field(field, "attributes", attributes++, 0)) return false;
          break;
        case 4:
          if (!expect(field, WireType::varint, "dropped_attributes_count")) return false;
          break;
        default:
          break;
      }
    }
    return reader_done(reader.error());
  }

  bool span(std::string_view bytes) {
    Reader reader(bytes);
    Field field;
    bool has_trace_id = false;
    bool has_span_id = false;
    std::size_t attributes = 0;
    std::size_t events = 0;
    std::size_t links = 0;
    while (reader.next(field)) {
      bool ok = true;
      switch (field.number) {
        case 1:
          ok = id(field, "trace_id", 16, false);
          has_trace_id = true;
          break;
        case 2:
          ok = id(field, "span_id", 8, false);
          has_span_id = true;
          break;
        case 3:
          ok = string(field, "trace_state");
          break;
        case 4:
          ok = id(field, "parent_span_id", 8, true);
          break;
        case 5:
          ok = string(field, "name");
          break;
        case 6:
          ok = expect(field, WireType::varint, "kind");
          break;
        case 7:
          ok = expect(field, WireType::fixed64, "start_time_unix_nano");
          break;
        case 8:
          ok = expect(field, WireType::fixed64, "end_time_unix_nano");
          break;
        case 9:
          ok = key_value_field(field, "attributes", attributes++, 0);
          break;
        case 10:
          ok = expect(field, WireType::varint, "dropped_attributes_count");
          break;
        case 11:
          ok = enter(field, "events", events++) && event(field.bytes);
          if (ok) path_.pop_back();
          break;
        case 12:
          ok = expect(field, WireType::varint, "dropped_events_count");
          break;
        case 13:
          ok = enter(field, "links", links++) && link(field.bytes);
          if (ok) path_.pop_back();
          break;
        case 14:
          ok = expect(field, WireType::varint, "dropped_links_count");
          break;
        case 15:
          ok = enter(field, "status") && status(field.bytes);
          if (ok) path_.pop_back();
          break;
        case 16:
          ok = expect(field, WireType::fixed32, "flags");
          break;
        default:
          break;
      }
      if (!ok) return false;
    }
    if (!reader_done(reader.error())) return false;
    // An absent id is an empty one: proto3 does not tell them apart.
    if (!has_trace_id) return missing("trace_id", 16);
    if (!has_span_id) return missing("span_id", 8);
    return true;
  }

  bool event(std::string_view bytes) {
    Reader reader(bytes);
    Field field;
    std::size_t attributes = 0;
    while (reader.next(field)) {
      bool ok = true;
      switch (field.number) {
        case 1:
          ok = expect(field, WireType::fixed64, "time_unix_nano");
          break;
        case 2:
          ok = string(field, "name");
          break;
        case 3:
          ok = key_value_field(field, "attributes", attributes++, 0);
          break;
        case 4:
          ok = expect(field, WireType::varint, "dropped_attributes_count");
          break;
        default:
          break;
      }
      if (!ok) return false;
    }
    return reader_done(reader.error());
  }

  // A link to an invalid context has all-zero ids: SDKs pass on what user code links to, and
  // refusing the whole batch for it would lose every span in it for a harmless reference.
  bool link(std::string_view bytes) {
    Reader reader(bytes);
    Field field;
    bool has_trace_id = false;
    bool has_span_id = false;
    std::size_t attributes = 0;
    while (reader.next(field)) {
      bool ok = true;
      switch (field.number) {
        case 1:
          ok = id(field, "trace_id", 16, false, Zero::allowed);
          has_trace_id = true;
          break;
        case 2:
          ok = id(field, "span_id", 8, false, Zero::allowed);
          has_span_id = true;
          break;
        case 3:
          ok = string(field, "trace_state");
          break;
        case 4:
          ok = key_value_field(field, "attributes", attributes++, 0);
          break;
        case 5:
          ok = expect(field, WireType::varint, "dropped_attributes_count");
          break;
        case 6:
          ok = expect(field, WireType::fixed32, "flags");
          break;
        default:
          break;
      }
      if (!ok) return false;
    }
    if (!reader_done(reader.error())) return false;
    // An absent id is an empty one: proto3 does not tell them apart.
    if (!has_trace_id) return missing("trace_id", 16);
    if (!has_span_id) return missing("span_id", 8);
    return true;
  }

  bool status(std::string_view bytes) {
    Reader reader(bytes);
    Field field;
    while (reader.next(field)) {
      if (field.number == 2) {
        if (!string(field, "message")) return false;
      } else if (field.number == 3) {
        if (!expect(field, WireType::varint, "code")) return false;
      }
    }
    return reader_done(reader.error());
  }

  ValidationResult& result_;
  const bool shortcuts_;
  Path path_;
};

// The keys of a resource's attributes (a resource may be split over several occurrences of
// the field; protobuf merges them, so they are read as one).
bool collect_keys(std::string_view resource, std::vector<std::string_view>& keys) {
  Reader reader(resource);
  Field field;
  while (reader.next(field)) {
    if (field.number != 1 || field.type != WireType::length_delimited) continue;
    Reader key_value(field.bytes);
    Field part;
    while (key_value.next(part)) {
      if (part.number == 1 && part.type == WireType::length_delimited) keys.push_back(part.bytes);
    }
    if (!key_value.ok()) return false;
  }
  return reader.ok();
}

void put_string_attribute(std::string& out, std::string_view key, std::string_view value) {
  std::string any_value;
  wire::put_bytes_field(any_value, 1, value);
  std::string key_value;
  wire::put_bytes_field(key_value, 1, key);
  wire::put_bytes_field(key_value, 2, any_value);
  wire::put_bytes_field(out, 1, key_value);
}

// Appends one ResourceSpans to out with the attributes added; false if it cannot be read.
bool enrich_one(std::string_view resource_spans, const ResourceAttributes& attributes,
                std::string& out) {
  std::string resource;  // the merged Resource message, then the added attributes
  std::size_t rest_size = 0;
  Reader reader(resource_spans);
  Field field;
  while (reader.next(field)) {
    if (field.number == 1 && field.type == WireType::length_delimited) {
      resource.append(field.bytes);
    } else {
      rest_size += field.raw.size();
    }
  }
  if (!reader.ok()) return false;
  std::vector<std::string_view> keys;
  if (!collect_keys(resource, keys)) return false;
  std::string added;
  for (const auto& [key, value] : attributes) {
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    put_string_attribute(added, key, value);
    keys.push_back(key);
  }
  if (added.empty()) {
    wire::put_bytes_field(out, 1, resource_spans);
    return true;
  }
  resource += added;
  const std::size_t resource_field_size =
      1 + wire::varint_size(resource.size()) + resource.size();  // tag 1 is one byte
  wire::put_tag(out, 1, WireType::length_delimited);
  wire::put_varint(out, resource_field_size + rest_size);
  wire::put_bytes_field(out, 1, resource);
  Reader again(resource_spans);
  while (again.next(field)) {
    if (!(field.number == 1 && field.type == WireType::length_delimited)) out.append(field.raw);
  }
  return true;
}

}  // namespace

ValidationResult validate_export_request(std::string_view protobuf) {
  ValidationResult result;
  Validator validator(result, true);
  result.ok = validator.request(protobuf);
  return result;
}

ValidationResult detail::validate_export_request_without_shortcuts(std::string_view protobuf) {
  ValidationResult result;
  Validator validator(result, false);
  result.ok = validator.request(protobuf);
  return result;
}

std::string enrich_resources(std::string_view request, const ResourceAttributes& attributes,
                             std::string out) {
  out.clear();
  if (attributes.empty()) {
    out.assign(request);
    return out;
  }
  std::size_t resource_spans = 0;
  Reader count(request);
  Field field;
  while (count.next(field)) {
    if (field.number == 1 && field.type == WireType::length_delimited) ++resource_spans;
  }
  out.reserve(enriched_size_bound(request.size(), resource_spans, attributes));
  Reader reader(request);
  while (reader.next(field)) {
    if (field.number == 1 && field.type == WireType::length_delimited) {
      if (!enrich_one(field.bytes, attributes, out)) {
        out.assign(request);  // what enrich_one appended before it failed goes
        return out;
      }
    } else {
      out.append(field.raw);
    }
  }
  if (!reader.ok()) {
    out.assign(request);
    return out;
  }
  return out;
}

std::size_t enriched_size_bound(std::size_t request_bytes, std::size_t resource_spans,
                                const ResourceAttributes& attributes) {
  // An attribute is a KeyValue field holding a key field and an AnyValue field holding a
  // string field: four tags and four lengths, each length at most a 5-byte varint here.
  constexpr std::size_t kAttributeFraming = 4 * (1 + 5);
  // Per ResourceSpans: its own length and its resource's may each grow by a few bytes, and
  // a ResourceSpans without a resource gains a resource field's tag and length.
  constexpr std::size_t kResourceSpansFraming = 32;
  std::size_t added = kResourceSpansFraming;
  for (const auto& [key, value] : attributes) {
    added += key.size() + value.size() + kAttributeFraming;
  }
  return request_bytes + resource_spans * added;
}

std::string encode_response(std::size_t rejected_spans, std::string_view error_message) {
  std::string response;
  if (rejected_spans == 0 && error_message.empty()) return response;
  std::string partial_success;
  if (rejected_spans > 0) wire::put_varint_field(partial_success, 1, rejected_spans);
  if (!error_message.empty()) wire::put_bytes_field(partial_success, 2, error_message);
  wire::put_bytes_field(response, 1, partial_success);
  return response;
}

std::optional<PartialSuccess> decode_response(std::string_view protobuf) {
  PartialSuccess result;
  wire::Reader response(protobuf);
  wire::Field field;
  while (response.next(field)) {
    if (field.number != 1 || field.type != wire::WireType::length_delimited) continue;
    wire::Reader partial(field.bytes);
    wire::Field inner;
    while (partial.next(inner)) {
      if (inner.number == 1 && inner.type == wire::WireType::varint) {
        result.rejected_spans = inner.value;
      } else if (inner.number == 2 && inner.type == wire::WireType::length_delimited) {
        result.error_message.assign(inner.bytes);
      }
    }
    if (!partial.ok()) return std::nullopt;
  }
  if (!response.ok()) return std::nullopt;
  return result;
}

std::string encode_status(int code, std::string_view message) {
  std::string status;
  if (code != 0) wire::put_int64_field(status, 1, code);
  if (!message.empty()) wire::put_bytes_field(status, 2, message);
  return status;
}

}  // namespace covet::otlp
