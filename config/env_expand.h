#pragma once
// ${VAR} and ${VAR:-default} expansion inside scalar values. Expansion happens after YAML
// parsing, so an environment value can never change the document's structure. "$$" is a
// literal "$". An unset ${VAR} with no default is an error, as is an unterminated "${".

#include <optional>
#include <string>
#include <string_view>

#include "config/loader.h"

namespace covet::config {

struct ExpandResult {
  std::optional<std::string> value;
  std::string error;
};
ExpandResult expand_env(std::string_view text, const EnvLookup& env);

}  // namespace covet::config
