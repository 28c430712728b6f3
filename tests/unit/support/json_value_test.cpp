#include "tests/support/json_value.h"

#include <gtest/gtest.h>

#include <string>

namespace covet::testing {
namespace {

JsonValue parse_ok(const std::string& text) {
  JsonParseResult result = parse_json(text);
  EXPECT_TRUE(result.value.has_value()) << text << ": " << result.error;
  return result.value.value_or(JsonValue());
}

std::string parse_error(const std::string& text) {
  JsonParseResult result = parse_json(text);
  EXPECT_FALSE(result.value.has_value()) << text << " parsed";
  return result.error;
}

TEST(JsonValue, ScalarsAndWhitespace) {
  EXPECT_TRUE(parse_ok("null").is_null());
  EXPECT_TRUE(parse_ok(" \t\r\ntrue\n").as_bool());
  EXPECT_TRUE(parse_ok("false").is_bool());
  EXPECT_FALSE(parse_ok("false").as_bool());
  EXPECT_EQ(parse_ok("\"x\"").as_string(), "x");
}

TEST(JsonValue, Numbers) {
  EXPECT_EQ(parse_ok("0").as_number(), 0);
  EXPECT_EQ(parse_ok("-0").as_number(), 0);
  EXPECT_EQ(parse_ok("42").as_number(), 42);
  EXPECT_EQ(parse_ok("-12.5").as_number(), -12.5);
  EXPECT_EQ(parse_ok("1e3").as_number(), 1000);
  EXPECT_EQ(parse_ok("2.5E-1").as_number(), 0.25);
  EXPECT_EQ(parse_ok("1E+2").as_number(), 100);
  // Correctly rounded: the double Prometheus printed is the double read back.
  EXPECT_EQ(parse_ok("1795568253.595").as_number(), 1795568253.595);
  EXPECT_EQ(parse_ok("0.1").as_number(), 0.1);
}

TEST(JsonValue, MalformedNumbersAreRefused) {
  for (const char* text : {"01", "-", "+1", ".5", "1.", "1e", "1e+", "-a", "0x10", "1.5.2", "NaN",
                           "Infinity", "-Infinity", "1e400"}) {
    EXPECT_FALSE(parse_json(text).value.has_value()) << text;
  }
}

TEST(JsonValue, StringEscapes) {
  EXPECT_EQ(parse_ok(R"("a\"b\\c\/d\b\f\n\r\t")").as_string(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(parse_ok(R"("\u0041\u00e9\u20AC")").as_string(), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(parse_ok(R"("\u0000")").as_string(), std::string(1, '\0'));
  // U+1F600 as a surrogate pair, and passed through as raw UTF-8.
  EXPECT_EQ(parse_ok(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(parse_ok("\"\xF0\x9F\x98\x80\"").as_string(), "\xF0\x9F\x98\x80");
}

TEST(JsonValue, MalformedStringsAreRefused) {
  EXPECT_NE(parse_error(R"("abc)"), "");
  EXPECT_NE(parse_error(R"("\x")").find("invalid escape"), std::string::npos);
  EXPECT_NE(parse_error(R"("\u12")").find("\\u escape"), std::string::npos);
  EXPECT_NE(parse_error(R"("\u12G4")").find("invalid \\u escape"), std::string::npos);
  EXPECT_NE(parse_error(R"("\ud83d")").find("high surrogate"), std::string::npos);
  EXPECT_NE(parse_error(R"("\ud83d\u0041")").find("high surrogate"), std::string::npos);
  EXPECT_NE(parse_error(R"("\ude00")").find("lone low surrogate"), std::string::npos);
  EXPECT_NE(parse_error("\"a\nb\"").find("control character"), std::string::npos);
  EXPECT_NE(parse_error("'a'"), "");
  // Invalid UTF-8: a stray continuation byte, an overlong '/', an encoded surrogate, a
  // truncated sequence, a code point above U+10FFFF.
  for (const char* text :
       {"\"\x80\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xE2\x82\"", "\"\xF4\x90\x80\x80\""}) {
    EXPECT_NE(parse_error(text).find("UTF-8"), std::string::npos) << text;
  }
}

TEST(JsonValue, ArraysAndObjects) {
  const JsonValue v = parse_ok(R"({"a": [1, "two", null, {"b": true}], "c": {}, "d": []})");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.as_object().size(), 3u);
  EXPECT_EQ(v.as_object()[0].first, "a");  // document order kept
  const JsonValue* a = v.find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->as_array().size(), 4u);
  EXPECT_EQ(a->as_array()[0].as_number(), 1);
  EXPECT_EQ(a->as_array()[1].as_string(), "two");
  EXPECT_TRUE(a->as_array()[2].is_null());
  EXPECT_TRUE(a->as_array()[3].find("b")->as_bool());
  EXPECT_TRUE(v.find("c")->is_object());
  EXPECT_TRUE(v.find("d")->as_array().empty());
  EXPECT_EQ(v.find("missing"), nullptr);
  EXPECT_EQ(a->find("a"), nullptr);  // not an object
  EXPECT_EQ(a->as_array()[1].string_at("x"), std::nullopt);
}

TEST(JsonValue, WrongTypeAccessorsAreEmpty) {
  const JsonValue n = parse_ok("3");
  EXPECT_EQ(n.as_string(), "");
  EXPECT_TRUE(n.as_array().empty());
  EXPECT_TRUE(n.as_object().empty());
  EXPECT_FALSE(n.as_bool());
  EXPECT_EQ(parse_ok("\"3\"").as_number(), 0);
}

TEST(JsonValue, StringAt) {
  const JsonValue v = parse_ok(R"({"status": "success", "n": 1})");
  EXPECT_EQ(v.string_at("status"), "success");
  EXPECT_EQ(v.string_at("n"), std::nullopt);
  EXPECT_EQ(v.string_at("missing"), std::nullopt);
}

TEST(JsonValue, Equality) {
  EXPECT_EQ(parse_ok(R"({"a": [1, {"b": null}]})"),
            parse_ok(R"({ "a" : [ 1 , { "b" : null } ] })"));
  EXPECT_FALSE(parse_ok(R"({"a": 1, "b": 2})") == parse_ok(R"({"b": 2, "a": 1})"));
  EXPECT_FALSE(parse_ok("1") == parse_ok("\"1\""));
}

TEST(JsonValue, StructuralErrorsAreRefused) {
  for (const char* text :
       {"", "   ", "[1,]", "[1 2]", "[", "]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":}",
        "{\"a\":1", "[1]]", "1 2", "tru", "nul", "True", "/* c */ 1", "[1] // c"}) {
    EXPECT_FALSE(parse_json(text).value.has_value()) << text;
  }
}

TEST(JsonValue, DuplicateKeysAreRefused) {
  EXPECT_NE(parse_error(R"({"a": 1, "a": 2})").find("duplicate key \"a\""), std::string::npos);
}

TEST(JsonValue, ErrorsNameTheOffset) {
  EXPECT_EQ(parse_error("[1, x]"), "json: offset 4: unexpected character 'x'");
  EXPECT_EQ(parse_error("{} {}"), "json: offset 3: unexpected text after the value");
}

TEST(JsonValue, DeepNestingIsBounded) {
  EXPECT_TRUE(parse_json(std::string(256, '[') + std::string(256, ']')).value.has_value());
  EXPECT_NE(parse_error(std::string(257, '[') + std::string(257, ']')).find("nesting"),
            std::string::npos);
  // Far deeper than the stack would allow if it recursed without a bound.
  EXPECT_NE(parse_error(std::string(1000000, '[')).find("nesting"), std::string::npos);
}

}  // namespace
}  // namespace covet::testing
