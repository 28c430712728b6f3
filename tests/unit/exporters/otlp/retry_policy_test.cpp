#include "exporters/otlp/retry_policy.h"

#include <gtest/gtest.h>

namespace covet::otlp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryPolicy, ExactlyTheStatusesTheSpecRetries) {
  for (long status : {200L, 202L, 204L}) EXPECT_EQ(after_status(status), AfterExport::delivered);
  for (long status : {0L, 429L, 502L, 503L, 504L}) {
    EXPECT_EQ(after_status(status), AfterExport::retry) << status;
  }
  for (long status : {400L, 401L, 403L, 404L, 413L, 415L, 500L, 501L, 505L, 301L}) {
    EXPECT_EQ(after_status(status), AfterExport::drop) << status;
  }
}

TEST(RetryPolicy, RetryAfterInSecondsOrAsADate) {
  const auto now = std::chrono::system_clock::from_time_t(1795000000);
  EXPECT_EQ(parse_retry_after("2", now), seconds(2));
  EXPECT_EQ(parse_retry_after(" 120 ", now), seconds(120));
  EXPECT_EQ(parse_retry_after("99999999", now), seconds(86400));  // capped at a day
  // 1795000000 is Wed, 18 Nov 2026 11:06:40 GMT.
  EXPECT_EQ(parse_retry_after("Wed, 18 Nov 2026 11:06:50 GMT", now), seconds(10));
  EXPECT_EQ(parse_retry_after("Wed, 18 Nov 2026 11:00:00 GMT", now), seconds(0));
  for (const char* bad : {"", "soon", "-1", "2.5", "1e3", "Wed, 18 Nov 2026"}) {
    EXPECT_EQ(parse_retry_after(bad, now), std::nullopt) << bad;
  }
}

TEST(RetryPolicy, BackoffDoublesIsCappedAndJittered) {
  const milliseconds initial(1000);
  const milliseconds max(30000);
  // With the largest draw the delay is the full step; with the smallest, half of it.
  EXPECT_EQ(backoff_delay(1, initial, max, 0.999999), milliseconds(1000));
  EXPECT_EQ(backoff_delay(2, initial, max, 0.999999), milliseconds(2000));
  EXPECT_EQ(backoff_delay(3, initial, max, 0.999999), milliseconds(4000));
  EXPECT_EQ(backoff_delay(3, initial, max, 0.0), milliseconds(2000));
  EXPECT_EQ(backoff_delay(10, initial, max, 0.999999), milliseconds(30000));
  EXPECT_EQ(backoff_delay(1000, initial, max, 0.0), milliseconds(15000));
  for (double draw : {0.0, 0.25, 0.5, 0.75, 0.999}) {
    const milliseconds d = backoff_delay(4, initial, max, draw);
    EXPECT_GE(d, milliseconds(4000));
    EXPECT_LE(d, milliseconds(8000));
  }
}

}  // namespace
}  // namespace covet::otlp
