#include "config/duration.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace covet::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Duration parsed(std::string_view text) {
  const DurationParse result = parse_duration(text);
  EXPECT_TRUE(result.value.has_value()) << text << ": " << result.error;
  EXPECT_EQ(result.error, "");
  return result.value.value_or(Duration{-1});
}

std::string duration_error(std::string_view text) {
  const DurationParse result = parse_duration(text);
  EXPECT_FALSE(result.value.has_value()) << text;
  return result.error;
}

TEST(ParseDuration, SingleUnits) {
  EXPECT_EQ(parsed("500ms"), milliseconds(500));
  EXPECT_EQ(parsed("10s"), seconds(10));
  EXPECT_EQ(parsed("1m"), minutes(1));
  EXPECT_EQ(parsed("1h"), hours(1));
  EXPECT_EQ(parsed("0s"), Duration{0});
  EXPECT_EQ(parsed("0ms"), Duration{0});
}

TEST(ParseDuration, CombinedLargestFirst) {
  EXPECT_EQ(parsed("1h30m"), minutes(90));
  EXPECT_EQ(parsed("1m30s"), seconds(90));
  EXPECT_EQ(parsed("1s500ms"), milliseconds(1500));
  EXPECT_EQ(parsed("2h0m5s"), hours(2) + seconds(5));
  EXPECT_EQ(parsed("1h1m1s1ms"), hours(1) + minutes(1) + seconds(1) + milliseconds(1));
}

TEST(ParseDuration, UnknownUnitNamesTheValueAndTheUnits) {
  EXPECT_EQ(duration_error("10x"),
            "invalid duration \"10x\": expected a number with a unit (ms, s, m, h), e.g. 500ms "
            "or 10s");
  EXPECT_EQ(duration_error("10us"),
            "invalid duration \"10us\": expected a number with a unit (ms, s, m, h), e.g. 500ms "
            "or 10s");
  EXPECT_EQ(duration_error("10S"),
            "invalid duration \"10S\": expected a number with a unit (ms, s, m, h), e.g. 500ms "
            "or 10s");
}

TEST(ParseDuration, BareNumberIsRejectedAsAmbiguous) {
  EXPECT_EQ(duration_error("10"),
            "invalid duration \"10\": missing unit (ms, s, m, h), e.g. 10s or 10ms");
  EXPECT_EQ(duration_error("0"),
            "invalid duration \"0\": missing unit (ms, s, m, h), e.g. 0s or 0ms");
  EXPECT_EQ(duration_error("1m30"),
            "invalid duration \"1m30\": missing unit (ms, s, m, h), e.g. 1m30s or 1m30ms");
}

TEST(ParseDuration, RejectsEmptyNegativeAndMalformed) {
  EXPECT_EQ(duration_error(""),
            "invalid duration \"\": expected a number with a unit (ms, s, m, h), e.g. 500ms or "
            "10s");
  EXPECT_EQ(duration_error("-5s"), "invalid duration \"-5s\": must not be negative");
  for (std::string_view text : {"s", "1.5s", " 1s", "1s ", "1 s", "+1s", "1s,2s", "ms", "1hm"}) {
    EXPECT_FALSE(parse_duration(text).value.has_value()) << text;
  }
}

TEST(ParseDuration, RejectsUnitsOutOfOrderOrRepeated) {
  const std::string expected = "units must go from largest to smallest, each once, e.g. 1m30s";
  EXPECT_EQ(duration_error("30s1m"), "invalid duration \"30s1m\": " + expected);
  EXPECT_EQ(duration_error("1s1s"), "invalid duration \"1s1s\": " + expected);
  EXPECT_EQ(duration_error("500ms1s"), "invalid duration \"500ms1s\": " + expected);
}

TEST(ParseDuration, Overflow) {
  EXPECT_EQ(duration_error("99999999999999999999ms"),
            "invalid duration \"99999999999999999999ms\": too large");
  EXPECT_EQ(duration_error("9223372036854775807h"),
            "invalid duration \"9223372036854775807h\": too large");
  EXPECT_EQ(duration_error("2562047788015h2562047788015h"),
            "invalid duration \"2562047788015h2562047788015h\": units must go from largest to "
            "smallest, each once, e.g. 1m30s");
  // The largest representable value still parses.
  EXPECT_EQ(parsed("9223372036854775807ms"), Duration{std::numeric_limits<Duration::rep>::max()});
  EXPECT_EQ(duration_error("9223372036854775808ms"),
            "invalid duration \"9223372036854775808ms\": too large");
}

TEST(FormatDuration, ShortestExactForm) {
  EXPECT_EQ(format_duration(Duration{0}), "0s");
  EXPECT_EQ(format_duration(milliseconds(500)), "500ms");
  EXPECT_EQ(format_duration(seconds(10)), "10s");
  EXPECT_EQ(format_duration(seconds(90)), "1m30s");
  EXPECT_EQ(format_duration(minutes(90)), "1h30m");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(format_duration(hours(48)), "48h");
  EXPECT_EQ(format_duration(Duration{-1500}), "-1s500ms");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (Duration::rep ms : {Duration::rep{1}, Duration::rep{999}, Duration::rep{60'001},
                           Duration::rep{3'723'004}, std::numeric_limits<Duration::rep>::max()}) {
    EXPECT_EQ(parsed(format_duration(Duration{ms})), Duration{ms}) << ms;
  }
}

// Not named size(): std::size would win by argument-dependent lookup on a std::string.
std::uint64_t bytes_of(std::string_view text) {
  const SizeParse result = parse_size(text);
  EXPECT_TRUE(result.value.has_value()) << text << ": " << result.error;
  return result.value.value_or(0);
}

std::string size_error(std::string_view text) {
  const SizeParse result = parse_size(text);
  EXPECT_FALSE(result.value.has_value()) << text;
  return result.error;
}

TEST(ParseSize, Units) {
  EXPECT_EQ(bytes_of("0"), 0u);
  EXPECT_EQ(bytes_of("123"), 123u);
  EXPECT_EQ(bytes_of("10B"), 10u);
  EXPECT_EQ(bytes_of("1KB"), 1000u);
  EXPECT_EQ(bytes_of("2MB"), 2'000'000u);
  EXPECT_EQ(bytes_of("3GB"), 3'000'000'000u);
  EXPECT_EQ(bytes_of("4TB"), 4'000'000'000'000u);
  EXPECT_EQ(bytes_of("1KiB"), 1024u);
  EXPECT_EQ(bytes_of("64MiB"), 64u << 20);
  EXPECT_EQ(bytes_of("1GiB"), 1u << 30);
  EXPECT_EQ(bytes_of("2TiB"), std::uint64_t{2} << 40);
}

TEST(ParseSize, Decimals) {
  EXPECT_EQ(bytes_of("1.5GiB"), (std::uint64_t{3} << 30) / 2);
  EXPECT_EQ(bytes_of("0.5KiB"), 512u);
  EXPECT_EQ(bytes_of("2.25MB"), 2'250'000u);
  // A fraction of a byte rounds to the nearest byte: 1.1KiB = 1126.4 B.
  EXPECT_EQ(bytes_of("1.1KiB"), 1126u);
  EXPECT_EQ(size_error("1.5"), "invalid size \"1.5\": a number of bytes must be whole");
  EXPECT_EQ(size_error("1.5B"), "invalid size \"1.5B\": a number of bytes must be whole");
  EXPECT_EQ(size_error("1.0000000001GiB"),
            "invalid size \"1.0000000001GiB\": too many decimal places (at most 9)");
}

TEST(ParseSize, RejectsMalformed) {
  const std::string hint =
      "expected a number of bytes or a number with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, "
      "TiB), e.g. 64MiB";
  EXPECT_EQ(size_error(""), "invalid size \"\": " + hint);
  EXPECT_EQ(size_error("64M"), "invalid size \"64M\": " + hint);
  EXPECT_EQ(size_error("64mib"), "invalid size \"64mib\": " + hint);
  EXPECT_EQ(size_error("MiB"), "invalid size \"MiB\": " + hint);
  EXPECT_EQ(size_error("1."), "invalid size \"1.\": " + hint);
  EXPECT_EQ(size_error("-1"), "invalid size \"-1\": must not be negative");
  EXPECT_EQ(size_error("1 MiB"), "invalid size \"1 MiB\": " + hint);
}

TEST(ParseSize, Overflow) {
  EXPECT_EQ(bytes_of("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(size_error("18446744073709551616"), "invalid size \"18446744073709551616\": too large");
  EXPECT_EQ(size_error("16777216TiB"), "invalid size \"16777216TiB\": too large");
  EXPECT_EQ(bytes_of("16777215TiB"), std::uint64_t{16777215} << 40);
  EXPECT_EQ(bytes_of("16777215.999999999TiB"), std::numeric_limits<std::uint64_t>::max() - 1099);
  // Fits before rounding (2^64 - 0.1024), not after.
  EXPECT_EQ(size_error("18014398509481983.9999KiB"),
            "invalid size \"18014398509481983.9999KiB\": too large");
}

TEST(FormatSize, LargestExactBinaryUnitElseBytes) {
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(1000), "1000B");
  EXPECT_EQ(format_size(1024), "1KiB");
  EXPECT_EQ(format_size(64u << 20), "64MiB");
  EXPECT_EQ(format_size(1536u << 20), "1536MiB");
  EXPECT_EQ(format_size(std::uint64_t{1} << 40), "1TiB");
  EXPECT_EQ(format_size(std::uint64_t{1} << 50), "1024TiB");
  for (std::uint64_t bytes : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{4096},
                              std::numeric_limits<std::uint64_t>::max()}) {
    EXPECT_EQ(bytes_of(format_size(bytes)), bytes);
  }
}

}  // namespace
}  // namespace covet::config
