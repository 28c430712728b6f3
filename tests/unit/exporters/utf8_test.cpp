#include "exporters/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace covet::text {
namespace {

// all_ascii reads whole words, the last one overlapping: a high bit at any position of any
// length must still be seen, and nothing outside the text may count.
TEST(Utf8Test, AllAsciiSeesAHighBitAtEveryPositionOfEveryLength) {
  for (std::size_t size = 0; size <= 40; ++size) {
    // Surrounded by high bytes that are not part of the view.
    std::string padded(size + 16, '\xC3');
    for (std::size_t i = 0; i < size; ++i) padded[8 + i] = static_cast<char>('a' + i % 26);
    const std::string_view text(padded.data() + 8, size);
    EXPECT_TRUE(all_ascii(text)) << size;
    EXPECT_TRUE(valid_utf8(text)) << size;
    for (std::size_t at = 0; at < size; ++at) {
      padded[8 + at] = '\x80';
      EXPECT_FALSE(all_ascii(text)) << size << " " << at;
      EXPECT_FALSE(valid_utf8(text)) << size << " " << at;  // a lone continuation byte
      padded[8 + at] = 'x';
    }
  }
}

TEST(Utf8Test, ValidUtf8AcceptsWellFormedAndRefusesTheRest) {
  EXPECT_TRUE(valid_utf8("caf\xC3\xA9 na\xC3\xAFve \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_TRUE(valid_utf8(std::string(20, 'a') + "\xC3\xA9"));
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));                         // overlong '/'
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));                     // a surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));                 // past U+10FFFF
  EXPECT_FALSE(valid_utf8(std::string(20, 'a') + "\xE2\x82"));  // truncated at the end
  EXPECT_FALSE(valid_utf8("\xFF"));
}

}  // namespace
}  // namespace covet::text
