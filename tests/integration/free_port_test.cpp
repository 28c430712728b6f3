#include <gtest/gtest.h>

#include <set>

#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

// A test often needs three ports at once (the agent's listener and its two OTLP receivers):
// if two picks returned the same free port, the agent would refuse its own config. With
// 16384 candidates, 600 random picks would repeat one 999 times in 1000 without the
// reservation. (600, not more: each reservation is an open descriptor, and a shell's
// default limit is 1024.)
TEST(FreePort, NeverHandsTheSamePortOutTwice) {
  std::set<std::uint16_t> seen;
  for (int pick = 0; pick < 600; ++pick) {
    const std::uint16_t port = free_port();
    ASSERT_NE(port, 0);
    ASSERT_TRUE(seen.insert(port).second) << "port " << port << " handed out twice";
  }
}

}  // namespace
}  // namespace covet::testing
