#pragma once
// A strict JSON (RFC 8259) reader that walks a document in place, one value at a time, for
// a caller that knows the schema it expects: no tree is built, a string without escapes is
// a view of the document, and what the caller does not want it skips. Strings must be valid
// UTF-8 (a lone surrogate escape is refused too), numbers must follow the JSON grammar, and
// nothing but whitespace may follow the document's value.
//
// Objects and arrays may nest `max_depth` deep, so that recursion over them (skip_value, and
// a caller's own) stays bounded: deeper is "invalid JSON: nested deeper than N levels".
//
// Typical use, for an object:
//   if (!reader.begin_object()) ...
//   std::string_view key;
//   bool done = false;
//   while (reader.next_member(key, done) && !done) { ... read or skip the value ... }
//   if (reader.failed()) ...
//
// Pure: fuzzed through tests/fuzz/otlp_json_fuzz.cpp.

#include <cstddef>
#include <string>
#include <string_view>

namespace covet::otlp::json {

// What the next value is, from its first character.
enum class Kind { string, number, object, array, boolean, null, invalid };

struct Number {
  std::string_view text;  // as written: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  bool integral = true;   // no fraction and no exponent
};

class Reader {
 public:
  Reader(std::string_view document, int max_depth) : text_(document), max_depth_(max_depth) {}

  // The kind of the next value (whitespace before it is skipped); invalid at the end.
  Kind peek();

  // Each reads the next value, which must be of its kind; false when it is not, or is
  // malformed: failed() and error() then say so.
  bool begin_object();
  // The next member's key and its ':' (the value is next), or done at the object's '}'.
  // False when the JSON is malformed. The key may be a view of a buffer of the reader's
  // that the next key read, in a nested object too, reuses: use it before reading the
  // value.
  bool next_member(std::string_view& key, bool& done);
  bool begin_array();
  // Whether another element follows (it is next), or done at the array's ']'.
  bool next_element(bool& done);
  // The decoded string: a view of the document, or of a buffer of the reader's that the
  // next read_string reuses.
  bool read_string(std::string_view& value);
  bool read_number(Number& number);
  bool read_boolean(bool& value);
  bool read_null();
  // Reads past the next value, whatever it is.
  bool skip_value();
  // True when only whitespace is left.
  bool at_end();

  bool failed() const { return !error_.empty(); }
  // "invalid JSON: <why> at byte <offset>"; empty while nothing failed.
  const std::string& error() const { return error_; }

 private:
  bool fail(std::string_view why);
  // One level deeper, for begin_object and begin_array; false past max_depth_.
  bool enter();
  void skip_whitespace();
  bool expect(char c, std::string_view why);
  // A string at position_ (its opening quote), decoded into `scratch` when it has escapes.
  bool string(std::string_view& value, std::string& scratch);
  bool escape(std::string& out);
  bool hex4(unsigned& value);
  bool literal(std::string_view word);

  std::string_view text_;
  std::size_t position_ = 0;
  const int max_depth_;
  int depth_ = 0;  // objects and arrays begun and not yet done
  // Set by begin_object and begin_array: the next member or element is their first (no
  // comma before it, and a close right away is an empty one).
  bool first_ = false;
  std::string key_scratch_;
  std::string value_scratch_;
  std::string error_;
};

}  // namespace covet::otlp::json
