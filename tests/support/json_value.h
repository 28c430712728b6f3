#pragma once
// A strict JSON reader for tests (RFC 8259): what the agent writes (/health, log lines) and
// what the servers the tests talk to answer (Prometheus' HTTP API) are read back with it.
// Strict on purpose, since a test should notice malformed output: no trailing commas,
// comments, single quotes, leading zeros, lone surrogates, raw control characters, invalid
// UTF-8, duplicate object keys, or anything but whitespace after the value.
//
// Test-only: values are plain trees of std::vector and std::string, copied freely.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace covet::testing {

class JsonValue {
 public:
  enum class Type { null, boolean, number, string, array, object };
  using Array = std::vector<JsonValue>;
  // Members in document order; keys are unique (the parser refuses duplicates).
  using Object = std::vector<std::pair<std::string, JsonValue>>;

  JsonValue() = default;  // null
  static JsonValue boolean(bool value);
  static JsonValue number(double value);
  static JsonValue string(std::string value);
  static JsonValue array(Array items);
  static JsonValue object(Object members);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_bool() const { return type_ == Type::boolean; }
  bool is_number() const { return type_ == Type::number; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }

  // The value as its type; false, 0, "" or empty for a value of another type, so a test
  // that checked type() first reads naturally and one that did not fails on the value.
  bool as_bool() const { return type_ == Type::boolean && bool_; }
  double as_number() const { return type_ == Type::number ? number_ : 0; }
  const std::string& as_string() const;
  const Array& as_array() const;
  const Object& as_object() const;

  // The member `key` of an object; nullptr when this is not an object or has no such key.
  const JsonValue* find(std::string_view key) const;
  // The string member `key`, or nullopt when it is missing or not a string.
  std::optional<std::string> string_at(std::string_view key) const;

  friend bool operator==(const JsonValue& a, const JsonValue& b);

 private:
  Type type_ = Type::null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  Array items_;
  Object members_;
};

struct JsonParseResult {
  std::optional<JsonValue> value;  // set on success
  std::string error;               // "json: offset N: reason" on failure
};

// Parses exactly one JSON text (surrounded by optional whitespace). Nesting deeper than 256
// arrays or objects is refused rather than recursed into.
JsonParseResult parse_json(std::string_view text);

}  // namespace covet::testing
