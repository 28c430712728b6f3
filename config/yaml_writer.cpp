#include "config/yaml_writer.h"

#include <array>

namespace covet::config::detail {
namespace {

bool is_plain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '/' || c == '-' || c == '+' || c == '@' || c == ':';
}

// Conservative on purpose: anything outside this shape is quoted, which is always correct.
bool can_be_plain(std::string_view value) {
  if (value.empty()) return false;
  // A leading "-" or ":" can start YAML syntax; a trailing ":" makes a mapping key.
  const char first = value.front();
  if (first == '-' || first == ':' || first == '+' || first == '@') return false;
  if (value.back() == ':') return false;
  for (char c : value) {
    if (!is_plain_char(c)) return false;
  }
  // Plain words YAML reads as null rather than as text.
  constexpr std::array<std::string_view, 4> kNullWords{"null", "Null", "NULL", "~"};
  for (std::string_view word : kNullWords) {
    if (value == word) return false;
  }
  return true;
}

std::string double_quoted(std::string_view value) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "\"";
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      // Control characters as \xNN: raw they could end the line or vanish.
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;  // UTF-8 passes through as is
    }
  }
  out += '"';
  return out;
}

// "$" -> "$$": the loader expands ${VAR} in every value, so a literal "$" in an effective
// value must be written escaped to survive the reload.
std::string escape_dollars(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    out += c;
    if (c == '$') out += '$';
  }
  return out;
}

}  // namespace

std::string yaml_scalar(std::string_view value) {
  return can_be_plain(value) ? std::string(value) : double_quoted(value);
}

void YamlWriter::start_line() {
  out_.append(static_cast<std::size_t>(indent_), ' ');
  if (item_pending_) {
    out_ += "- ";
    indent_ += 2;  // the item's other keys align with its first
    item_pending_ = false;
  }
}

void YamlWriter::comment(std::string_view text) {
  start_line();
  out_ += "# ";
  out_ += text;
  out_ += '\n';
}

void YamlWriter::plain(std::string_view key, std::string_view value) {
  start_line();
  out_ += key;
  out_ += ": ";
  out_ += value;
  out_ += '\n';
}

void YamlWriter::string(std::string_view key, std::string_view value) {
  plain(key, yaml_scalar(escape_dollars(value)));
}

void YamlWriter::secret(std::string_view key) { plain(key, "\"<redacted>\""); }

void YamlWriter::flow_list(std::string_view key, std::span<const std::string_view> items) {
  std::string list = "[";
  for (std::string_view item : items) {
    if (list.size() > 1) list += ", ";
    list += item;
  }
  list += ']';
  plain(key, list);
}

void YamlWriter::begin_mapping(std::string_view key) {
  start_line();
  out_ += key;
  out_ += ":\n";
  indent_ += 2;
}

void YamlWriter::end_mapping() { indent_ -= 2; }

void YamlWriter::begin_list(std::string_view key) { begin_mapping(key); }

void YamlWriter::end_list() { end_mapping(); }

void YamlWriter::begin_item() { item_pending_ = true; }

void YamlWriter::end_item() {
  // An item with no keys never started its line, so it never indented.
  if (item_pending_) {
    item_pending_ = false;
    return;
  }
  indent_ -= 2;
}

}  // namespace covet::config::detail
