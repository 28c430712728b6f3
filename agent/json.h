#pragma once
// The little JSON this agent writes (log lines, /health) needs only correct string escaping.

#include <string>
#include <string_view>

namespace covet::json {

// Appends `s` as a JSON string literal, quotes included. Control characters are escaped;
// bytes >= 0x80 pass through (callers hand in UTF-8).
void append_string(std::string& out, std::string_view s);

// Writes one JSON object's members into `out`, commas and quoting handled:
//   ObjectWriter o(out); o.string("status", "ok"); o.raw("stale", "false"); o.end();
// raw() takes a JSON value as is (a number, true/false/null); begin_object() nests.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void string(std::string_view key, std::string_view value) {
    write_key(key);
    append_string(out_, value);
  }
  void raw(std::string_view key, std::string_view value) {
    write_key(key);
    out_.append(value);
  }
  ObjectWriter begin_object(std::string_view key) {
    write_key(key);
    return ObjectWriter(out_);
  }
  void end() { out_.push_back('}'); }

 private:
  void write_key(std::string_view key) {
    if (!first_) out_.push_back(',');
    first_ = false;
    append_string(out_, key);
    out_.push_back(':');
  }

  std::string& out_;
  bool first_ = true;
};

}  // namespace covet::json
