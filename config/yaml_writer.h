#pragma once
// A small block-style YAML writer for the effective config: nested mappings, lists of
// mappings, scalars and short flow lists. Written by hand rather than with YAML::Emitter
// so that quoting follows the loader's rules: every string it writes loads back, through
// yaml-cpp and ${VAR} expansion, to the same string.

#include <span>
#include <string>
#include <string_view>

namespace covet::config::detail {

class YamlWriter {
 public:
  // "# text" on its own line.
  void comment(std::string_view text);

  // `value` written as is: only for text we produce (numbers, durations, enum names).
  void plain(std::string_view key, std::string_view value);
  // Text that came from the user or the environment: "$" doubled so that it is not
  // expanded again on reload, quoted and escaped when it would not read back as itself.
  void string(std::string_view key, std::string_view value);
  // A secret setting: always "<redacted>", whatever the value. The effective config is
  // what people paste into tickets and logs; no secret reaches it, expanded or not.
  void secret(std::string_view key);
  // key: [a, b] with plain items; "key: []" when empty.
  void flow_list(std::string_view key, std::span<const std::string_view> items);

  void begin_mapping(std::string_view key);  // "key:", children indented
  void end_mapping();
  void begin_list(std::string_view key);  // "key:", then items
  void end_list();
  void begin_item();  // "- " before the item's first key; its keys align after it
  void end_item();

  const std::string& text() const { return out_; }

 private:
  void start_line();

  std::string out_;
  int indent_ = 0;
  bool item_pending_ = false;
};

// `value` as a YAML scalar that reads back as exactly `value` (before ${VAR} expansion):
// plain when unambiguous, else double-quoted with escapes.
std::string yaml_scalar(std::string_view value);

}  // namespace covet::config::detail
