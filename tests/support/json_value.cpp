#include "tests/support/json_value.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>

namespace covet::testing {

JsonValue JsonValue::boolean(bool value) {
  JsonValue v;
  v.type_ = Type::boolean;
  v.bool_ = value;
  return v;
}

JsonValue JsonValue::number(double value) {
  JsonValue v;
  v.type_ = Type::number;
  v.number_ = value;
  return v;
}

JsonValue JsonValue::string(std::string value) {
  JsonValue v;
  v.type_ = Type::string;
  v.string_ = std::move(value);
  return v;
}

JsonValue JsonValue::array(Array items) {
  JsonValue v;
  v.type_ = Type::array;
  v.items_ = std::move(items);
  return v;
}

JsonValue JsonValue::object(Object members) {
  JsonValue v;
  v.type_ = Type::object;
  v.members_ = std::move(members);
  return v;
}

// For a value of another type these return the (empty) member of this value, which is
// exactly the empty string, array or object the header promises.
const std::string& JsonValue::as_string() const { return string_; }
const JsonValue::Array& JsonValue::as_array() const { return items_; }
const JsonValue::Object& JsonValue::as_object() const { return members_; }

const JsonValue* JsonValue::find(std::string_view key) const {
  if (type_ != Type::object) return nullptr;
  for (const auto& [name, value] : members_) {
    if (name == key) return &value;
  }
  return nullptr;
}

std::optional<std::string> JsonValue::string_at(std::string_view key) const {
  const JsonValue* member = find(key);
  if (member == nullptr || !member->is_string()) return std::nullopt;
  return member->string_;
}

bool operator==(const JsonValue& a, const JsonValue& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case JsonValue::Type::null:
      return true;
    case JsonValue::Type::boolean:
      return a.bool_ == b.bool_;
    case JsonValue::Type::number:
      return a.number_ == b.number_;
    case JsonValue::Type::string:
      return a.string_ == b.string_;
    case JsonValue::Type::array:
      return a.items_ == b.items_;
    case JsonValue::Type::object:
      return a.members_ == b.members_;
  }
  return false;
}

namespace {

constexpr int kMaxDepth = 256;

// A recursive-descent parser over one buffer. Every function leaves pos_ after what it
// read, or sets error_ and returns a null value; callers check failed() before going on.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  JsonParseResult run() {
    JsonParseResult result;
    skip_whitespace();
    JsonValue value = parse_value(0);
    if (!failed()) {
      skip_whitespace();
      if (pos_ != text_.size()) fail("unexpected text after the value");
    }
    if (failed()) {
      result.error = "json: offset " + std::to_string(error_pos_) + ": " + error_;
    } else {
      result.value = std::move(value);
    }
    return result;
  }

 private:
  bool failed() const { return !error_.empty(); }

  JsonValue fail(std::string reason) {
    if (!failed()) {
      error_ = std::move(reason);
      error_pos_ = pos_;
    }
    return JsonValue();
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  void skip_whitespace() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }

  JsonValue parse_value(int depth) {
    if (at_end()) return fail("unexpected end of input, expected a value");
    switch (peek()) {
      case '{':
        return parse_object(depth + 1);
      case '[':
        return parse_array(depth + 1);
      case '"': {
        std::string s;
        if (!parse_string(s)) return JsonValue();
        return JsonValue::string(std::move(s));
      }
      case 't':
        return parse_literal("true", JsonValue::boolean(true));
      case 'f':
        return parse_literal("false", JsonValue::boolean(false));
      case 'n':
        return parse_literal("null", JsonValue());
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return parse_number();
        return fail(std::string("unexpected character '") + peek() + "'");
    }
  }

  JsonValue parse_literal(std::string_view word, JsonValue value) {
    if (text_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return value;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — checked by hand, then converted by
  // from_chars (locale-independent, correctly rounded).
  JsonValue parse_number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t first = pos_;
      while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
      return pos_ - first;
    };
    if (peek() == '-') ++pos_;
    if (at_end()) return fail("number: no digits after '-'");
    if (peek() == '0') {
      ++pos_;
      if (!at_end() && peek() >= '0' && peek() <= '9') return fail("number: leading zero");
    } else if (digits() == 0) {
      return fail("number: no digits");
    }
    if (!at_end() && peek() == '.') {
      ++pos_;
      if (digits() == 0) return fail("number: no digits after '.'");
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
      if (digits() == 0) return fail("number: no digits in the exponent");
    }
    double value = 0;
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    const auto [end, ec] = std::from_chars(first, last, value);
    // Out of range (1e400) is refused: a test should not compare against infinity by accident.
    if (ec != std::errc() || end != last || !std::isfinite(value)) {
      pos_ = start;
      return fail("number: out of range");
    }
    return JsonValue::number(value);
  }

  // Four hex digits at pos_, consumed.
  bool parse_hex4(std::uint32_t& out) {
    if (text_.size() - pos_ < 4) {
      fail("string: truncated \\u escape");
      return false;
    }
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_ + static_cast<std::size_t>(i)];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        fail("string: invalid \\u escape");
        return false;
      }
    }
    pos_ += 4;
    return true;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // One escape after the backslash, appended to `out`.
  bool parse_escape(std::string& out) {
    if (at_end()) {
      fail("string: unterminated escape");
      return false;
    }
    const char c = text_[pos_++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out.push_back(c);
        return true;
      case 'b':
        out.push_back('\b');
        return true;
      case 'f':
        out.push_back('\f');
        return true;
      case 'n':
        out.push_back('\n');
        return true;
      case 'r':
        out.push_back('\r');
        return true;
      case 't':
        out.push_back('\t');
        return true;
      case 'u':
        break;
      default:
        --pos_;
        fail(std::string("string: invalid escape '\\") + c + "'");
        return false;
    }
    std::uint32_t cp = 0;
    if (!parse_hex4(cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      fail("string: lone low surrogate");
      return false;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A high surrogate must be followed by an escaped low one; together one code point.
      if (text_.substr(pos_, 2) != "\\u") {
        fail("string: high surrogate without a low surrogate");
        return false;
      }
      pos_ += 2;
      std::uint32_t low = 0;
      if (!parse_hex4(low)) return false;
      if (low < 0xDC00 || low > 0xDFFF) {
        fail("string: high surrogate without a low surrogate");
        return false;
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
    return true;
  }

  // One well-formed UTF-8 sequence starting at pos_ (a byte >= 0x80), copied to `out`.
  // Overlong forms, surrogates and code points above U+10FFFF are refused.
  bool copy_utf8(std::string& out) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text_[pos_ + i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    std::uint32_t cp = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      cp = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      cp = lead & 0x07;
    } else {
      fail("string: invalid UTF-8");
      return false;
    }
    if (text_.size() - pos_ < length) {
      fail("string: truncated UTF-8 sequence");
      return false;
    }
    for (std::size_t i = 1; i < length; ++i) {
      if ((byte(i) & 0xC0) != 0x80) {
        fail("string: invalid UTF-8");
        return false;
      }
      cp = (cp << 6) | (byte(i) & 0x3F);
    }
    const bool overlong = (length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000);
    if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      fail("string: invalid UTF-8");
      return false;
    }
    out.append(text_.substr(pos_, length));
    pos_ += length;
    return true;
  }

  // A string literal at pos_ (on the opening quote) into `out`.
  bool parse_string(std::string& out) {
    ++pos_;  // '"'
    while (true) {
      if (at_end()) {
        fail("string: unterminated");
        return false;
      }
      const unsigned char c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        ++pos_;
        if (!parse_escape(out)) return false;
      } else if (c < 0x20) {
        fail("string: unescaped control character");
        return false;
      } else if (c >= 0x80) {
        if (!copy_utf8(out)) return false;
      } else {
        out.push_back(static_cast<char>(c));
        ++pos_;
      }
    }
  }

  JsonValue parse_array(int depth) {
    if (depth > kMaxDepth) return fail("nesting deeper than 256");
    ++pos_;  // '['
    JsonValue::Array items;
    skip_whitespace();
    if (!at_end() && peek() == ']') {
      ++pos_;
      return JsonValue::array(std::move(items));
    }
    while (true) {
      skip_whitespace();
      items.push_back(parse_value(depth));
      if (failed()) return JsonValue();
      skip_whitespace();
      if (at_end()) return fail("array: unterminated");
      if (peek() == ']') {
        ++pos_;
        return JsonValue::array(std::move(items));
      }
      if (peek() != ',') return fail("array: expected ',' or ']'");
      ++pos_;
    }
  }

  JsonValue parse_object(int depth) {
    if (depth > kMaxDepth) return fail("nesting deeper than 256");
    ++pos_;  // '{'
    JsonValue::Object members;
    skip_whitespace();
    if (!at_end() && peek() == '}') {
      ++pos_;
      return JsonValue::object(std::move(members));
    }
    while (true) {
      skip_whitespace();
      if (at_end() || peek() != '"') return fail("object: expected a string key");
      const std::size_t key_pos = pos_;
      std::string key;
      if (!parse_string(key)) return JsonValue();
      for (const auto& member : members) {
        if (member.first == key) {
          pos_ = key_pos;
          return fail("object: duplicate key \"" + key + "\"");
        }
      }
      skip_whitespace();
      if (at_end() || peek() != ':') return fail("object: expected ':'");
      ++pos_;
      skip_whitespace();
      JsonValue value = parse_value(depth);
      if (failed()) return JsonValue();
      members.emplace_back(std::move(key), std::move(value));
      skip_whitespace();
      if (at_end()) return fail("object: unterminated");
      if (peek() == '}') {
        ++pos_;
        return JsonValue::object(std::move(members));
      }
      if (peek() != ',') return fail("object: expected ',' or '}'");
      ++pos_;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;
  std::size_t error_pos_ = 0;
};

}  // namespace

JsonParseResult parse_json(std::string_view text) { return Parser(text).run(); }

}  // namespace covet::testing
