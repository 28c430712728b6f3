#include "exporters/scrape/exposition_parser.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <utility>

#include "exporters/utf8.h"

namespace covet::scrape {
namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_label_start(char c) { return is_name_start(c) && c != ':'; }
bool is_label_char(char c) { return is_name_char(c) && c != ':'; }

// A number as the formats write one: decimal (with exponent), NaN, +Inf, -Inf; and, in any
// letter case, the spellings Go's ParseFloat (so Prometheus) also takes ("Nan" from
// prom-client, "inf", "+Infinity"). Hex floats and the like never.
std::optional<double> parse_value(std::string_view text, Format /*format*/) {
  std::string lower(text.size() <= 9 ? text : std::string_view());  // "+infinity" is longest
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "nan" || lower == "+nan" || lower == "-nan") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (lower == "inf" || lower == "+inf" || lower == "infinity" || lower == "+infinity") {
    return std::numeric_limits<double>::infinity();
  }
  if (lower == "-inf" || lower == "-infinity") return -std::numeric_limits<double>::infinity();
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return std::nullopt;
    }
  }
  std::string_view digits = text;
  if (digits.size() > 1 && digits[0] == '+') digits.remove_prefix(1);  // from_chars takes no '+'
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  // Out of range ("1e999") is an error from from_chars; Prometheus reads it as ±Inf.
  if (ec == std::errc::result_out_of_range && end == digits.data() + digits.size()) {
    return digits[0] == '-' ? -std::numeric_limits<double>::infinity()
                            : std::numeric_limits<double>::infinity();
  }
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::optional<MetricType> parse_type(std::string_view word, Format format) {
  if (word == "counter") return MetricType::counter;
  if (word == "gauge") return MetricType::gauge;
  if (word == "histogram") return MetricType::histogram;
  if (word == "summary") return MetricType::summary;
  if (format == Format::prometheus_text) {
    if (word == "untyped") return MetricType::untyped;
    return std::nullopt;
  }
  if (word == "unknown") return MetricType::untyped;
  if (word == "info") return MetricType::info;
  if (word == "stateset") return MetricType::stateset;
  if (word == "gaugehistogram") return MetricType::gaugehistogram;
  return std::nullopt;
}

// The sample names a family of `type` named `family` owns, as suffixes of the family name.
bool owns(const MetricFamily& family, std::string_view sample, Format format) {
  if (!sample.starts_with(family.name)) return false;
  const std::string_view suffix = sample.substr(family.name.size());
  const bool om = format == Format::openmetrics;
  switch (family.type) {
    case MetricType::untyped:
    case MetricType::gauge:
    case MetricType::stateset:
      return suffix.empty();
    case MetricType::counter:
      return om ? suffix == "_total" || suffix == "_created" : suffix.empty();
    case MetricType::info:
      return om ? suffix == "_info" : suffix.empty();
    case MetricType::histogram:
      return suffix == "_bucket" || suffix == "_count" || suffix == "_sum" ||
             (om && suffix == "_created");
    case MetricType::gaugehistogram:
      return suffix == "_bucket" || suffix == "_gcount" || suffix == "_gsum";
    case MetricType::summary:
      return suffix.empty() || suffix == "_count" || suffix == "_sum" ||
             (om && suffix == "_created");
  }
  return false;
}

constexpr std::array<std::string_view, 8> kSuffixes{"_total", "_created", "_info",   "_bucket",
                                                    "_count", "_sum",     "_gcount", "_gsum"};

const std::string* find_label(const std::vector<Label>& labels, std::string_view name) {
  for (const Label& label : labels) {
    if (label.name == name) return &label.value;
  }
  return nullptr;
}

// Reads one line. Every method returns false with error_ set on a problem.
class LineReader {
 public:
  LineReader(std::string_view line, Format format) : line_(line), format_(format) {}

  const std::string& error() const { return error_; }
  bool at_end() const { return pos_ >= line_.size(); }
  char peek() const { return at_end() ? '\0' : line_[pos_]; }
  void advance(std::size_t n = 1) { pos_ += n; }
  std::string_view rest() const { return line_.substr(pos_); }

  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  bool is_blank(char c) const {
    return c == ' ' || (format_ == Format::prometheus_text && c == '\t');
  }
  // Prometheus text: any run of blanks and tabs, possibly none.
  void skip_blanks() {
    if (format_ != Format::prometheus_text) return;
    while (!at_end() && is_blank(peek())) advance();
  }
  // Between tokens: one space in OpenMetrics, one or more blanks or tabs in Prometheus text.
  bool separator(std::string_view before) {
    if (at_end() || !is_blank(peek())) {
      return fail(fmt::format("expected a space before {}", before));
    }
    advance();
    if (format_ == Format::prometheus_text) {
      skip_blanks();
    } else if (!at_end() && peek() == ' ') {
      return fail("more than one space between tokens (OpenMetrics allows one)");
    }
    return true;
  }
  // Up to the next blank (or the end of the line).
  std::string_view token() {
    const std::size_t start = pos_;
    while (!at_end() && !is_blank(peek())) advance();
    return line_.substr(start, pos_ - start);
  }

  bool legacy_name(std::string& out, bool label) {
    const std::size_t start = pos_;
    if (at_end() || !(label ? is_label_start(peek()) : is_name_start(peek()))) {
      return fail(label ? "expected a label name" : "expected a metric name");
    }
    while (!at_end() && (label ? is_label_char(peek()) : is_name_char(peek()))) advance();
    out.assign(line_.substr(start, pos_ - start));
    return true;
  }

  // A double-quoted string with its escapes resolved; `what` names it in errors.
  bool quoted(std::string& out, std::string_view what) {
    if (peek() != '"') return fail(fmt::format("{}: expected '\"'", what));
    advance();
    out.clear();
    while (true) {
      // Most values have no escape: copy the run up to the next quote or backslash at once.
      const std::size_t special = line_.find_first_of("\"\\", pos_);
      if (special == std::string_view::npos) {
        return fail(fmt::format("{}: missing closing quote", what));
      }
      out.append(line_.substr(pos_, special - pos_));
      pos_ = special;
      const char c = peek();
      advance();
      if (c == '"') break;
      if (at_end()) return fail(fmt::format("{}: missing closing quote", what));
      const char escaped = peek();
      advance();
      if (escaped == '\\' || escaped == '"') {
        out.push_back(escaped);
      } else if (escaped == 'n') {
        out.push_back('\n');
      } else if (format_ == Format::prometheus_text) {
        // Prometheus keeps an unknown escape as written.
        out.push_back('\\');
        out.push_back(escaped);
      } else {
        return fail(fmt::format("{}: invalid escape \\{} (OpenMetrics has \\\\, \\\" and \\n)",
                                what, escaped));
      }
    }
    if (!text::valid_utf8(out)) return fail(fmt::format("{}: not valid UTF-8", what));
    return true;
  }

  // A metric name: legacy, or a quoted UTF-8 name (in a HELP, TYPE or UNIT line).
  bool descriptor_name(std::string& out) {
    if (peek() == '"') {
      if (!quoted(out, "metric name")) return false;
      if (out.empty()) return fail("empty metric name");
      return true;
    }
    return legacy_name(out, false);
  }

  // `{...}` after a sample's name (or in place of it); `name` may be set from inside.
  bool label_set(std::string& name, std::vector<Label>& labels, bool name_allowed) {
    advance();  // '{'
    skip_blanks();
    bool first = true;
    while (peek() != '}') {
      if (at_end()) return fail("label set: missing '}'");
      std::string key;
      if (peek() == '"') {
        if (!quoted(key, "quoted name")) return false;
        skip_blanks();
        if (peek() != '=') {
          // `{"metric.name", ...}`: the metric's name, allowed first and only without a
          // name before the brace.
          if (!first || !name_allowed || !name.empty()) {
            return fail(
                "label set: a quoted metric name must come first, instead of a name "
                "before '{'");
          }
          if (key.empty()) return fail("empty metric name");
          name = std::move(key);
          first = false;
          if (!after_label_item()) return false;
          continue;
        }
        if (key.empty()) return fail("empty label name");
      } else if (!legacy_name(key, true)) {
        return false;
      }
      skip_blanks();
      if (peek() != '=') return fail(fmt::format("label {}: expected '='", key));
      advance();
      skip_blanks();
      std::string value;
      if (!quoted(value, fmt::format("label {} value", key))) return false;
      if (find_label(labels, key) != nullptr) {
        return fail(fmt::format("label {} appears twice", key));
      }
      labels.push_back({std::move(key), std::move(value)});
      first = false;
      if (!after_label_item()) return false;
    }
    advance();  // '}'
    return true;
  }

  // After one item of a label set: ',' (then maybe '}') or '}'.
  bool after_label_item() {
    skip_blanks();
    if (peek() == ',') {
      advance();
      skip_blanks();
      return true;
    }
    if (peek() == '}') return true;
    if (at_end()) return fail("label set: missing '}'");
    return fail(fmt::format("label set: expected ',' or '}}', got '{}'", peek()));
  }

 private:
  std::string_view line_;
  Format format_;
  std::size_t pos_ = 0;
  std::string error_;
};

class PageBuilder {
 public:
  explicit PageBuilder(Format format) : format_(format) { page_.format = format; }

  // HELP, TYPE or UNIT for `name`.
  bool describe(std::string_view kind, const std::string& name, std::string_view value,
                std::string& error) {
    std::size_t index = find(name);
    if (index == kNone) {
      index = add_family(name);
    } else if (format_ == Format::openmetrics && index != current_) {
      error = fmt::format("{} for {}: its family appeared earlier, not together", kind, name);
      return false;
    }
    MetricFamily& family = page_.families[index];
    if (!family.samples.empty()) {
      error = fmt::format("{} for {} after its samples", kind, name);
      return false;
    }
    Seen& seen = seen_[index];
    if (kind == "HELP") {
      if (seen.help) return duplicate(kind, name, error);
      seen.help = true;
      family.help = std::string(value);
    } else if (kind == "TYPE") {
      if (seen.type) return duplicate(kind, name, error);
      seen.type = true;
      const std::optional<MetricType> type = parse_type(value, format_);
      if (!type) {
        error = fmt::format("TYPE for {}: unknown type \"{}\"", name, value);
        return false;
      }
      family.type = *type;
    } else {  // UNIT
      if (seen.unit) return duplicate(kind, name, error);
      seen.unit = true;
      if (!value.empty() && !name.ends_with("_" + std::string(value))) {
        error = fmt::format("UNIT {} for {}: the name must end in _{}", value, name, value);
        return false;
      }
      family.unit = std::string(value);
    }
    current_ = index;
    return true;
  }

  bool add(Sample sample, std::string& error) {
    std::size_t index = owner(sample.name);
    if (index == kNone && find(sample.name) != kNone) {
      // `h 1` on a page that declared a histogram h: h's samples are h_bucket, h_sum, h_count.
      const MetricFamily& named = page_.families[find(sample.name)];
      error = fmt::format("sample {} does not belong to {} {} of the same name", sample.name,
                          type_name(named.type, format_), named.name);
      return false;
    }
    if (index == kNone) {
      index = add_family(sample.name);
    } else if (index != current_ && format_ == Format::openmetrics) {
      error = fmt::format("sample {}: its family {} appeared earlier, not together", sample.name,
                          page_.families[index].name);
      return false;
    }
    current_ = index;
    MetricFamily& family = page_.families[index];
    if (!check(family, sample, error)) return false;
    family.samples.push_back(std::move(sample));
    return true;
  }

  Page take() { return std::move(page_); }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  struct Seen {
    bool help = false;
    bool type = false;
    bool unit = false;
  };

  bool duplicate(std::string_view kind, const std::string& name, std::string& error) {
    error = fmt::format("second {} line for {}", kind, name);
    return false;
  }

  std::size_t find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? kNone : it->second;
  }

  std::size_t add_family(std::string_view name) {
    MetricFamily family;
    family.name = std::string(name);
    page_.families.push_back(std::move(family));
    seen_.emplace_back();
    index_.emplace(std::string(name), page_.families.size() - 1);
    return page_.families.size() - 1;
  }

  // The family a sample name belongs to: the current one, the family of that exact name,
  // or a typed family the name is a suffixed sample of.
  std::size_t owner(const std::string& sample) const {
    if (current_ != kNone && owns(page_.families[current_], sample, format_)) return current_;
    if (std::size_t exact = find(sample); exact != kNone) {
      if (owns(page_.families[exact], sample, format_)) return exact;
    }
    for (std::string_view suffix : kSuffixes) {
      if (!sample.ends_with(suffix) || sample.size() == suffix.size()) continue;
      const std::size_t base = find(sample.substr(0, sample.size() - suffix.size()));
      if (base != kNone && owns(page_.families[base], sample, format_)) return base;
    }
    return kNone;
  }

  bool check(const MetricFamily& family, const Sample& sample, std::string& error) const {
    const std::string_view suffix = std::string_view(sample.name).substr(family.name.size());
    const bool histogram =
        family.type == MetricType::histogram || family.type == MetricType::gaugehistogram;
    if (histogram && suffix == "_bucket") {
      const std::string* le = find_label(sample.labels, "le");
      if (le == nullptr || !parse_value(*le, format_)) {
        error = fmt::format("{}: a histogram bucket needs a numeric \"le\" label", sample.name);
        return false;
      }
    }
    if (family.type == MetricType::summary && suffix.empty()) {
      const std::string* quantile = find_label(sample.labels, "quantile");
      if (quantile == nullptr || !parse_value(*quantile, format_)) {
        error =
            fmt::format("{}: a summary quantile needs a numeric \"quantile\" label", sample.name);
        return false;
      }
    }
    if (sample.exemplar) {
      const bool allowed = (family.type == MetricType::counter && suffix == "_total") ||
                           (histogram && suffix == "_bucket");
      if (!allowed) {
        error = fmt::format(
            "{}: exemplars belong on counter _total and histogram _bucket "
            "samples only",
            sample.name);
        return false;
      }
    }
    return true;
  }

  Format format_;
  Page page_;
  std::vector<Seen> seen_;
  std::unordered_map<std::string, std::size_t> index_;
  std::size_t current_ = kNone;
};

class PageParser {
 public:
  explicit PageParser(Format format) : format_(format), builder_(format) {}

  // False with error_ set when the line is bad.
  bool line(std::string_view text) {
    if (eof_) return fail("content after # EOF");
    if (text.ends_with('\r')) return fail("carriage return at the end of the line (\\n only)");
    if (format_ == Format::openmetrics && text.empty()) {
      return fail("empty line (OpenMetrics allows none)");
    }
    LineReader reader(text, format_);
    reader.skip_blanks();
    if (reader.at_end()) return true;  // a blank line in Prometheus text
    if (format_ == Format::openmetrics && (text[0] == ' ')) {
      return fail("leading space (OpenMetrics allows none)");
    }
    const bool ok = reader.peek() == '#' ? comment(reader) : sample(reader);
    if (!ok && error_.empty()) error_ = reader.error();
    return ok;
  }

  bool finish() {
    if (format_ == Format::openmetrics && !eof_) return fail("missing # EOF at the end");
    return true;
  }

  Page take() { return builder_.take(); }
  const std::string& error() const { return error_; }

 private:
  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  bool comment(LineReader& reader) {
    reader.advance();  // '#'
    if (format_ == Format::openmetrics) {
      if (reader.rest() == " EOF") {
        eof_ = true;
        return true;
      }
      if (reader.peek() != ' ')
        return fail("expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\"");
      reader.advance();
    } else {
      reader.skip_blanks();
    }
    const std::string_view rest = reader.rest();
    std::string_view kind;
    for (std::string_view word : {"HELP", "TYPE", "UNIT"}) {
      if (rest.starts_with(word) && (rest.size() == word.size() || reader.is_blank(rest[4]))) {
        kind = word;
      }
    }
    if (kind == "UNIT" && format_ == Format::prometheus_text) kind = {};
    if (kind.empty()) {
      // A free comment: fine in Prometheus text, not in OpenMetrics.
      if (format_ == Format::prometheus_text) return true;
      return fail("expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\"");
    }
    reader.advance(kind.size());
    if (!reader.separator("the metric name")) return false;
    std::string name;
    if (!reader.descriptor_name(name)) return false;
    std::string value;
    if (kind == "HELP") {
      if (!reader.at_end()) {
        if (!reader.separator("the help text")) return false;
        if (!unescape_help(reader.rest(), value)) return false;
      }
    } else {
      if (!reader.separator(kind == "TYPE" ? "the type" : "the unit")) return false;
      value = std::string(reader.token());
      reader.skip_blanks();
      if (!reader.at_end()) return fail(fmt::format("{} {}: unexpected text after it", kind, name));
      if (kind == "TYPE" && value.empty()) return fail(fmt::format("TYPE {}: missing type", name));
    }
    return builder_.describe(kind, name, value, error_);
  }

  bool unescape_help(std::string_view text, std::string& out) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '\\' || i + 1 == text.size()) {
        out.push_back(text[i]);
        continue;
      }
      const char escaped = text[++i];
      if (escaped == '\\') {
        out.push_back('\\');
      } else if (escaped == 'n') {
        out.push_back('\n');
      } else if (escaped == '"' && format_ == Format::openmetrics) {
        out.push_back('"');
      } else if (format_ == Format::prometheus_text) {
        out.push_back('\\');
        out.push_back(escaped);
      } else {
        return fail(fmt::format("HELP: invalid escape \\{}", escaped));
      }
    }
    if (!text::valid_utf8(out)) return fail("HELP: not valid UTF-8");
    return true;
  }

  bool sample(LineReader& reader) {
    Sample sample;
    if (reader.peek() != '{' && !reader.legacy_name(sample.name, false)) return false;
    if (reader.peek() == '{' && !reader.label_set(sample.name, sample.labels, true)) return false;
    if (sample.name.empty()) return fail("missing metric name");
    if (!reader.separator("the value")) return false;
    const std::string_view value = reader.token();
    const std::optional<double> parsed = parse_value(value, format_);
    if (!parsed) return fail(fmt::format("{}: invalid value \"{}\"", sample.name, value));
    sample.value = *parsed;
    if (format_ == Format::prometheus_text) {
      reader.skip_blanks();
      if (!reader.at_end() && !read_timestamp(reader, sample.name, sample.timestamp)) return false;
      reader.skip_blanks();
    } else {
      if (!reader.at_end() && !reader.rest().starts_with(" # ") &&
          !read_timestamp(reader, sample.name, sample.timestamp)) {
        return false;
      }
      if (reader.rest().starts_with(" # ") && !exemplar(reader, sample)) return false;
    }
    if (!reader.at_end()) {
      return fail(fmt::format("{}: unexpected text \"{}\" after the value", sample.name,
                              reader.rest().substr(0, 20)));
    }
    return builder_.add(std::move(sample), error_);
  }

  bool read_timestamp(LineReader& reader, const std::string& name,
                      std::optional<double>& timestamp) {
    if (format_ == Format::openmetrics && !reader.separator("the timestamp")) return false;
    const std::string_view text = reader.token();
    if (format_ == Format::prometheus_text) {
      std::int64_t ms = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
      if (ec != std::errc() || end != text.data() + text.size()) {
        return fail(fmt::format("{}: invalid timestamp \"{}\" (integer milliseconds)", name, text));
      }
      timestamp = static_cast<double>(ms) / 1000.0;
      return true;
    }
    const std::optional<double> seconds = parse_value(text, format_);
    if (!seconds || !std::isfinite(*seconds)) {
      return fail(fmt::format("{}: invalid timestamp \"{}\" (seconds)", name, text));
    }
    timestamp = *seconds;
    return true;
  }

  bool exemplar(LineReader& reader, Sample& sample) {
    if (!reader.separator("the exemplar")) return false;
    if (reader.peek() != '#') return fail(fmt::format("{}: expected '#'", sample.name));
    reader.advance();
    if (!reader.separator("the exemplar's labels")) return false;
    if (reader.peek() != '{') return fail(fmt::format("{}: exemplar: expected '{{'", sample.name));
    Exemplar exemplar;
    std::string unused;
    if (!reader.label_set(unused, exemplar.labels, false)) return false;
    std::size_t characters = 0;
    for (const Label& label : exemplar.labels) {
      for (const std::string* text : {&label.name, &label.value}) {
        for (char c : *text) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      }
    }
    if (characters > 128) {
      return fail(fmt::format("{}: exemplar labels longer than 128 characters", sample.name));
    }
    if (!reader.separator("the exemplar's value")) return false;
    const std::string_view value = reader.token();
    const std::optional<double> parsed = parse_value(value, format_);
    if (!parsed) return fail(fmt::format("{}: exemplar: invalid value \"{}\"", sample.name, value));
    exemplar.value = *parsed;
    if (!reader.at_end() && !read_timestamp(reader, sample.name, exemplar.timestamp)) {
      return false;
    }
    sample.exemplar = std::move(exemplar);
    return true;
  }

  Format format_;
  PageBuilder builder_;
  bool eof_ = false;
  std::string error_;
};

}  // namespace

std::string_view type_name(MetricType type, Format format) {
  switch (type) {
    case MetricType::untyped:
      return format == Format::openmetrics ? "unknown" : "untyped";
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
    case MetricType::summary:
      return "summary";
    case MetricType::info:
      return "info";
    case MetricType::stateset:
      return "stateset";
    case MetricType::gaugehistogram:
      return "gaugehistogram";
  }
  return "untyped";
}

std::string ParseError::to_string() const {
  return line == 0 ? reason : fmt::format("line {}: {}", line, reason);
}

ParseResult parse_exposition(std::string_view text, Format format) {
  PageParser parser(format);
  ParseResult result;
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++line_number;
    if (!parser.line(text.substr(pos, end - pos))) {
      result.error = {line_number, parser.error()};
      return result;
    }
    pos = end + 1;
  }
  if (!parser.finish()) {
    result.error = {0, parser.error()};
    return result;
  }
  result.page = parser.take();
  return result;
}

Format format_of_content_type(std::string_view content_type) {
  std::string lower(content_type.substr(0, content_type.find(';')));
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  while (!lower.empty() && lower.back() == ' ') lower.pop_back();
  while (!lower.empty() && lower.front() == ' ') lower.erase(0, 1);
  return lower == "application/openmetrics-text" ? Format::openmetrics : Format::prometheus_text;
}

}  // namespace covet::scrape
