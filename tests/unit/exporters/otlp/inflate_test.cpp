#include "exporters/otlp/inflate.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace covet::otlp {
namespace {

std::string gzip(const std::string& input) {
  z_stream stream{};
  EXPECT_EQ(
      deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::string out(deflateBound(&stream, input.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

TEST(GunzipBounded, DecodesWhatGzipWrote) {
  const std::string text(100000, 'x');
  const Inflated result = gunzip_bounded(gzip(text), 1 << 20);
  ASSERT_EQ(result.outcome, Inflated::Outcome::ok) << result.error;
  EXPECT_EQ(result.data, text);
}

TEST(GunzipBounded, ExactlyTheLimitIsAllowedOneByteMoreIsNot) {
  const std::string text(5000, 'y');
  EXPECT_EQ(gunzip_bounded(gzip(text), 5000).outcome, Inflated::Outcome::ok);
  EXPECT_EQ(gunzip_bounded(gzip(text), 4999).outcome, Inflated::Outcome::too_large);
}

TEST(GunzipBounded, BombIsStoppedAtTheLimit) {
  // 64 MiB of zeros compress to about 64 KiB; the limit stops it at 1 MiB.
  const std::string bomb = gzip(std::string(64u << 20, '\0'));
  ASSERT_LT(bomb.size(), 100u * 1024);
  const Inflated result = gunzip_bounded(bomb, 1 << 20);
  EXPECT_EQ(result.outcome, Inflated::Outcome::too_large);
  EXPECT_TRUE(result.data.empty());
}

TEST(GunzipBounded, ConcatenatedMembersAreOneBody) {
  const Inflated result = gunzip_bounded(gzip("abc") + gzip("def"), 100);
  ASSERT_EQ(result.outcome, Inflated::Outcome::ok) << result.error;
  EXPECT_EQ(result.data, "abcdef");
}

TEST(GunzipBounded, TruncatedAndCorruptAndPlainAreMalformed) {
  const std::string good = gzip(std::string(1000, 'z') + "tail");
  EXPECT_EQ(gunzip_bounded(good.substr(0, good.size() - 6), 1 << 20).outcome,
            Inflated::Outcome::malformed);
  std::string corrupt = good;
  corrupt[corrupt.size() - 3] ^= 0x55;  // the trailer's length
  const Inflated bad = gunzip_bounded(corrupt, 1 << 20);
  EXPECT_EQ(bad.outcome, Inflated::Outcome::malformed);
  EXPECT_FALSE(bad.error.empty());
  EXPECT_EQ(gunzip_bounded("not gzip at all", 1 << 20).outcome, Inflated::Outcome::malformed);
  EXPECT_EQ(gunzip_bounded("", 1 << 20).outcome, Inflated::Outcome::malformed);
  EXPECT_EQ(gunzip_bounded(good + "junk", 1 << 20).outcome, Inflated::Outcome::malformed);
}

}  // namespace
}  // namespace covet::otlp
