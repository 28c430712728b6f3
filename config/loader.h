#pragma once
// Loading and validation. Every problem found is reported, each naming the key path and
// the line and column it came from, so one run of --check-config shows them all.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace covet::config {

struct ConfigError {
  int line = 0;         // 1-based; 0 when the error has no position (file unreadable)
  int column = 0;       // 1-based
  std::string key;      // path such as "probes[1].interval"; empty for document-level errors
  std::string message;  // "invalid duration \"10x\": expected ..."

  // "FILE:LINE:COLUMN: KEY: MESSAGE"
  std::string to_string(std::string_view file_name) const;
};

struct LoadResult {
  std::optional<Config> config;  // set only when errors is empty
  std::vector<ConfigError> errors;
};

// Looks up an environment variable; injected so tests need not touch the real environment.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_env();

LoadResult load_config_text(std::string_view yaml_text, const EnvLookup& env);
LoadResult load_config_file(const std::string& path, const EnvLookup& env);

}  // namespace covet::config
