#pragma once
// Parsing the config text into its one YAML document, working around a yaml-cpp 0.7 bug.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string_view>

namespace covet::config::detail {

struct YamlDocument {
  YAML::Node root;                         // null for an empty text
  std::optional<YAML::Mark> second_start;  // where a second document starts, if any
};

// Throws YAML::Exception on a syntax error (the caller turns it into a ConfigError).
//
// Not YAML::LoadAll: on some malformed input yaml-cpp 0.7's parser stops advancing and
// reports empty documents forever, so LoadAll allocates until the process dies (found by
// tests/fuzz/config_fuzz.cpp; upstream jbeder/yaml-cpp PR #1319). YAML::Load reads one
// document; a separate pass over parser events, bounded to two documents, finds a second.
// Such garbage then shows up as "more than one document" instead of a hang.
YamlDocument parse_yaml_document(std::string_view text);

}  // namespace covet::config::detail
