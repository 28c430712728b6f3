#include "exporters/otlp/grpc_framing.h"

#include <gtest/gtest.h>

#include <string>

#include "exporters/otlp/wire.h"
#include "tests/unit/exporters/otlp/request_builder.h"

namespace covet::otlp::grpc {
namespace {

using covet::otlp::testing::bytes_field;
using covet::otlp::testing::varint_field;

using State = Deframer::State;

std::string prefix(unsigned char flag, std::uint32_t length) {
  std::string out(1, static_cast<char>(flag));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
  return out;
}

TEST(GrpcDeframer, OneMessageInOneFeed) {
  Deframer deframer(100);
  EXPECT_EQ(deframer.feed(prefix(0, 5) + "hello"), State::complete);
  EXPECT_EQ(deframer.finish(), State::complete);
  EXPECT_FALSE(deframer.compressed());
  EXPECT_EQ(deframer.take_message(), "hello");
}

TEST(GrpcDeframer, OneMessageByteByByte) {
  Deframer deframer(100);
  const std::string wire = prefix(1, 3) + "abc";
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    EXPECT_EQ(deframer.feed(wire.substr(i, 1)), State::need_more) << i;
  }
  EXPECT_EQ(deframer.feed(wire.substr(wire.size() - 1)), State::complete);
  EXPECT_TRUE(deframer.compressed());
  EXPECT_EQ(deframer.declared_length(), 3u);
  EXPECT_EQ(deframer.take_message(), "abc");
}

TEST(GrpcDeframer, EmptyMessageIsAMessage) {
  Deframer deframer(100);
  EXPECT_EQ(deframer.feed(prefix(0, 0)), State::complete);
  EXPECT_EQ(deframer.finish(), State::complete);
  EXPECT_EQ(deframer.take_message(), "");
}

TEST(GrpcDeframer, DeclaredLengthOverTheLimitIsRefusedBeforeBuffering) {
  Deframer deframer(100);
  EXPECT_EQ(deframer.feed(prefix(0, 101)), State::too_large);
  EXPECT_EQ(deframer.feed(std::string(101, 'x')), State::too_large);
  EXPECT_EQ(deframer.finish(), State::too_large);
  Deframer exact(100);
  EXPECT_EQ(exact.feed(prefix(0, 100) + std::string(100, 'x')), State::complete);
  Deframer huge(20 << 20);
  EXPECT_EQ(huge.feed(prefix(0, 0xffffffffu)), State::too_large);
}

TEST(GrpcDeframer, BadFlagIsMalformed) {
  Deframer deframer(100);
  EXPECT_EQ(deframer.feed(prefix(2, 1) + "x"), State::malformed);
  EXPECT_STREQ(deframer.error(), "invalid compressed flag");
}

TEST(GrpcDeframer, ASecondMessageIsMalformed) {
  Deframer together(100);
  EXPECT_EQ(together.feed(prefix(0, 1) + "a" + prefix(0, 1) + "b"), State::malformed);
  Deframer apart(100);
  EXPECT_EQ(apart.feed(prefix(0, 1) + "a"), State::complete);
  EXPECT_EQ(apart.feed(prefix(0, 1)), State::malformed);
  EXPECT_STREQ(apart.error(), "more than one request message");
}

TEST(GrpcDeframer, EndOfStreamWithoutAWholeMessageIsMalformed) {
  Deframer none(100);
  EXPECT_EQ(none.finish(), State::malformed);
  EXPECT_STREQ(none.error(), "no request message");
  Deframer short_prefix(100);
  short_prefix.feed(std::string("\0\0", 2));
  EXPECT_EQ(short_prefix.finish(), State::malformed);
  Deframer truncated(100);
  truncated.feed(prefix(0, 10) + "abc");
  EXPECT_EQ(truncated.finish(), State::malformed);
  EXPECT_STREQ(truncated.error(), "truncated request message");
}

TEST(GrpcFrameMessage, WritesTheUncompressedPrefix) {
  EXPECT_EQ(frame_message("abc"), prefix(0, 3) + "abc");
  EXPECT_EQ(frame_message(""), prefix(0, 0));
}

TEST(GrpcPercentEncode, EncodesOnlyWhatTheSpecSays) {
  EXPECT_EQ(percent_encode("span 3: trace_id 15 bytes, expected 16"),
            "span 3: trace_id 15 bytes, expected 16");
  EXPECT_EQ(percent_encode("100%"), "100%25");
  EXPECT_EQ(percent_encode("a\nb\r\x7f"), "a%0Ab%0D%7F");
  EXPECT_EQ(percent_encode("caf\xc3\xa9"), "caf%C3%A9");
  EXPECT_EQ(percent_encode(std::string("\0", 1)), "%00");
}

TEST(GrpcPercentEncode, DecodeIsItsInverseAndLenient) {
  const std::string text = "héllo 100% \n\t~";
  EXPECT_EQ(percent_decode(percent_encode(text)), text);
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("%e2%82%AC"), "\xe2\x82\xac");
}

TEST(GrpcBase64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("\xff\xfe\xfd"), "//79");
}

TEST(GrpcBase64, DecodesPaddedAndUnpadded) {
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode("Zm9vYg"), "foob");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_FALSE(base64_decode("Zh=="));  // non-zero unused bits
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(base64_decode(base64_encode(all)), all);
}

TEST(GrpcStatusDetails, StatusWithRetryInfo) {
  const std::string status = status_with_retry_info(14, "queue full", std::chrono::seconds(7));
  EXPECT_EQ(varint_field(status, 1), 14u);
  EXPECT_EQ(bytes_field(status, 2), "queue full");
  const std::string any = bytes_field(status, 3);
  EXPECT_EQ(bytes_field(any, 1), "type.googleapis.com/google.rpc.RetryInfo");
  const std::string retry_info = bytes_field(any, 2);
  const std::string duration = bytes_field(retry_info, 1);
  EXPECT_EQ(varint_field(duration, 1), 7u);
}

}  // namespace
}  // namespace covet::otlp::grpc
