// The `scrape:` list: the app metrics pages the sidecar fetches and re-exports, with their
// labels, credentials, TLS, bounds and rules.

#include <algorithm>
#include <array>
#include <limits>
#include <regex>
#include <string_view>
#include <unordered_map>

#include "config/duration.h"
#include "config/mapping_reader.h"
#include "config/schema_readers.h"
#include "config/tls_schema.h"

namespace covet::config::detail {

std::string read_item_name(const MappingReader& mapping, const Field& item, ValueReader& reader,
                           std::unordered_map<std::string, Position>& seen, const ItemName& what) {
  const std::optional<Field> field = mapping.find("name");
  if (!field) {
    reader.report(item, "missing required key \"name\"");
    return {};
  }
  const std::optional<Scalar> name = reader.scalar(*field, what.expected);
  if (!name) return {};
  const bool plain =
      !name->value.empty() && std::all_of(name->value.begin(), name->value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
      });
  if (!plain) {
    reader.report(*field, "invalid " + std::string(what.noun) + " name " + name->shown +
                              ": use letters, digits, '_', '.' or '-' (it is " +
                              std::string(what.label_use) + ")");
    return {};
  }
  if (const auto [first, inserted] = seen.emplace(name->value, field->at); !inserted) {
    reader.report(*field, "duplicate " + std::string(what.noun) + " name " + name->shown +
                              " (first at line " + std::to_string(first->second.line) + ")");
    return {};
  }
  return name->value;
}

namespace {

constexpr std::array<std::string_view, 11> kTargetKeys{
    "name",       "url", "timeout",    "min_interval",   "labels", "bearer_token_file",
    "basic_auth", "tls", "max_series", "max_body_bytes", "rules"};
constexpr std::array<std::string_view, 2> kBasicAuthKeys{"username", "password_file"};
constexpr std::array<std::string_view, 5> kScrapeTlsKeys{"ca_file", "cert_file", "key_file",
                                                         "server_name", "insecure_skip_verify"};
constexpr std::array<std::string_view, 5> kRuleKeys{"action", "metric", "label", "regex", "to"};

// A fetch runs while Prometheus waits for our /metrics; past a minute it has given up.
constexpr Duration kMaxTimeout{60'000};
// A page served again for longer than this is no longer a cache but stale data.
constexpr Duration kMaxMinInterval{3'600'000};

// Prometheus' label name syntax, [a-zA-Z_][a-zA-Z0-9_]*.
bool is_label_name_syntax(std::string_view name) {
  if (name.empty()) return false;
  const auto start = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (!start(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return start(c) || (c >= '0' && c <= '9'); });
}

// The problem with `name` as a label name, or empty when it is a valid one. Names starting
// with "__" are reserved for Prometheus' own use.
std::string label_name_problem(std::string_view name) {
  if (!is_label_name_syntax(name)) {
    return "invalid label name \"" + std::string(name) +
           "\": expected a letter or '_', then letters, digits or '_'";
  }
  if (name.starts_with("__")) {
    return "invalid label name \"" + std::string(name) +
           "\": names starting with \"__\" are reserved for Prometheus";
  }
  return {};
}

// A label name written as a value (a rule's `label` and `to`).
std::optional<std::string> read_label_name(const Field& field, ValueReader& reader) {
  std::optional<Scalar> name = reader.scalar(field, "a label name");
  if (!name) return std::nullopt;
  if (const std::string problem = label_name_problem(name->value); !problem.empty()) {
    reader.report(field, problem);
    return std::nullopt;
  }
  return std::move(name->value);
}

// A regex compiled once here, so that a bad one is reported with its line instead of
// failing every fetch. Regexes are not secret: the pattern is quoted back.
std::optional<std::string> read_regex(const Field& field, ValueReader& reader, bool allow_empty,
                                      std::string_view empty_hint) {
  std::optional<Scalar> pattern = reader.scalar(field, "a regular expression");
  if (!pattern) return std::nullopt;
  if (pattern->value.empty() && !allow_empty) {
    reader.report(field,
                  "expected a non-empty regular expression (" + std::string(empty_hint) + ")");
    return std::nullopt;
  }
  try {
    std::regex compiled(pattern->value, std::regex::ECMAScript);
  } catch (const std::regex_error& error) {
    reader.report(
        field, "invalid regular expression " + pattern->shown + ": " + std::string(error.what()));
    return std::nullopt;
  }
  return std::move(pattern->value);
}

// `labels: { name: value }`, in file order. Names are not expanded (keys never are);
// values are, so "${POD_NAME:-}" works. An empty value is the empty string.
std::optional<std::vector<std::pair<std::string, std::string>>> read_labels(const Field& field,
                                                                            ValueReader& reader) {
  std::vector<std::pair<std::string, std::string>> labels;
  if (field.value.IsNull()) return labels;
  if (!field.value.IsMap()) {
    reader.report(field, "expected a mapping of label names to values");
    return std::nullopt;
  }
  bool ok = true;
  std::unordered_map<std::string, Position> seen;  // name -> first position
  for (const auto& pair : field.value) {
    const Position key_at = position_of(pair.first);
    if (!pair.first.IsScalar()) {
      reader.report(key_at, field.path, "keys must be plain strings");
      ok = false;
      continue;
    }
    const std::string& name = pair.first.Scalar();
    const Field value_field{field.path + "." + name, pair.second,
                            pair.second.IsNull() ? key_at : position_of(pair.second), key_at};
    if (const std::string problem = label_name_problem(name); !problem.empty()) {
      reader.report(key_at, field.path, problem);
      ok = false;
      continue;
    }
    const auto [first, inserted] = seen.emplace(name, key_at);
    if (!inserted) {
      reader.report(key_at, value_field.path,
                    "duplicate label (first at line " + std::to_string(first->second.line) + ")");
      ok = false;
      continue;
    }
    std::optional<std::string> value =
        pair.second.IsNull() ? std::optional<std::string>("") : reader.text(value_field);
    if (!value) {
      ok = false;
      continue;
    }
    labels.emplace_back(name, std::move(*value));
  }
  if (!ok) return std::nullopt;
  return labels;
}

// `basic_auth: { username, password_file }`: both required. The password is read from its
// file at each fetch.
void read_basic_auth(const Field& field, ValueReader& reader, ScrapeTargetConfig& target) {
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kBasicAuthKeys);
  if (!field.value.IsNull() && !field.value.IsMap()) return;  // reported by the mapping
  if (const std::optional<Field> username = mapping.find("username")) {
    if (std::optional<Scalar> value = reader.scalar(*username, "a user name")) {
      if (value->value.empty()) {
        reader.report(*username, "expected a non-empty user name");
      } else if (value->value.find(':') != std::string::npos) {
        // RFC 7617: the first ':' of "user:password" ends the user name.
        reader.report(*username, "a basic auth user name cannot contain ':'");
      } else {
        target.basic_auth_username = std::move(value->value);
      }
    }
  } else {
    reader.report(field.key_at, field.path, "missing required key \"username\"");
  }
  if (const std::optional<Field> password_file = mapping.find("password_file")) {
    if (std::optional<std::string> path = reader.absolute_path(*password_file)) {
      target.basic_auth_password_file = std::move(*path);
    }
  } else {
    reader.report(field.key_at, field.path,
                  "missing required key \"password_file\" (the file holding the password)");
  }
}

}  // namespace

void read_client_tls(const Field& field, ValueReader& reader, ScrapeTlsConfig& tls) {
  const MappingReader mapping(field.value, field.path, field.at, reader);
  mapping.reject_unknown(kScrapeTlsKeys);
  const auto path = [&](const Field& f) { return reader.absolute_path(f); };
  read_key(mapping, "ca_file", tls.ca_file, path);
  const KeyRead cert = read_key(mapping, "cert_file", tls.cert_file, path);
  const KeyRead key = read_key(mapping, "key_file", tls.key_file, path);
  read_key(mapping, "server_name", tls.server_name, [&](const Field& f) {
    std::optional<Scalar> name = reader.scalar(f, "a host name");
    if (!name) return std::optional<std::string>{};
    if (!is_server_name(name->value)) {
      reader.report(f, "invalid server name " + name->shown +
                           ": expected a host name such as app.example.com, without a port");
      return std::optional<std::string>{};
    }
    return std::optional<std::string>(std::move(name->value));
  });
  read_key(mapping, "insecure_skip_verify", tls.insecure_skip_verify,
           [&](const Field& f) { return reader.boolean(f); });
  // A client certificate is presented with its key; one without the other is a mistake.
  if (cert.at && !key.at) {
    reader.report(*cert.at, mapping.path_of("cert_file"),
                  "\"cert_file\" needs \"key_file\" (the client certificate's private key)");
  }
  if (key.at && !cert.at) {
    reader.report(*key.at, mapping.path_of("key_file"),
                  "\"key_file\" needs \"cert_file\" (the client certificate)");
  }
}

namespace {

ScrapeRule read_rule(const Field& item, ValueReader& reader) {
  const MappingReader mapping(item.value, item.path, item.at, reader);
  mapping.reject_unknown(kRuleKeys);
  ScrapeRule rule;
  const std::optional<Field> action_field = mapping.find("action");
  std::optional<ScrapeRuleAction> action;
  if (action_field) {
    action = reader.choice<ScrapeRuleAction>(*action_field, kScrapeRuleActions);
  } else {
    reader.report(item, "missing required key \"action\" (keep, drop or rename_label)");
  }
  if (action) rule.action = *action;
  const Position action_at = action_field ? action_field->at : item.at;

  const KeyRead metric = read_key(mapping, "metric", rule.metric, [&](const Field& f) {
    return read_regex(f, reader, false, "leave metric out to match every metric");
  });
  const KeyRead label = read_key(mapping, "label", rule.label,
                                 [&](const Field& f) { return read_label_name(f, reader); });
  // An empty regex is meaningful: a missing label's value is "".
  const KeyRead regex = read_key(mapping, "regex", rule.regex,
                                 [&](const Field& f) { return read_regex(f, reader, true, ""); });
  const KeyRead to =
      read_key(mapping, "to", rule.to, [&](const Field& f) { return read_label_name(f, reader); });
  if (!action) return rule;  // which keys belong together depends on the action

  if (*action == ScrapeRuleAction::rename_label) {
    if (!label.at) {
      reader.report(action_at, mapping.path(),
                    "a rename_label rule needs \"label\" (the label to rename)");
    }
    if (!to.at) {
      reader.report(action_at, mapping.path(), "a rename_label rule needs \"to\" (the new name)");
    }
    if (regex.at) {
      reader.report(*regex.at, mapping.path_of("regex"),
                    "\"regex\" is not used by rename_label (use \"metric\" to choose families)");
    }
    // Buckets and quantiles are found by these names: renaming them breaks the family.
    const auto reserved = [&](const KeyRead& read, const std::string& value, std::string_view key,
                              std::string_view verb) {
      if (!read.at || !read.ok || (value != "le" && value != "quantile")) return false;
      reader.report(*read.at, mapping.path_of(key),
                    std::string(verb) + " \"" + value + "\": histograms and summaries need it");
      return true;
    };
    const bool label_reserved = reserved(label, rule.label, "label", "cannot rename");
    const bool to_reserved = reserved(to, rule.to, "to", "cannot rename to");
    // "le" to "le" is one mistake, already reported.
    if (!label_reserved && !to_reserved && label.ok && to.ok && label.at && to.at &&
        rule.label == rule.to) {
      reader.report(*to.at, mapping.path_of("to"), "\"to\" is the same as \"label\"");
    }
    return rule;
  }

  // keep and drop: on families (`metric`), on series (`label` with `regex`), or both.
  const std::string name(name_of<ScrapeRuleAction>(kScrapeRuleActions, *action));
  if (to.at) {
    reader.report(*to.at, mapping.path_of("to"), "\"to\" is only used by rename_label");
  }
  if (label.at && !regex.at) {
    reader.report(*label.at, mapping.path_of("label"),
                  "\"label\" needs \"regex\" (matched against the label's value)");
  }
  if (regex.at && !label.at) {
    reader.report(*regex.at, mapping.path_of("regex"),
                  "\"regex\" needs \"label\" (the label whose value it matches)");
  }
  if (!metric.at && !label.at && !regex.at) {
    reader.report(action_at, mapping.path(),
                  "a " + name +
                      " rule needs \"metric\" (a regex on metric names) or \"label\" with "
                      "\"regex\"");
  }
  return rule;
}

std::optional<std::vector<ScrapeRule>> read_rules(const Field& field, ValueReader& reader) {
  std::vector<ScrapeRule> rules;
  if (field.value.IsNull()) return rules;
  const std::optional<std::vector<Field>> items =
      read_sequence(field, "a list of rules (use [] for none)", reader);
  if (!items) return std::nullopt;
  for (const Field& item : *items) {
    if (!item.value.IsMap()) {
      reader.report(item, "expected a rule: a mapping with at least action");
      continue;
    }
    rules.push_back(read_rule(item, reader));
  }
  return rules;
}

// Name -> where it was first used, for the uniqueness check across the list.
using SeenNames = std::unordered_map<std::string, Position>;

ScrapeTargetConfig read_target(const Field& item, ValueReader& reader, SeenNames& seen,
                               Duration request_timeout) {
  const MappingReader mapping(item.value, item.path, item.at, reader);
  mapping.reject_unknown(kTargetKeys);
  ScrapeTargetConfig target;

  target.name =
      read_item_name(mapping, item, reader, seen,
                     {"target", "a target name", "the target label of covet_sidecar_scrape_*"});

  const std::optional<Field> url = mapping.find("url");
  bool url_ok = false;
  if (url) {
    if (std::optional<std::string> value = read_url(*url, reader)) {
      target.url = std::move(*value);
      url_ok = true;
    }
  } else {
    reader.report(item, "missing required key \"url\" (e.g. http://127.0.0.1:8000/metrics)");
  }

  read_key(mapping, "timeout", target.timeout,
           [&](const Field& f) { return reader.duration(f, Duration{1}, kMaxTimeout); });
  // /metrics waits for the fetch, and the server answers 503 to a request still unanswered
  // after server.request_timeout: the fetch has to give up first.
  if (target.timeout >= request_timeout) {
    const std::string message = "timeout " + format_duration(target.timeout) +
                                " must be below server.request_timeout (" +
                                format_duration(request_timeout) +
                                "): /metrics waits for this fetch and is cut at request_timeout";
    if (const std::optional<Field> timeout = mapping.find("timeout")) {
      reader.report(*timeout, message);
    } else {
      reader.report(item, message);
    }
  }
  read_key(mapping, "min_interval", target.min_interval,
           [&](const Field& f) { return reader.duration(f, Duration{0}, kMaxMinInterval); });
  read_key(mapping, "labels", target.labels,
           [&](const Field& f) { return read_labels(f, reader); });

  const KeyRead bearer = read_key(mapping, "bearer_token_file", target.bearer_token_file,
                                  [&](const Field& f) { return reader.absolute_path(f); });
  const std::optional<Field> basic_auth = mapping.find("basic_auth");
  if (basic_auth) read_basic_auth(*basic_auth, reader, target);
  if (bearer.at && basic_auth) {
    const Position later = std::max(*bearer.at, basic_auth->key_at,
                                    [](const Position& a, const Position& b) { return a < b; });
    reader.report(later, mapping.path(),
                  "set only one of \"bearer_token_file\" and \"basic_auth\"");
  }

  if (const std::optional<Field> tls = mapping.find("tls")) {
    read_client_tls(*tls, reader, target.tls);
    // Without https there is no handshake for these settings to apply to.
    if (url_ok && target.url.starts_with("http://")) {
      reader.report(tls->key_at, tls->path, "tls is set but url is http://");
    }
  }

  read_key(mapping, "max_series", target.max_series, [&](const Field& f) {
    return reader.integer(f, 1, std::numeric_limits<std::uint32_t>::max());
  });
  read_key(mapping, "max_body_bytes", target.max_body_bytes,
           [&](const Field& f) { return reader.size(f, 1); });
  read_key(mapping, "rules", target.rules, [&](const Field& f) { return read_rules(f, reader); });
  return target;
}

}  // namespace

std::vector<ScrapeTargetConfig> read_scrape(const Field& field, ValueReader& reader,
                                            Duration request_timeout) {
  std::vector<ScrapeTargetConfig> targets;
  const std::optional<std::vector<Field>> items =
      read_sequence(field, "a list of scrape targets (use [] for none)", reader);
  if (!items) return targets;
  SeenNames seen;
  for (const Field& item : *items) {
    if (!item.value.IsMap()) {
      reader.report(item, "expected a scrape target: a mapping with at least name and url");
      continue;
    }
    targets.push_back(read_target(item, reader, seen, request_timeout));
  }
  return targets;
}

}  // namespace covet::config::detail
