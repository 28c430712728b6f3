#include "config/mapping_reader.h"

#include <algorithm>
#include <unordered_map>

#include "config/key_suggestion.h"

namespace covet::config::detail {

MappingReader::MappingReader(const YAML::Node& node, std::string path, Position at,
                             ValueReader& reader)
    : path_(std::move(path)), reader_(reader) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    reader_.report(
        at, path_,
        node.IsSequence() ? "expected a mapping, got a list" : "expected a mapping, got a value");
    return;
  }
  // Key -> index into entries_; a hash map so that a hostile file with many keys is not
  // quadratic to check for duplicates.
  std::unordered_map<std::string, std::size_t> seen;
  for (const auto& pair : node) {
    const YAML::Node& key = pair.first;
    const Position key_at = position_of(key);
    if (!key.IsScalar()) {
      reader_.report(key_at, path_, "keys must be plain strings");
      continue;
    }
    const std::string& name = key.Scalar();
    // An empty value has no position of its own (yaml-cpp points past it, to the next
    // line), so point at its key.
    const Position value_at = pair.second.IsNull() ? key_at : position_of(pair.second);
    Field field{path_of(name), pair.second, value_at, key_at};
    const auto [first, inserted] = seen.emplace(name, entries_.size());
    if (!inserted) {
      // yaml-cpp keeps both entries of a duplicated key; a YAML mapping may not have them.
      const Position first_at = entries_[first->second].field.key_at;
      reader_.report(key_at, field.path,
                     "duplicate key (first at line " + std::to_string(first_at.line) + ", column " +
                         std::to_string(first_at.column) + ")");
      continue;
    }
    entries_.push_back(Entry{name, std::move(field)});
  }
}

std::optional<Field> MappingReader::find(std::string_view key) const {
  for (const Entry& entry : entries_) {
    if (entry.key == key) return entry.field;
  }
  return std::nullopt;
}

void MappingReader::reject_unknown(std::span<const std::string_view> allowed) const {
  for (const Entry& entry : entries_) {
    if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
    std::string message = "unknown key";
    if (const std::optional<std::string_view> suggestion = suggest_key(entry.key, allowed)) {
      message += " (did you mean \"";
      message += *suggestion;
      message += "\"?)";
    }
    reader_.report(entry.field.key_at, entry.field.path, std::move(message));
  }
}

std::string MappingReader::path_of(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  std::string path = path_;
  path += '.';
  path += key;
  return path;
}

std::optional<std::vector<Field>> read_sequence(const Field& field, std::string_view expected,
                                                ValueReader& reader) {
  if (!field.value.IsSequence()) {
    reader.report(field, "expected " + std::string(expected));
    return std::nullopt;
  }
  std::vector<Field> items;
  std::size_t index = 0;
  for (const YAML::Node& item : field.value) {
    // An empty item ("- ") has no position of its own; point at the list.
    const Position at = item.IsNull() ? field.at : position_of(item);
    Field entry{field.path + "[" + std::to_string(index) + "]", item, at, at};
    items.push_back(std::move(entry));
    ++index;
  }
  return items;
}

}  // namespace covet::config::detail
