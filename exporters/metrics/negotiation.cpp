#include "exporters/metrics/negotiation.h"

#include <optional>

#include "exporters/metrics/exposition.h"

namespace covet::metrics {
namespace {

// q-values are kept in thousandths, as RFC 9110 §12.4.2 allows at most three decimals.
constexpr int kFullWeight = 1000;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Tokens in these headers are case-insensitive; `lower` is already lower case.
bool token_is(std::string_view token, std::string_view lower) {
  if (token.size() != lower.size()) return false;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (ascii_lower(token[i]) != lower[i]) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view text) {
  const std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  const std::size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// Calls visit(piece) for each trimmed, non-empty piece of `text` between `separator`s that
// are outside quoted strings, so a quoted parameter value may hold ',' or ';'. An unclosed
// quote runs to the end of the text: that piece is garbage and no match for anything.
template <typename Visit>
void for_each_piece(std::string_view text, char separator, Visit&& visit) {
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size()) {
      const char c = text[i];
      if (quoted && c == '\\') {
        ++i;  // quoted-pair: the next byte is literal
        continue;
      }
      if (c == '"') quoted = !quoted;
      if (quoted || c != separator) continue;
    }
    const std::string_view piece = trim_ows(text.substr(start, i - start));
    if (!piece.empty()) visit(piece);
    start = i + 1;
  }
}

// RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
std::optional<int> parse_qvalue(std::string_view text) {
  if (text.empty() || (text[0] != '0' && text[0] != '1')) return std::nullopt;
  int weight = (text[0] - '0') * kFullWeight;
  if (text.size() == 1) return weight;
  if (text[1] != '.' || text.size() > 5) return std::nullopt;
  int scale = kFullWeight / 10;
  for (char c : text.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    weight += (c - '0') * scale;
    scale /= 10;
  }
  if (weight > kFullWeight) return std::nullopt;
  return weight;
}

std::string_view unquote(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

// One element of Accept or Accept-Encoding: "type/subtype;version=1.0.0;q=0.5" or "gzip;q=1".
struct Element {
  std::string_view name;     // the media range or coding, as sent
  std::string_view version;  // the version parameter, unquoted; empty when absent
  int weight = kFullWeight;
  bool valid = true;  // false: a malformed q, and the element counts for nothing
};

Element parse_element(std::string_view text) {
  Element element;
  // Names (media ranges, codings) are tokens: the first ';' ends one.
  const std::size_t semicolon = text.find(';');
  element.name = trim_ows(text.substr(0, semicolon));
  if (semicolon == std::string_view::npos) return element;
  for_each_piece(text.substr(semicolon + 1), ';', [&](std::string_view parameter) {
    const std::size_t equals = parameter.find('=');
    if (equals == std::string_view::npos) return;  // a bare parameter name: ignored
    const std::string_view name = trim_ows(parameter.substr(0, equals));
    const std::string_view value = unquote(trim_ows(parameter.substr(equals + 1)));
    if (token_is(name, "q")) {
      const std::optional<int> weight = parse_qvalue(value);
      element.valid = element.valid && weight.has_value();
      element.weight = weight.value_or(0);
    } else if (token_is(name, "version")) {
      element.version = value;
    }
  });
  return element;
}

// RFC 9110 §12.5.1: the most specific range that matches decides the weight; among
// equally specific ones we take the highest, the reading that serves the client best.
struct Preference {
  int specificity = -1;  // -1: nothing matched
  int weight = 0;

  void offer(int element_specificity, int element_weight) {
    if (element_specificity > specificity) {
      specificity = element_specificity;
      weight = element_weight;
    } else if (element_specificity == specificity && element_weight > weight) {
      weight = element_weight;
    }
  }
  bool matched() const { return specificity >= 0; }
};

struct MediaRange {
  std::string_view type;
  std::string_view subtype;
};

std::optional<MediaRange> split_media_range(std::string_view name) {
  const std::size_t slash = name.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const MediaRange range{trim_ows(name.substr(0, slash)), trim_ows(name.substr(slash + 1))};
  if (range.type.empty() || range.subtype.empty()) return std::nullopt;
  return range;
}

}  // namespace

scrape::Format choose_format(std::string_view accept) {
  Preference openmetrics;  // for application/openmetrics-text; version=1.0.0
  Preference text;         // for text/plain; version=0.0.4
  for_each_piece(accept, ',', [&](std::string_view piece) {
    const Element element = parse_element(piece);
    if (!element.valid) return;
    const std::optional<MediaRange> range = split_media_range(element.name);
    if (!range) return;
    const bool any_version = element.version.empty();
    if (token_is(range->type, "application") && token_is(range->subtype, "openmetrics-text")) {
      // Version 0.0.1 is a format we do not write; asking for it is not asking for 1.0.0.
      if (any_version || element.version == "1.0.0") {
        openmetrics.offer(any_version ? 1 : 2, element.weight);
      }
    } else if (token_is(range->type, "text")) {
      if (token_is(range->subtype, "plain")) {
        if (any_version || element.version == "0.0.4")
          text.offer(any_version ? 2 : 3, element.weight);
      } else if (range->subtype == "*") {
        text.offer(1, element.weight);
      }
    } else if (range->type == "*" && range->subtype == "*") {
      text.offer(0, element.weight);
    }
  });
  const int text_weight = text.matched() ? text.weight : 0;
  if (openmetrics.matched() && openmetrics.weight > 0 && openmetrics.weight >= text_weight) {
    return scrape::Format::openmetrics;
  }
  return scrape::Format::prometheus_text;
}

bool accepts_gzip(std::string_view accept_encoding) {
  Preference gzip;  // named: gzip or x-gzip (RFC 9110 §8.4.1.3)
  Preference any;   // "*"
  for_each_piece(accept_encoding, ',', [&](std::string_view piece) {
    const Element element = parse_element(piece);
    if (!element.valid) return;
    if (token_is(element.name, "gzip") || token_is(element.name, "x-gzip")) {
      gzip.offer(0, element.weight);
    } else if (element.name == "*") {
      any.offer(0, element.weight);
    }
  });
  if (gzip.matched()) return gzip.weight > 0;
  return any.matched() && any.weight > 0;
}

std::string_view content_type(scrape::Format format) {
  return format == scrape::Format::openmetrics ? kOpenMetricsContentType
                                               : std::string_view(kTextContentType);
}

}  // namespace covet::metrics
