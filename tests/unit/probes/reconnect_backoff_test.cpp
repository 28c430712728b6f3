// ReconnectBackoff with explicit clock values: doubling, the cap, the reset, and what a
// check that fails at once while waiting says.

#include "probes/reconnect_backoff.h"

#include <gtest/gtest.h>

namespace covet::probes {
namespace {

using std::chrono::milliseconds;

TEST(ReconnectBackoff, DoublesUpToTheCapAndResetsAfterASuccess) {
  ReconnectBackoff backoff(milliseconds(1000), milliseconds(3000));
  EXPECT_FALSE(backoff.waiting(0));
  backoff.failed(10'000, "refused", "connect db: connection refused");
  EXPECT_TRUE(backoff.waiting(10'999));
  EXPECT_FALSE(backoff.waiting(11'000));
  backoff.failed(11'000, "refused", "again");
  EXPECT_TRUE(backoff.waiting(12'999));
  EXPECT_FALSE(backoff.waiting(13'000));
  backoff.failed(13'000, "refused", "again");  // 4 s, capped at 3 s
  EXPECT_TRUE(backoff.waiting(15'999));
  EXPECT_FALSE(backoff.waiting(16'000));
  backoff.succeeded();
  EXPECT_FALSE(backoff.waiting(16'000));
  backoff.failed(20'000, "timeout", "slow");  // from the start again
  EXPECT_FALSE(backoff.waiting(21'000));
}

TEST(ReconnectBackoff, AWaitingCheckSaysWhyAndWhen) {
  ReconnectBackoff backoff(milliseconds(2000), milliseconds(30000));
  backoff.failed(5'000, "auth_failed", "connect db: password authentication failed");
  ProbeResult result;
  backoff.describe_wait(5'500, result);
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "auth_failed");
  ASSERT_EQ(result.detail.size(), 1u);
  EXPECT_EQ(result.detail[0], (std::pair<std::string, std::string>{"reason", "auth_failed"}));
  EXPECT_EQ(result.error, "connect db: password authentication failed; reconnecting in 1.5s");
}

}  // namespace
}  // namespace covet::probes
