#include "exporters/otlp/json_reader.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace covet::otlp::json {
namespace {

constexpr int kMaxDepth = 256;

// Whether `document` is one valid JSON value, read by skipping it.
bool valid(std::string_view document) {
  Reader reader(document, kMaxDepth);
  return reader.skip_value() && reader.at_end();
}

std::string error_of(std::string_view document) {
  Reader reader(document, kMaxDepth);
  if (reader.skip_value() && reader.at_end()) return "";
  return reader.error();
}

std::string string_of(std::string_view document) {
  Reader reader(document, kMaxDepth);
  std::string_view value;
  if (!reader.read_string(value)) return "error: " + reader.error();
  return std::string(value);
}

TEST(JsonReader, WalksAnObjectMemberByMember) {
  Reader reader(R"( { "a" : [1, -2.5e3, "x", true, null, {}], "b\u0041" : { "c": false } } )",
                kMaxDepth);
  ASSERT_TRUE(reader.begin_object());
  std::string_view key;
  bool done = false;
  ASSERT_TRUE(reader.next_member(key, done));
  ASSERT_FALSE(done);
  EXPECT_EQ(key, "a");
  ASSERT_EQ(reader.peek(), Kind::array);
  ASSERT_TRUE(reader.begin_array());
  ASSERT_TRUE(reader.next_element(done));
  Number number;
  ASSERT_TRUE(reader.read_number(number));
  EXPECT_EQ(number.text, "1");
  EXPECT_TRUE(number.integral);
  ASSERT_TRUE(reader.next_element(done));
  ASSERT_TRUE(reader.read_number(number));
  EXPECT_EQ(number.text, "-2.5e3");
  EXPECT_FALSE(number.integral);
  for (const Kind kind : {Kind::string, Kind::boolean, Kind::null, Kind::object}) {
    ASSERT_TRUE(reader.next_element(done));
    ASSERT_FALSE(done);
    EXPECT_EQ(reader.peek(), kind);
    ASSERT_TRUE(reader.skip_value());
  }
  ASSERT_TRUE(reader.next_element(done));
  EXPECT_TRUE(done);
  ASSERT_TRUE(reader.next_member(key, done));
  EXPECT_EQ(key, "bA");  // decoded
  ASSERT_TRUE(reader.skip_value());
  ASSERT_TRUE(reader.next_member(key, done));
  EXPECT_TRUE(done);
  EXPECT_TRUE(reader.at_end());
  EXPECT_FALSE(reader.failed());
}

TEST(JsonReader, DecodesEscapesAndSurrogatePairs) {
  EXPECT_EQ(string_of(R"("plain")"), "plain");
  EXPECT_EQ(string_of(R"("a\"b\\c\/d\b\f\n\r\t")"), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(string_of(R"("\u00e9\u20AC")"), "\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(string_of(R"("\ud83d\ude00 after")"), "\xF0\x9F\x98\x80 after");
  EXPECT_EQ(string_of(R"("\u0000")"), std::string(1, '\0'));
  EXPECT_EQ(string_of("\"caf\xC3\xA9 \\n\""), "caf\xC3\xA9 \n");
}

TEST(JsonReader, RefusesMalformedStrings) {
  for (const std::string_view bad :
       {R"("\ud800")", R"("\ud800\u0041")", R"("\udc00")", R"("\x41")", R"("\u12")", "\"\xff\"",
        "\"a\xC3\"", "\"\xC3\\n\"", "\"tab\there\"", R"("open)", "\"\\"}) {
    Reader reader(bad, kMaxDepth);
    std::string_view value;
    EXPECT_FALSE(reader.read_string(value)) << bad;
    EXPECT_EQ(reader.error().rfind("invalid JSON: ", 0), 0u) << bad << ": " << reader.error();
  }
}

TEST(JsonReader, NumbersFollowTheGrammar) {
  for (const std::string_view good : {"0", "-0", "12", "-12.5", "1e5", "1E+5", "1.5e-7", "0.0"}) {
    EXPECT_TRUE(valid(good)) << good;
  }
  for (const std::string_view bad :
       {"01", "-", "+1", "1.", ".5", "1e", "1e+", "0x10", "--1", "NaN"}) {
    EXPECT_FALSE(valid(bad)) << bad;
  }
}

TEST(JsonReader, RefusesWhatIsNotOneJsonValue) {
  EXPECT_TRUE(valid(R"({"a":[1,{"b":null}],"c":"d"})"));
  EXPECT_TRUE(valid(" [ ] "));
  for (const std::string_view bad : std::initializer_list<std::string_view>{
           "", "   ", "{", "[1,]", "[,1]", R"({"a":1,})", R"({"a" 1})", R"({a:1})", "{} {}",
           "[1 2]", "tru", "nul", std::string_view("{}\0", 3), R"({"a":1]})", "]"}) {
    const std::string error = error_of(bad);
    EXPECT_EQ(error.rfind("invalid JSON: ", 0), 0u) << "'" << bad << "': " << error;
  }
  // The error says where.
  EXPECT_EQ(error_of(R"({"a":1,})"), "invalid JSON: expected a member name at byte 7");
}

TEST(JsonReader, BoundsNesting) {
  const auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']');
  };
  EXPECT_TRUE(valid(nested(kMaxDepth)));
  EXPECT_TRUE(valid("[" + nested(kMaxDepth - 1) + "," + nested(kMaxDepth - 1) + "]"));
  EXPECT_EQ(error_of(nested(kMaxDepth + 1)), "invalid JSON: nested deeper than 256 levels");
}

}  // namespace
}  // namespace covet::otlp::json
