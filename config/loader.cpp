#include "config/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>

#include "config/file_read.h"
#include "config/schema_readers.h"
#include "config/value_reader.h"
#include "config/yaml_documents.h"

namespace covet::config {
namespace detail {
namespace {

// A config file this large is a wrong path (a log, a core dump), not a config.
constexpr std::size_t kMaxConfigBytes = 4 * 1024 * 1024;

ConfigError error_at(const YAML::Mark& mark, std::string message) {
  ConfigError error;
  if (mark.line >= 0 && mark.column >= 0) {
    error.line = mark.line + 1;
    error.column = mark.column + 1;
  }
  error.message = std::move(message);
  return error;
}

}  // namespace
}  // namespace detail

Config default_config() {
  Config config;
  ProbeConfig root;
  root.name = "root";
  root.type = "disk";
  root.settings = DiskProbeConfig{};  // path "/"
  ProbeConfig memory;
  memory.name = "memory";
  memory.type = "memory";
  memory.settings = MemoryProbeConfig{};
  config.probes.push_back(std::move(root));
  config.probes.push_back(std::move(memory));
  return config;
}

std::string ConfigError::to_string(std::string_view file_name) const {
  std::string out(file_name);
  if (line > 0) {
    if (!out.empty()) out += ':';
    out += std::to_string(line);
    if (column > 0) {
      out += ':';
      out += std::to_string(column);
    }
  }
  if (!out.empty()) out += ": ";
  if (!key.empty()) {
    out += key;
    out += ": ";
  }
  out += message;
  return out;
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

LoadResult load_config_text(std::string_view yaml_text, const EnvLookup& env) {
  LoadResult result;
  detail::YamlDocument document;
  try {
    document = detail::parse_yaml_document(yaml_text);
  } catch (const YAML::Exception& e) {
    // A syntax error leaves no tree to validate: it is the only error reported.
    result.errors.push_back(detail::error_at(e.mark, e.msg));
    return result;
  }

  if (document.second_start) {
    result.errors.push_back(detail::error_at(
        *document.second_start, "expected one YAML document, found more (a \"---\" line?)"));
  }
  // An empty file, only comments, or an empty document: every default.
  Config config = default_config();
  if (!document.root.IsNull()) {
    detail::ValueReader reader(env, result.errors);
    try {
      detail::read_document(document.root, reader, config);
    } catch (const YAML::Exception& e) {
      // Reading a parsed tree should not throw; if yaml-cpp does, say so plainly rather
      // than letting it escape. The fuzz target treats this message as a bug.
      result.errors.push_back(detail::error_at(e.mark, "internal error: " + e.msg));
    }
  }
  if (!result.errors.empty()) {
    // Readers report section by section; users read the file top to bottom.
    std::stable_sort(
        result.errors.begin(), result.errors.end(), [](const ConfigError& a, const ConfigError& b) {
          return detail::Position{a.line, a.column} < detail::Position{b.line, b.column};
        });
    return result;
  }
  result.config = std::move(config);
  return result;
}

LoadResult load_config_file(const std::string& path, const EnvLookup& env) {
  detail::FileRead read = detail::read_regular_file(path, detail::kMaxConfigBytes);
  if (!read.contents) {
    LoadResult result;
    result.errors.push_back(ConfigError{0, 0, {}, "read " + path + ": " + read.reason});
    return result;
  }
  return load_config_text(*read.contents, env);
}

}  // namespace covet::config
