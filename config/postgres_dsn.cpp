#include "config/postgres_dsn.h"

#include <array>

namespace covet::config {
namespace {

// libpq keywords whose values are secrets.
constexpr std::array<std::string_view, 2> kSecretKeys{"password", "sslpassword"};

bool is_secret_key(std::string_view key) {
  for (std::string_view secret : kSecretKeys) {
    if (key == secret) return true;
  }
  return false;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// libpq's URI grammar (conninfo_uri_parse_options): the user info ends at the first '@'
// before any '/'; the query string's parameters are separated by '&'.
std::string redact_uri(std::string_view uri) {
  const std::size_t scheme_end = uri.find("://") + 3;
  std::string out(uri.substr(0, scheme_end));
  std::string_view rest = uri.substr(scheme_end);

  const std::size_t info_end = rest.find_first_of("@/");
  if (info_end != std::string_view::npos && rest[info_end] == '@') {
    std::string_view user_info = rest.substr(0, info_end);
    out.append(user_info.substr(0, user_info.find(':')));  // the user, without ":password"
    rest.remove_prefix(info_end);
  }
  const std::size_t query_start = rest.find('?');
  out.append(rest.substr(0, query_start));
  if (query_start == std::string_view::npos) return out;

  std::string_view query = rest.substr(query_start + 1);
  char separator = '?';
  while (!query.empty()) {
    const std::size_t end = query.find('&');
    std::string_view parameter = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view{} : query.substr(end + 1);
    std::string_view key = parameter.substr(0, parameter.find('='));
    if (is_secret_key(key)) continue;
    out.push_back(separator);
    separator = '&';
    out.append(parameter);
  }
  return out;
}

// One key=value pair as libpq's conninfo_parse reads it: spaces around '=', a value either
// single-quoted (backslash escapes inside) or running to the next space.
struct Pair {
  std::string_view key;
  std::string value;      // unescaped, for a dbname that is itself a connection string
  std::string_view text;  // the whole pair as written
  bool ok = false;
};

Pair next_pair(std::string_view& in) {
  Pair pair;
  std::size_t i = 0;
  const std::size_t start = i;
  while (i < in.size() && in[i] != '=' && !is_space(in[i])) ++i;
  pair.key = in.substr(start, i - start);
  while (i < in.size() && is_space(in[i])) ++i;
  if (pair.key.empty() || i >= in.size() || in[i] != '=') return pair;
  ++i;
  while (i < in.size() && is_space(in[i])) ++i;
  if (i < in.size() && in[i] == '\'') {
    ++i;
    for (;; ++i) {
      if (i >= in.size()) return pair;  // unterminated quote
      if (in[i] == '\\' && i + 1 < in.size()) {
        pair.value.push_back(in[++i]);
      } else if (in[i] == '\'') {
        ++i;
        break;
      } else {
        pair.value.push_back(in[i]);
      }
    }
  } else {
    for (; i < in.size() && !is_space(in[i]); ++i) {
      if (in[i] == '\\' && i + 1 < in.size()) ++i;
      pair.value.push_back(in[i]);
    }
  }
  pair.text = in.substr(0, i);
  pair.ok = true;
  in.remove_prefix(i);
  return pair;
}

std::string quoted(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string redact_key_value(std::string_view in) {
  std::string out;
  for (;;) {
    while (!in.empty() && is_space(in.front())) in.remove_prefix(1);
    if (in.empty()) return out;
    Pair pair = next_pair(in);
    if (!pair.ok) return out;  // malformed: the rest may be a secret's tail
    if (is_secret_key(pair.key)) continue;
    if (!out.empty()) out.push_back(' ');
    // libpq expands a dbname that looks like a connection string (expand_dbname).
    const bool nested = pair.key == "dbname" &&
                        (is_postgres_uri(pair.value) || pair.value.find('=') != std::string::npos);
    if (nested) {
      out.append(pair.key).append("=").append(quoted(redact_dsn(pair.value)));
    } else {
      out.append(pair.text);
    }
  }
}

}  // namespace

bool is_postgres_uri(std::string_view dsn) {
  return dsn.starts_with("postgresql://") || dsn.starts_with("postgres://");
}

std::string redact_dsn(std::string_view dsn) {
  return is_postgres_uri(dsn) ? redact_uri(dsn) : redact_key_value(dsn);
}

}  // namespace covet::config
