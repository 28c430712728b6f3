#include "config/value_reader.h"

#include <charconv>
#include <cmath>

#include "config/duration.h"
#include "config/env_expand.h"
#include "config/listen_address.h"
#include "config/number_text.h"

namespace covet::config::detail {
namespace {

std::string_view kind_of(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return "nothing";
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

}  // namespace

Position position_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

bool operator<(const Position& a, const Position& b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

void ValueReader::report(Position at, std::string path, std::string message) {
  errors_.push_back(ConfigError{at.line, at.column, std::move(path), std::move(message)});
}

std::optional<Scalar> ValueReader::scalar(const Field& field, std::string_view expected) {
  if (!field.value.IsScalar()) {
    report(field,
           "expected " + std::string(expected) + ", got " + std::string(kind_of(field.value)));
    return std::nullopt;
  }
  const std::string& written = field.value.Scalar();
  ExpandResult expanded = expand_env(written, env_);
  if (!expanded.value) {
    report(field, std::move(expanded.error));
    return std::nullopt;
  }
  std::string shown = quoted(written);
  if (*expanded.value != written) shown += " (after environment expansion)";
  return Scalar{std::move(*expanded.value), std::move(shown)};
}

void ValueReader::report_parse_error(const Field& field, const Scalar& read, std::string_view what,
                                     const std::string& error) {
  const std::string prefix = "invalid " + std::string(what) + " " + quoted(read.value) + ": ";
  if (read.shown == quoted(read.value) || !error.starts_with(prefix)) {
    report(field, error);
    return;
  }
  report(field,
         "invalid " + std::string(what) + " " + read.shown + ": " + error.substr(prefix.size()));
}

std::optional<std::string> ValueReader::text(const Field& field) {
  std::optional<Scalar> read = scalar(field, "a string");
  if (!read) return std::nullopt;
  return std::move(read->value);
}

std::optional<std::string> ValueReader::absolute_path(const Field& field) {
  std::optional<Scalar> read = scalar(field, "an absolute path");
  if (!read) return std::nullopt;
  if (!read->value.starts_with('/')) {
    report(field, "expected an absolute path, got " + read->shown);
    return std::nullopt;
  }
  return std::move(read->value);
}

std::optional<bool> ValueReader::boolean(const Field& field) {
  const std::optional<Scalar> read = scalar(field, "true or false");
  if (!read) return std::nullopt;
  if (read->value == "true") return true;
  if (read->value == "false") return false;
  report(field, "expected true or false, got " + read->shown);
  return std::nullopt;
}

std::optional<std::int64_t> ValueReader::integer(const Field& field, std::int64_t min,
                                                 std::int64_t max) {
  const std::optional<Scalar> read = scalar(field, "an integer");
  if (!read) return std::nullopt;
  const std::string& value = read->value;
  const std::string range = "must be between " + std::to_string(min) + " and " +
                            std::to_string(max) + ", got " + read->shown;
  std::int64_t parsed = 0;
  const char* const end = value.data() + value.size();
  const auto [stop, ec] = std::from_chars(value.data(), end, parsed);
  if (value.empty() || stop != end || (ec != std::errc{} && ec != std::errc::result_out_of_range)) {
    report(field, "expected an integer, got " + read->shown);
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || parsed < min || parsed > max) {
    report(field, range);
    return std::nullopt;
  }
  return parsed;
}

std::optional<double> ValueReader::number(const Field& field, double min, double max,
                                          bool min_exclusive) {
  const std::optional<Scalar> read = scalar(field, "a number");
  if (!read) return std::nullopt;
  const std::string& value = read->value;
  double parsed = 0;
  const char* const end = value.data() + value.size();
  const auto [stop, ec] = std::from_chars(value.data(), end, parsed);
  // from_chars accepts "inf" and "nan", which no setting of ours means.
  if (value.empty() || stop != end || ec != std::errc{} || !std::isfinite(parsed)) {
    report(field, "expected a number, got " + read->shown);
    return std::nullopt;
  }
  const bool below = min_exclusive ? parsed <= min : parsed < min;
  if (below || parsed > max) {
    const std::string low = format_number(min);
    const std::string high = format_number(max);
    report(field,
           min_exclusive
               ? "must be greater than " + low + " and at most " + high + ", got " + read->shown
               : "must be between " + low + " and " + high + ", got " + read->shown);
    return std::nullopt;
  }
  return parsed;
}

std::optional<Duration> ValueReader::duration(const Field& field, Duration min) {
  return duration(field, min, Duration::max());
}

std::optional<Duration> ValueReader::duration(const Field& field, Duration min, Duration max) {
  const std::optional<Scalar> read = scalar(field, "a duration");
  if (!read) return std::nullopt;
  const DurationParse parsed = parse_duration(read->value);
  if (!parsed.value) {
    report_parse_error(field, *read, "duration", parsed.error);
    return std::nullopt;
  }
  if (*parsed.value < min) {
    report(field, min == Duration{1}
                      ? "must be greater than 0s, got " + read->shown
                      : "must be at least " + format_duration(min) + ", got " + read->shown);
    return std::nullopt;
  }
  if (*parsed.value > max) {
    report(field, "must be at most " + format_duration(max) + ", got " + read->shown);
    return std::nullopt;
  }
  return parsed.value;
}

std::optional<std::uint64_t> ValueReader::size(const Field& field, std::uint64_t min) {
  const std::optional<Scalar> read = scalar(field, "a size");
  if (!read) return std::nullopt;
  const SizeParse parsed = parse_size(read->value);
  if (!parsed.value) {
    report_parse_error(field, *read, "size", parsed.error);
    return std::nullopt;
  }
  if (*parsed.value < min) {
    report(field, min == 1 ? "must be greater than 0B, got " + read->shown
                           : "must be at least " + format_size(min) + ", got " + read->shown);
    return std::nullopt;
  }
  return parsed.value;
}

std::optional<ListenAddress> ValueReader::listen_address(const Field& field) {
  const std::optional<Scalar> read = scalar(field, "host:port");
  if (!read) return std::nullopt;
  ListenAddressParse parsed = parse_listen_address(read->value);
  if (!parsed.value) {
    report_parse_error(field, *read, "listen address", parsed.error);
    return std::nullopt;
  }
  return std::move(parsed.value);
}

void report_out_of_order(const OrderedSetting& low, const OrderedSetting& high,
                         ValueReader& reader) {
  const auto shown_default = [](const OrderedSetting& setting) {
    return setting.at ? std::string() : " (" + setting.default_text + " by default)";
  };
  // Defaults are always in order, so at least one of the two is set in the file.
  const bool at_low = low.at && (!high.at || *high.at < *low.at);
  if (at_low) {
    reader.report(*low.at, low.path, "must not exceed " + high.path + shown_default(high));
  } else if (high.at) {
    reader.report(*high.at, high.path, "must be at least " + low.path + shown_default(low));
  }
}

}  // namespace covet::config::detail
