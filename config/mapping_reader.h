#pragma once
// One YAML mapping of the config, read against the keys its schema allows.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/value_reader.h"

namespace covet::config::detail {

class MappingReader {
 public:
  // `node` should be a mapping; anything else is reported (at `at`, naming `path`) and
  // reads as an empty mapping. An empty value ("log:") is an empty mapping: every key
  // commented out means every default. Duplicate and non-string keys are reported here.
  MappingReader(const YAML::Node& node, std::string path, Position at, ValueReader& reader);

  // The key's field, or nothing when the key is absent. A duplicated key yields its first
  // occurrence (the duplicate is already an error).
  std::optional<Field> find(std::string_view key) const;

  // Reports every key not in `allowed` as unknown, with a "did you mean" from `allowed`.
  void reject_unknown(std::span<const std::string_view> allowed) const;

  // "probes[0]" + "interval" -> "probes[0].interval"
  std::string path_of(std::string_view key) const;
  const std::string& path() const { return path_; }

 private:
  struct Entry {
    std::string key;
    Field field;
  };

  std::string path_;
  std::vector<Entry> entries_;  // in document order, first occurrence of each key only
  ValueReader& reader_;
};

// The fields of a sequence, paths "probes[0]", "probes[1]"... Anything but a sequence is
// reported as "expected " + `expected` and reads as nothing.
std::optional<std::vector<Field>> read_sequence(const Field& field, std::string_view expected,
                                                ValueReader& reader);

// What happened to one optional key: absent (default kept), read, or invalid (reported,
// default kept). Cross-key checks use it to skip values that were not read.
struct KeyRead {
  std::optional<Position> at;  // set when the key is present
  bool ok = true;
};

// Reads `key` with `read` (a ValueReader call returning std::optional) into `target`.
template <typename T, typename Read>
KeyRead read_key(const MappingReader& mapping, std::string_view key, T& target, Read&& read) {
  const std::optional<Field> field = mapping.find(key);
  if (!field) return {};
  auto value = read(*field);
  if (!value) return {field->at, false};
  target = static_cast<T>(std::move(*value));
  return {field->at, true};
}

}  // namespace covet::config::detail
