#include "config/env_expand.h"

namespace covet::config {
namespace detail {
namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool is_valid_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front())) return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

// The text of one "${...}" reference, split into its parts. Error messages quote only
// this text (written in the config file), never an environment value.
struct Reference {
  std::string_view name;
  bool has_default = false;
  std::string_view fallback;
};

// `body` is what sits between "${" and "}". Returns the error text, empty on success.
std::string parse_reference(std::string_view body, Reference& out) {
  const std::size_t separator = body.find(":-");
  out.name = body.substr(0, separator);
  if (separator != std::string_view::npos) {
    out.has_default = true;
    out.fallback = body.substr(separator + 2);
  }
  if (!is_valid_name(out.name)) {
    return "invalid variable reference \"${" + std::string(body) +
           "}\": expected ${NAME} or ${NAME:-default}, NAME made of letters, digits and _";
  }
  // A default holding another reference would need nested expansion, which we do not do;
  // refusing it beats silently keeping "${" in the value.
  if (out.fallback.find("${") != std::string_view::npos) {
    return "invalid variable reference \"${" + std::string(body) +
           "}\": a default cannot contain another ${...}";
  }
  return {};
}

}  // namespace
}  // namespace detail

ExpandResult expand_env(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, dollar - i));
    const std::string_view after = text.substr(dollar + 1);
    if (after.starts_with('$')) {  // "$$" is an escaped "$"
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (!after.starts_with('{')) {  // a lone "$" (e.g. in a password regex) stays literal
      out += '$';
      i = dollar + 1;
      continue;
    }
    const std::size_t close = after.find('}');
    if (close == std::string_view::npos) {
      return {std::nullopt, "unterminated \"${\": expected ${NAME} or ${NAME:-default}"};
    }
    detail::Reference reference;
    if (std::string error = detail::parse_reference(after.substr(1, close - 1), reference);
        !error.empty()) {
      return {std::nullopt, std::move(error)};
    }
    const std::optional<std::string> value = env ? env(reference.name) : std::nullopt;
    // Like the shell's ${VAR:-default}: an empty value also takes the default.
    if (value && (!value->empty() || !reference.has_default)) {
      out += *value;
    } else if (reference.has_default) {
      out.append(reference.fallback);
    } else {
      const std::string name(reference.name);
      return {std::nullopt, "environment variable " + name + " is not set (use ${" + name +
                                ":-default} for a default)"};
    }
    i = dollar + 1 + close + 1;
  }
  return {std::move(out), {}};
}

}  // namespace covet::config
