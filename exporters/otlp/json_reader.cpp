#include "exporters/otlp/json_reader.h"

#include <fmt/format.h>

#include "exporters/hex.h"
#include "exporters/utf8.h"

namespace covet::otlp::json {
namespace {

using text::hex_value;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

void put_utf8(std::string& out, unsigned code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

}  // namespace

bool Reader::fail(std::string_view why) {
  if (error_.empty()) error_ = fmt::format("invalid JSON: {} at byte {}", why, position_);
  return false;
}

void Reader::skip_whitespace() {
  while (position_ < text_.size()) {
    const char c = text_[position_];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
    ++position_;
  }
}

bool Reader::expect(char c, std::string_view why) {
  skip_whitespace();
  if (position_ >= text_.size() || text_[position_] != c) return fail(why);
  ++position_;
  return true;
}

Kind Reader::peek() {
  skip_whitespace();
  if (position_ >= text_.size()) return Kind::invalid;
  switch (text_[position_]) {
    case '"':
      return Kind::string;
    case '{':
      return Kind::object;
    case '[':
      return Kind::array;
    case 't':
    case 'f':
      return Kind::boolean;
    case 'n':
      return Kind::null;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
      return Kind::number;
    default:
      return Kind::invalid;
  }
}

bool Reader::enter() {
  if (++depth_ <= max_depth_) return true;
  if (error_.empty())
    error_ = fmt::format("invalid JSON: nested deeper than {} levels", max_depth_);
  return false;
}

bool Reader::begin_object() {
  if (!expect('{', "expected an object") || !enter()) return false;
  first_ = true;
  return true;
}

bool Reader::next_member(std::string_view& key, bool& done) {
  done = false;
  skip_whitespace();
  const bool first = first_;
  first_ = false;
  if (position_ >= text_.size())
    return fail(first ? "expected a member name" : "unterminated object");
  if (text_[position_] == '}') {
    // "{}", or the close after a member; "{"a":1,}" is refused below, at the '}' after ','.
    ++position_;
    --depth_;
    done = true;
    return true;
  }
  if (!first) {
    if (text_[position_] != ',') return fail("expected ',' or '}' after a member");
    ++position_;
    skip_whitespace();
  }
  if (position_ >= text_.size() || text_[position_] != '"') return fail("expected a member name");
  if (!string(key, key_scratch_)) return false;
  return expect(':', "expected ':' after a member name");
}

bool Reader::begin_array() {
  if (!expect('[', "expected an array") || !enter()) return false;
  first_ = true;
  return true;
}

bool Reader::next_element(bool& done) {
  done = false;
  skip_whitespace();
  const bool first = first_;
  first_ = false;
  if (position_ >= text_.size()) return fail("unterminated array");
  if (text_[position_] == ']') {
    // "[]", or the close after an element; "[1,]" is refused below, at the ']' after ','.
    ++position_;
    --depth_;
    done = true;
    return true;
  }
  if (first) return true;
  if (text_[position_] != ',') return fail("expected ',' or ']' after an element");
  ++position_;
  skip_whitespace();
  if (position_ < text_.size() && text_[position_] == ']') return fail("expected a value");
  return true;
}

bool Reader::read_string(std::string_view& value) {
  skip_whitespace();
  if (position_ >= text_.size() || text_[position_] != '"') return fail("expected a string");
  return string(value, value_scratch_);
}

bool Reader::string(std::string_view& value, std::string& scratch) {
  const std::size_t begin = ++position_;  // past the opening quote
  // The common case: no escape, so the string is a view of the document.
  std::size_t at = begin;
  while (at < text_.size()) {
    const auto c = static_cast<unsigned char>(text_[at]);
    if (c == '"' || c == '\\' || c < 0x20) break;
    ++at;
  }
  if (at >= text_.size()) {
    position_ = at;
    return fail("unterminated string");
  }
  const std::string_view plain = text_.substr(begin, at - begin);
  if (!text::valid_utf8(plain)) {
    position_ = begin;
    return fail("a string that is not UTF-8");
  }
  if (text_[at] == '"') {
    position_ = at + 1;
    value = plain;
    return true;
  }
  scratch.assign(plain);
  position_ = at;
  for (;;) {
    if (position_ >= text_.size()) return fail("unterminated string");
    const auto c = static_cast<unsigned char>(text_[position_]);
    if (c == '"') {
      ++position_;
      value = scratch;
      return true;
    }
    if (c < 0x20) return fail("a control character in a string");
    if (c == '\\') {
      if (!escape(scratch)) return false;
      continue;
    }
    // A run of plain bytes up to the next quote, escape or control character.
    const std::size_t run = position_;
    while (position_ < text_.size()) {
      const auto d = static_cast<unsigned char>(text_[position_]);
      if (d == '"' || d == '\\' || d < 0x20) break;
      ++position_;
    }
    const std::string_view bytes = text_.substr(run, position_ - run);
    if (!text::valid_utf8(bytes)) {
      position_ = run;
      return fail("a string that is not UTF-8");
    }
    scratch.append(bytes);
  }
}

bool Reader::escape(std::string& out) {
  ++position_;  // the backslash
  if (position_ >= text_.size()) return fail("unterminated string");
  const char c = text_[position_++];
  switch (c) {
    case '"':
    case '\\':
    case '/':
      out += c;
      return true;
    case 'b':
      out += '\b';
      return true;
    case 'f':
      out += '\f';
      return true;
    case 'n':
      out += '\n';
      return true;
    case 'r':
      out += '\r';
      return true;
    case 't':
      out += '\t';
      return true;
    case 'u':
      break;
    default:
      --position_;
      return fail("an invalid escape in a string");
  }
  unsigned code = 0;
  if (!hex4(code)) return false;
  if (code >= 0xDC00 && code <= 0xDFFF) return fail("a lone low surrogate in a string");
  if (code >= 0xD800 && code <= 0xDBFF) {
    // A high surrogate must be followed by a low one: together one code point past U+FFFF.
    if (text_.substr(position_, 2) != "\\u") return fail("a lone high surrogate in a string");
    position_ += 2;
    unsigned low = 0;
    if (!hex4(low)) return false;
    if (low < 0xDC00 || low > 0xDFFF) return fail("a lone high surrogate in a string");
    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
  }
  put_utf8(out, code);
  return true;
}

bool Reader::hex4(unsigned& value) {
  if (text_.size() - position_ < 4) return fail("a \\u escape without four hex digits");
  value = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = hex_value(text_[position_ + i]);
    if (digit < 0) return fail("a \\u escape without four hex digits");
    value = value * 16 + static_cast<unsigned>(digit);
  }
  position_ += 4;
  return true;
}

bool Reader::read_number(Number& number) {
  skip_whitespace();
  const std::size_t begin = position_;
  const auto digits = [&] {
    const std::size_t from = position_;
    while (position_ < text_.size() && is_digit(text_[position_])) ++position_;
    return position_ - from;
  };
  const auto at = [&](char c) { return position_ < text_.size() && text_[position_] == c; };
  number.integral = true;
  if (at('-')) ++position_;
  if (at('0')) {
    ++position_;  // a leading zero stands alone: "01" is refused as what follows it
  } else if (digits() == 0) {
    return fail("expected a number");
  }
  if (at('.')) {
    ++position_;
    number.integral = false;
    if (digits() == 0) return fail("expected digits after '.'");
  }
  if (at('e') || at('E')) {
    ++position_;
    number.integral = false;
    if (at('+') || at('-')) ++position_;
    if (digits() == 0) return fail("expected digits in an exponent");
  }
  number.text = text_.substr(begin, position_ - begin);
  return true;
}

bool Reader::literal(std::string_view word) {
  if (text_.substr(position_, word.size()) != word) return fail("an invalid literal");
  position_ += word.size();
  return true;
}

bool Reader::read_boolean(bool& value) {
  skip_whitespace();
  if (position_ < text_.size() && text_[position_] == 't') {
    value = true;
    return literal("true");
  }
  value = false;
  if (position_ < text_.size() && text_[position_] == 'f') return literal("false");
  return fail("expected true or false");
}

bool Reader::read_null() {
  skip_whitespace();
  return literal("null");
}

bool Reader::skip_value() {
  std::string_view ignored_text;
  Number ignored_number;
  bool ignored_boolean = false;
  bool done = false;
  switch (peek()) {
    case Kind::string:
      return read_string(ignored_text);
    case Kind::number:
      return read_number(ignored_number);
    case Kind::boolean:
      return read_boolean(ignored_boolean);
    case Kind::null:
      return read_null();
    case Kind::object:
      if (!begin_object()) return false;
      while (next_member(ignored_text, done) && !done) {
        if (!skip_value()) return false;
      }
      return !failed();
    case Kind::array:
      if (!begin_array()) return false;
      while (next_element(done) && !done) {
        if (!skip_value()) return false;
      }
      return !failed();
    case Kind::invalid:
      break;
  }
  return fail(position_ >= text_.size() ? "unexpected end" : "expected a value");
}

bool Reader::at_end() {
  skip_whitespace();
  return position_ == text_.size() || fail("more after the document's value");
}

}  // namespace covet::otlp::json
