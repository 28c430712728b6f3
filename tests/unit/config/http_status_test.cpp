#include "config/http_status.h"

#include <gtest/gtest.h>

#include "config/host_port.h"

namespace covet::config {
namespace {

StatusRange range(std::string_view text) {
  auto parsed = parse_status_range(text);
  if (auto* error = std::get_if<std::string>(&parsed)) ADD_FAILURE() << *error;
  return std::get_if<StatusRange>(&parsed) ? std::get<StatusRange>(parsed) : StatusRange{};
}

std::string error_of(std::string_view text) {
  auto parsed = parse_status_range(text);
  return std::get_if<std::string>(&parsed) ? std::get<std::string>(parsed) : "(parsed)";
}

TEST(StatusRange, ParsesCodesAndRanges) {
  EXPECT_EQ(range("200"), (StatusRange{200, 200}));
  EXPECT_EQ(range("200-399"), (StatusRange{200, 399}));
  EXPECT_EQ(range("100-599"), (StatusRange{100, 599}));
}

TEST(StatusRange, RejectsWhatIsNotAStatus) {
  for (std::string_view bad : {"", "20", "2000", "099", "600", "abc", "200-", "-399", "200-39x",
                               "200 - 399", "+200", "200-399-500"}) {
    EXPECT_NE(error_of(bad).find("expected a status code from 100 to 599"), std::string::npos)
        << bad;
  }
  EXPECT_EQ(error_of("399-200"),
            "invalid status range \"399-200\": the first code is greater than the second");
}

TEST(StatusRange, MatchesAndFormats) {
  const std::vector<StatusRange> ranges{{200, 200}, {300, 399}};
  EXPECT_TRUE(status_matches(ranges, 200));
  EXPECT_FALSE(status_matches(ranges, 201));
  EXPECT_TRUE(status_matches(ranges, 300));
  EXPECT_TRUE(status_matches(ranges, 399));
  EXPECT_FALSE(status_matches(ranges, 400));
  EXPECT_FALSE(status_matches(ranges, 0));
  EXPECT_EQ(format_status_ranges(ranges), "200, 300-399");
}

TEST(HostPort, ParsesNamesAndLiterals) {
  auto name = std::get<HostPort>(parse_host_port("app.internal:8000"));
  EXPECT_EQ(name.host, "app.internal");
  EXPECT_EQ(name.port, 8000);
  auto v6 = std::get<HostPort>(parse_host_port("[::1]:65535"));
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 65535);
}

TEST(HostPort, RejectsBadAddresses) {
  for (std::string_view bad : {"", "app", ":80", "app:", "app:0", "app:65536", "app:8x", "::1:80",
                               "[::1]80", "[::1]", "a b:80"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_host_port(bad))) << bad;
  }
  EXPECT_EQ(std::get<std::string>(parse_host_port("app:0")),
            "invalid address \"app:0\": the port must be a number from 1 to 65535");
}

}  // namespace
}  // namespace covet::config
