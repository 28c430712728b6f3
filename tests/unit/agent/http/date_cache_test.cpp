#include "agent/http/date_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace covet::http {
namespace {

TEST(DateCacheTest, FormatsImfFixdate) {
  EXPECT_EQ(format_imf_fixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_imf_fixdate(1795549324), "Tue, 24 Nov 2026 19:42:04 GMT");
  EXPECT_EQ(format_imf_fixdate(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
}

TEST(DateCacheTest, HeaderLineIsACompleteHeader) {
  DateCache cache;
  EXPECT_EQ(cache.header_line(1795549324), "Date: Tue, 24 Nov 2026 19:42:04 GMT\r\n");
}

TEST(DateCacheTest, ReformatsOnlyWhenTheSecondChanges) {
  DateCache cache;
  const std::string_view first = cache.header_line(1795549324);
  const char* storage = first.data();
  // Same second: the very same bytes, no formatting.
  EXPECT_EQ(cache.header_line(1795549324).data(), storage);
  const std::string_view next = cache.header_line(1795549325);
  EXPECT_EQ(next, "Date: Tue, 24 Nov 2026 19:42:05 GMT\r\n");
  EXPECT_EQ(next.data(), storage);  // reformatted in place, no new allocation
}

}  // namespace
}  // namespace covet::http
