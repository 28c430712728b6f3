#include "exporters/otlp/wire.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace covet::otlp::wire {
namespace {

std::string bytes(std::initializer_list<unsigned> values) {
  std::string out;
  for (unsigned value : values) out.push_back(static_cast<char>(value));
  return out;
}

TEST(OtlpWire, VarintsRoundTripAtEveryLength) {
  for (std::uint64_t value :
       {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{127}, std::uint64_t{128},
        std::uint64_t{300}, std::uint64_t{1} << 35, std::numeric_limits<std::uint64_t>::max()}) {
    std::string out;
    put_varint(out, value);
    EXPECT_EQ(out.size(), varint_size(value));
    std::size_t position = 0;
    std::uint64_t read = 0;
    ASSERT_TRUE(read_varint(out, position, read));
    EXPECT_EQ(read, value);
    EXPECT_EQ(position, out.size());
  }
  EXPECT_EQ(bytes({0xAC, 0x02}), [] {
    std::string out;
    put_varint(out, 300);
    return out;
  }());
}

TEST(OtlpWire, RejectsTruncatedAndOverlongVarints) {
  std::size_t position = 0;
  std::uint64_t value = 0;
  EXPECT_FALSE(read_varint(bytes({0x80}), position, value));
  EXPECT_FALSE(read_varint(std::string(), position, value));
  // Ten bytes are the most a 64-bit value takes; the tenth carries one bit.
  EXPECT_FALSE(read_varint(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}),
                           position, value));
  EXPECT_FALSE(read_varint(
      bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), position, value));
  EXPECT_EQ(position, 0u);
  EXPECT_TRUE(read_varint(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}),
                          position, value));
  EXPECT_EQ(value, std::numeric_limits<std::uint64_t>::max());
}

TEST(OtlpWire, ReadsEveryWireType) {
  std::string message;
  put_varint_field(message, 1, 150);
  put_fixed64_field(message, 2, 0x0102030405060708ULL);
  put_bytes_field(message, 3, "abc");
  put_fixed32_field(message, 4, 0xA0B0C0D0u);
  put_int64_field(message, 5, -1);
  put_double_field(message, 6, 2.5);
  Reader reader(message);
  Field field;
  ASSERT_TRUE(reader.next(field));
  EXPECT_EQ(field.number, 1u);
  EXPECT_EQ(field.type, WireType::varint);
  EXPECT_EQ(field.value, 150u);
  EXPECT_EQ(field.raw, bytes({0x08, 0x96, 0x01}));
  ASSERT_TRUE(reader.next(field));
  EXPECT_EQ(field.type, WireType::fixed64);
  EXPECT_EQ(field.value, 0x0102030405060708ULL);
  ASSERT_TRUE(reader.next(field));
  EXPECT_EQ(field.type, WireType::length_delimited);
  EXPECT_EQ(field.bytes, "abc");
  ASSERT_TRUE(reader.next(field));
  EXPECT_EQ(field.type, WireType::fixed32);
  EXPECT_EQ(field.value, 0xA0B0C0D0u);
  ASSERT_TRUE(reader.next(field));
  EXPECT_EQ(field.value, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(field.raw.size(), 11u);  // a negative int64 is ten bytes of varint
  ASSERT_TRUE(reader.next(field));
  EXPECT_EQ(field.value, 0x4004000000000000ULL);
  EXPECT_FALSE(reader.next(field));
  EXPECT_TRUE(reader.ok());
}

TEST(OtlpWire, RejectsMalformedFields) {
  const auto error_of = [](const std::string& message) {
    Reader reader(message);
    Field field;
    while (reader.next(field)) {
    }
    return reader.ok() ? std::string() : std::string(reader.error());
  };
  EXPECT_EQ(error_of(bytes({0x0A, 0x05, 'a', 'b'})), "length past the end of the message");
  EXPECT_EQ(error_of(bytes({0x09, 1, 2, 3})), "truncated fixed64");
  EXPECT_EQ(error_of(bytes({0x0D, 1, 2})), "truncated fixed32");
  EXPECT_EQ(error_of(bytes({0x08})), "truncated or overlong varint");
  EXPECT_EQ(error_of(bytes({0x08, 0x80})), "truncated or overlong varint");
  EXPECT_EQ(error_of(bytes({0x0B})), "groups (wire types 3 and 4) are not used by OTLP");
  EXPECT_EQ(error_of(bytes({0x0C})), "groups (wire types 3 and 4) are not used by OTLP");
  EXPECT_EQ(error_of(bytes({0x0E})), "invalid wire type");
  EXPECT_EQ(error_of(bytes({0x0F})), "invalid wire type");
  EXPECT_EQ(error_of(bytes({0x00, 0x00})), "invalid field number");
  EXPECT_EQ(error_of(bytes({0x80})), "truncated or overlong varint in a tag");
  // Field number 2^29 does not exist (its tag needs 33 bits); 2^29-1 does.
  std::string largest;
  put_varint_field(largest, (1u << 29) - 1, 7);
  EXPECT_EQ(error_of(largest), "");
  std::string past;
  put_varint(past, (std::uint64_t{1} << 29) << 3);
  put_varint(past, 7);
  EXPECT_EQ(error_of(past), "tag past 32 bits");
  EXPECT_EQ(error_of(""), "");
}

TEST(OtlpWire, ALengthNeverReadsPastItsMessage) {
  // A field whose length is past 2^63 must not wrap around the bounds check.
  std::string message = bytes({0x0A});
  put_varint(message, std::numeric_limits<std::uint64_t>::max());
  message += "abc";
  Reader reader(message);
  Field field;
  EXPECT_FALSE(reader.next(field));
  EXPECT_FALSE(reader.ok());
}

}  // namespace
}  // namespace covet::otlp::wire
