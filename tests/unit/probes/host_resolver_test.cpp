// HostResolver on a real loop: numeric answers, unknown names, and an abandoned lookup that
// must never call back.

#include "probes/host_resolver.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace covet::probes {
namespace {

TEST(HostResolver, IpLiteralsNeedNoLookup) {
  EXPECT_TRUE(is_ip_literal("127.0.0.1"));
  EXPECT_TRUE(is_ip_literal("::1"));
  EXPECT_TRUE(is_ip_literal("fe80::1"));
  EXPECT_FALSE(is_ip_literal("localhost"));
  EXPECT_FALSE(is_ip_literal("db.example.com"));
  EXPECT_FALSE(is_ip_literal("127.0.0.1:5432"));
  EXPECT_FALSE(is_ip_literal(""));
}

struct Loop {
  uv_loop_t loop{};
  Loop() { uv_loop_init(&loop); }
  ~Loop() {
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
};

TEST(HostResolver, LocalhostResolvesToNumericAddresses) {
  Loop loop;
  HostResolver resolver(&loop.loop);
  std::vector<std::string> got;
  std::string error = "not called";
  resolver.resolve("localhost", [&](std::vector<std::string> addresses, std::string e) {
    got = std::move(addresses);
    error = std::move(e);
  });
  uv_run(&loop.loop, UV_RUN_DEFAULT);
  EXPECT_EQ(error, "");
  ASSERT_FALSE(got.empty());
  for (const std::string& address : got) EXPECT_TRUE(is_ip_literal(address)) << address;
  EXPECT_TRUE(std::find(got.begin(), got.end(), "127.0.0.1") != got.end() ||
              std::find(got.begin(), got.end(), "::1") != got.end());
}

TEST(HostResolver, UnknownNameIsAnError) {
  Loop loop;
  HostResolver resolver(&loop.loop);
  std::string error;
  bool called = false;
  resolver.resolve("covet-no-such-host.invalid",
                   [&](std::vector<std::string> addresses, std::string e) {
                     called = true;
                     EXPECT_TRUE(addresses.empty());
                     error = std::move(e);
                   });
  uv_run(&loop.loop, UV_RUN_DEFAULT);
  EXPECT_TRUE(called);
  EXPECT_NE(error, "");
}

TEST(HostResolver, AbandonedLookupNeverCallsBack) {
  Loop loop;
  bool called = false;
  {
    HostResolver resolver(&loop.loop);
    resolver.resolve("localhost", [&](std::vector<std::string>, std::string) { called = true; });
  }  // destroyed with the lookup in flight; the loop still runs its callback, which frees it
  uv_run(&loop.loop, UV_RUN_DEFAULT);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace covet::probes
