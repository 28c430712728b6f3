#pragma once
// The loader's typed reads. Each read expands ${VAR}s in the scalar, converts and
// range-checks it; on failure it records a ConfigError naming the key path and the value's
// position and returns nothing, so the caller keeps the default and carries on: one run
// reports every problem.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/loader.h"
#include "config/schema_names.h"

namespace covet::config::detail {

struct Position {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
};
// yaml-cpp marks are 0-based and may be absent (-1).
Position position_of(const YAML::Node& node);
bool operator<(const Position& a, const Position& b);

// A value found under a key: what to read, the key path to name and where to point.
struct Field {
  std::string path;  // "probes[0].interval"
  YAML::Node value;
  Position at;      // the value's position, or the key's when the value is empty ("interval:")
  Position key_at;  // the key's position; the same as `at` for list items
};

// A scalar after expansion, with a way to show it in a message.
struct Scalar {
  std::string value;  // expanded
  std::string shown;  // "\"10x\"" as written; an expanded value is never shown
};

class ValueReader {
 public:
  ValueReader(const EnvLookup& env, std::vector<ConfigError>& errors)
      : env_(env), errors_(errors) {}

  // The environment values are expanded from, for defaults that name variables.
  const EnvLookup& env() const { return env_; }

  void report(Position at, std::string path, std::string message);
  void report(const Field& field, std::string message) {
    report(field.at, field.path, std::move(message));
  }

  // `expected` completes "expected ..., got a mapping", e.g. "a duration".
  std::optional<Scalar> scalar(const Field& field, std::string_view expected);

  std::optional<std::string> text(const Field& field);
  std::optional<std::string> absolute_path(const Field& field);
  std::optional<bool> boolean(const Field& field);
  std::optional<std::int64_t> integer(const Field& field, std::int64_t min, std::int64_t max);
  // [min, max], or (min, max] when min_exclusive.
  std::optional<double> number(const Field& field, double min, double max, bool min_exclusive);
  // At least `min`; a `min` of 1ms reads "must be greater than 0s".
  std::optional<Duration> duration(const Field& field, Duration min);
  // The same, and at most `max`.
  std::optional<Duration> duration(const Field& field, Duration min, Duration max);
  // Bytes, from "64MiB", "512KiB" or a bare integer; at least `min` (1 reads "must be
  // greater than 0B").
  std::optional<std::uint64_t> size(const Field& field, std::uint64_t min);
  std::optional<ListenAddress> listen_address(const Field& field);

  template <typename T>
  std::optional<T> choice(const Field& field, std::span<const Choice<T>> choices) {
    const std::optional<Scalar> read = scalar(field, "a string");
    if (!read) return std::nullopt;
    std::string names;
    for (const Choice<T>& choice : choices) {
      if (read->value == choice.name) return choice.value;
      if (!names.empty()) names += ", ";
      names += choice.name;
    }
    report(field, "expected one of " + names + ", got " + read->shown);
    return std::nullopt;
  }

 private:
  // A pure parser's error is "invalid WHAT \"VALUE\": REASON". For an expanded value,
  // rewrite it to quote what was written instead of the value.
  void report_parse_error(const Field& field, const Scalar& read, std::string_view what,
                          const std::string& error);

  const EnvLookup& env_;
  std::vector<ConfigError>& errors_;
};

// One of two settings that must be in order (timeout <= interval): its path, where the
// file sets it (nothing when defaulted) and its default as text for the message.
struct OrderedSetting {
  std::string path;
  std::optional<Position> at;
  std::string default_text;
};
// Reports that `low` exceeds `high`, at whichever of the two the file sets last: that is
// the line where the contradiction appears.
void report_out_of_order(const OrderedSetting& low, const OrderedSetting& high,
                         ValueReader& reader);

}  // namespace covet::config::detail
