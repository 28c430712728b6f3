#include "config/duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace covet::config {
namespace detail {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t scale;  // in milliseconds for durations, in bytes for sizes
};

// Largest first: a combined duration must list its components in this order, each once.
constexpr std::array<Unit, 4> kDurationUnits{{
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

constexpr std::uint64_t kKiB = 1024;
// Largest first, so that format_size can pick the largest exact one.
constexpr std::array<Unit, 4> kBinarySizeUnits{{
    {"TiB", kKiB* kKiB* kKiB* kKiB},
    {"GiB", kKiB* kKiB* kKiB},
    {"MiB", kKiB* kKiB},
    {"KiB", kKiB},
}};
constexpr std::array<Unit, 5> kDecimalSizeUnits{{
    {"TB", 1'000'000'000'000},
    {"GB", 1'000'000'000},
    {"MB", 1'000'000},
    {"KB", 1'000},
    {"B", 1},
}};

// The scale of a size suffix, or 0 when it is not one.
std::uint64_t size_unit_scale(std::string_view suffix) {
  for (const Unit& unit : kBinarySizeUnits) {
    if (suffix == unit.suffix) return unit.scale;
  }
  for (const Unit& unit : kDecimalSizeUnits) {
    if (suffix == unit.suffix) return unit.scale;
  }
  return 0;
}

constexpr std::string_view kDurationHint =
    "expected a number with a unit (ms, s, m, h), e.g. 500ms or 10s";
constexpr std::string_view kSizeHint =
    "expected a number of bytes or a number with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, "
    "TiB), e.g. 64MiB";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Consumes leading decimal digits into `value`. Returns false on overflow; `digits` counts
// what was consumed so the caller can tell "no number" from "zero".
bool take_digits(std::string_view& text, std::uint64_t& value, std::size_t& digits) {
  value = 0;
  digits = 0;
  while (digits < text.size() && is_digit(text[digits])) {
    const std::uint64_t digit = static_cast<std::uint64_t>(text[digits] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
    ++digits;
  }
  text.remove_prefix(digits);
  return true;
}

std::string invalid(std::string_view what, std::string_view text, std::string_view reason) {
  std::string message = "invalid ";
  message += what;
  message += " \"";
  message += text;
  message += "\": ";
  message += reason;
  return message;
}

// Which duration unit `rest` starts with; kDurationUnits.size() when none. A unit must be
// followed by the end of text or by the next component's digit.
std::size_t match_duration_unit(std::string_view rest) {
  std::size_t best = kDurationUnits.size();
  for (std::size_t i = 0; i < kDurationUnits.size(); ++i) {
    const std::string_view suffix = kDurationUnits[i].suffix;
    if (!rest.starts_with(suffix)) continue;
    if (rest.size() > suffix.size() && !is_digit(rest[suffix.size()])) continue;
    if (best == kDurationUnits.size() || suffix.size() > kDurationUnits[best].suffix.size()) {
      best = i;
    }
  }
  return best;
}

}  // namespace
}  // namespace detail

DurationParse parse_duration(std::string_view text) {
  using detail::invalid;
  constexpr std::string_view kWhat = "duration";
  if (text.empty()) return {std::nullopt, invalid(kWhat, text, detail::kDurationHint)};
  if (text.front() == '-') return {std::nullopt, invalid(kWhat, text, "must not be negative")};

  // Milliseconds are stored in an int64 (std::chrono::milliseconds).
  constexpr std::uint64_t kMax =
      static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max());
  std::uint64_t total = 0;
  std::size_t next_unit = 0;  // index into kDurationUnits: components go largest first
  std::string_view rest = text;
  while (!rest.empty()) {
    std::uint64_t count = 0;
    std::size_t digits = 0;
    if (!detail::take_digits(rest, count, digits)) {
      return {std::nullopt, invalid(kWhat, text, "too large")};
    }
    if (digits == 0) return {std::nullopt, invalid(kWhat, text, detail::kDurationHint)};
    if (rest.empty()) {
      // "10": seconds or milliseconds? Ambiguous, so refused rather than guessed.
      return {std::nullopt, invalid(kWhat, text,
                                    "missing unit (ms, s, m, h), e.g. " + std::string(text) +
                                        "s or " + std::string(text) + "ms")};
    }
    const std::size_t unit = detail::match_duration_unit(rest);
    if (unit == detail::kDurationUnits.size()) {
      return {std::nullopt, invalid(kWhat, text, detail::kDurationHint)};
    }
    if (unit < next_unit) {
      return {
          std::nullopt,
          invalid(kWhat, text, "units must go from largest to smallest, each once, e.g. 1m30s")};
    }
    next_unit = unit + 1;
    rest.remove_prefix(detail::kDurationUnits[unit].suffix.size());
    const std::uint64_t scale = detail::kDurationUnits[unit].scale;
    if (count > (kMax - total) / scale) return {std::nullopt, invalid(kWhat, text, "too large")};
    total += count * scale;
  }
  return {Duration{static_cast<Duration::rep>(total)}, {}};
}

std::string format_duration(Duration d) {
  const Duration::rep count = d.count();
  if (count == 0) return "0s";
  std::string out;
  // Magnitude as unsigned so that the most negative value does not overflow on negation.
  std::uint64_t left = static_cast<std::uint64_t>(count);
  if (count < 0) {
    out += '-';
    left = ~left + 1;
  }
  for (const detail::Unit& unit : detail::kDurationUnits) {
    const std::uint64_t n = left / unit.scale;
    if (n == 0) continue;
    out += std::to_string(n);
    out += unit.suffix;
    left -= n * unit.scale;
  }
  return out;
}

SizeParse parse_size(std::string_view text) {
  using detail::invalid;
  constexpr std::string_view kWhat = "size";
  if (text.empty()) return {std::nullopt, invalid(kWhat, text, detail::kSizeHint)};
  if (text.front() == '-') return {std::nullopt, invalid(kWhat, text, "must not be negative")};

  std::string_view rest = text;
  std::uint64_t whole = 0;
  std::size_t whole_digits = 0;
  if (!detail::take_digits(rest, whole, whole_digits)) {
    return {std::nullopt, invalid(kWhat, text, "too large")};
  }
  if (whole_digits == 0) return {std::nullopt, invalid(kWhat, text, detail::kSizeHint)};

  // Up to 9 decimal places keep the exact arithmetic below inside 128 bits.
  constexpr std::size_t kMaxDecimals = 9;
  std::uint64_t fraction = 0;
  std::size_t decimals = 0;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    if (rest.size() > kMaxDecimals && detail::is_digit(rest[kMaxDecimals])) {
      return {std::nullopt, invalid(kWhat, text, "too many decimal places (at most 9)")};
    }
    if (!detail::take_digits(rest, fraction, decimals) || decimals == 0) {
      return {std::nullopt, invalid(kWhat, text, detail::kSizeHint)};
    }
  }

  const std::uint64_t scale = rest.empty() ? 1 : detail::size_unit_scale(rest);
  if (scale == 0) return {std::nullopt, invalid(kWhat, text, detail::kSizeHint)};
  if (decimals > 0 && scale == 1) {
    return {std::nullopt, invalid(kWhat, text, "a number of bytes must be whole")};
  }

  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  if (whole > kMax / scale) return {std::nullopt, invalid(kWhat, text, "too large")};

  // bytes = (whole + fraction / 10^decimals) * scale, rounded to the nearest byte: a
  // fraction of a byte ("1.1KiB" = 1126.4 B) is not worth an error. With whole * scale
  // below 2^64, 10^decimals below 2^30 and fraction * scale below 2^70, nothing here
  // overflows 128 bits.
  unsigned __int128 power = 1;
  for (std::size_t i = 0; i < decimals; ++i) power *= 10;
  const unsigned __int128 scaled = static_cast<unsigned __int128>(whole * scale) * power +
                                   static_cast<unsigned __int128>(fraction) * scale;
  const unsigned __int128 bytes = (scaled + power / 2) / power;
  if (bytes > kMax) {
    return {std::nullopt, invalid(kWhat, text, "too large")};
  }
  return {static_cast<std::uint64_t>(bytes), {}};
}

std::string format_size(std::uint64_t bytes) {
  // Largest binary unit that represents the value exactly; decimal units are accepted on
  // input but not produced, so that one value has one spelling.
  for (const detail::Unit& unit : detail::kBinarySizeUnits) {
    if (bytes != 0 && bytes % unit.scale == 0) {
      return std::to_string(bytes / unit.scale) + std::string(unit.suffix);
    }
  }
  return std::to_string(bytes) + "B";
}

}  // namespace covet::config
