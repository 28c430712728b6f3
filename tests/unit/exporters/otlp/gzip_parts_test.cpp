#include "exporters/otlp/gzip_parts.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "exporters/otlp/inflate.h"

namespace covet::otlp {
namespace {

std::string gunzip(const std::string& compressed) {
  const Inflated inflated = gunzip_bounded(compressed, 64 * 1024 * 1024);
  EXPECT_EQ(inflated.outcome, Inflated::Outcome::ok) << inflated.error;
  return inflated.data;
}

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random() & 0xFF);
  return bytes;
}

TEST(GzipParts, TheOutputIsTheConcatenationOfTheParts) {
  const std::vector<std::string_view> parts{"hello ", "", "world"};
  std::string out;
  gzip_parts(parts, 1, out);
  EXPECT_EQ(gunzip(out), "hello world");
}

TEST(GzipParts, NoPartsIsAnEmptyMember) {
  std::string out = "stale content";
  gzip_parts({}, 1, out);
  EXPECT_EQ(gunzip(out), "");
}

TEST(GzipParts, LargeAndIncompressiblePartsRoundTrip) {
  const std::string noise = random_bytes(700 * 1024, 1);
  const std::string text(500 * 1024, 'a');
  const std::vector<std::string_view> parts{noise, text, std::string_view(noise).substr(0, 1000)};
  std::string out;
  gzip_parts(parts, 1, out);
  EXPECT_TRUE(gunzip(out) == noise + text + noise.substr(0, 1000));  // no megabytes in a failure
  // A buffer reused for a smaller body holds only that body's member.
  const std::vector<std::string_view> small{"x"};
  gzip_parts(small, 9, out);
  EXPECT_EQ(gunzip(out), "x");
}

TEST(GzipParts, ThePartsShareOneWindow) {
  // Two copies of the same 16 KiB of noise: the second compresses to back-references,
  // which one stream per part could not do.
  const std::string noise = random_bytes(16 * 1024, 2);
  const std::vector<std::string_view> parts{noise, noise};
  std::string out;
  gzip_parts(parts, 1, out);
  EXPECT_TRUE(gunzip(out) == noise + noise);
  EXPECT_LT(out.size(), noise.size() + noise.size() / 4);
}

}  // namespace
}  // namespace covet::otlp
