#include "exporters/metrics/gzip_segments.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace covet::metrics {
namespace {

constexpr int kGzipOnlyWindowBits = 15 + 16;  // inflate a gzip wrapper, nothing else
constexpr int kRawWindowBits = -15;
constexpr std::size_t kGzipHeaderBytes = 10;
constexpr std::size_t kGzipTrailerBytes = 8;

struct Inflated {
  int rc = Z_OK;  // Z_STREAM_END when a whole stream, trailer checks included, was read
  std::string data;
  std::size_t unread = 0;  // input bytes left after the stream ended
};

// zlib's inflate over the whole of `input`, with an inflate stream that is always ended.
Inflated inflate_all(std::string_view input, int window_bits) {
  struct Stream {
    z_stream z{};
    int init_rc;
    explicit Stream(int bits) : init_rc(inflateInit2(&z, bits)) {}
    ~Stream() {
      if (init_rc == Z_OK) inflateEnd(&z);
    }
  } stream(window_bits);
  Inflated result;
  if (stream.init_rc != Z_OK) {
    result.rc = stream.init_rc;
    return result;
  }
  stream.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream.z.avail_in = static_cast<uInt>(input.size());
  char buffer[64 * 1024];
  while (true) {
    stream.z.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.z.avail_out = sizeof(buffer);
    result.rc = inflate(&stream.z, Z_NO_FLUSH);
    result.data.append(buffer, sizeof(buffer) - stream.z.avail_out);
    if (result.rc != Z_OK) break;  // Z_STREAM_END, an error, or Z_BUF_ERROR: input ran out
  }
  result.unread = stream.z.avail_in;
  return result;
}

bool have_gzip_tool() { return std::system("command -v gzip >/dev/null 2>&1") == 0; }

struct ToolResult {
  int exit_status = -1;
  std::string output;
};

// The real gzip(1), reading the file we wrote: an implementation that shares no code with
// the zlib we used to build it.
ToolResult gunzip_with_tool(const std::string& gz) {
  static int counter = 0;
  const std::string path = testing::TempDir() + "covet_gzip_segments_" + std::to_string(getpid()) +
                           "_" + std::to_string(++counter) + ".gz";
  {
    std::ofstream file(path, std::ios::binary);
    file.write(gz.data(), static_cast<std::streamsize>(gz.size()));
  }
  ToolResult result;
  const std::string command = "gzip -dc < '" + path + "' 2>/dev/null";
  if (FILE* pipe = popen(command.c_str(), "r"); pipe != nullptr) {
    char buffer[64 * 1024];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
    const int status = pclose(pipe);
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::remove(path.c_str());
  return result;
}

// Text shaped like a /metrics page: repetitive, as the real thing compresses.
std::string metrics_text(std::size_t bytes, unsigned seed) {
  std::mt19937 random(seed);
  std::string text;
  text.reserve(bytes + 128);
  while (text.size() < bytes) {
    text += "http_requests_total{method=\"GET\",path=\"/api/v1/items/";
    text += std::to_string(random() % 1000);
    text += "\",status=\"";
    text += std::to_string(200 + random() % 4 * 100);
    text += "\"} ";
    text += std::to_string(random());
    text += '\n';
  }
  text.resize(bytes);
  return text;
}

std::string random_bytes(std::size_t bytes, std::mt19937& random) {
  std::string data(bytes, '\0');
  for (char& c : data) c = static_cast<char>(random() & 0xff);
  return data;
}

std::vector<const DeflateSegment*> pointers(const std::vector<DeflateSegment>& segments) {
  std::vector<const DeflateSegment*> out;
  for (const DeflateSegment& segment : segments) out.push_back(&segment);
  return out;
}

std::uint32_t crc_of(std::string_view data) {
  return static_cast<std::uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

std::uint32_t read_le32(std::string_view bytes) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

void expect_gunzips_to(const std::string& gz, const std::string& expected) {
  const Inflated inflated = inflate_all(gz, kGzipOnlyWindowBits);
  EXPECT_EQ(inflated.rc, Z_STREAM_END);
  EXPECT_EQ(inflated.unread, 0u);
  EXPECT_EQ(inflated.data.size(), expected.size());
  EXPECT_TRUE(inflated.data == expected);  // not EXPECT_EQ: no megabytes in a failure
}

TEST(GzipSegmentsTest, EmptyInputIsAnEmptySegment) {
  const DeflateSegment segment = deflate_segment("", 6);
  EXPECT_TRUE(segment.data.empty());
  EXPECT_EQ(segment.crc, 0u);
  EXPECT_EQ(segment.size, 0u);
}

TEST(GzipSegmentsTest, SegmentIsRawDeflateEndingInAFullFlush) {
  const std::string input = metrics_text(10000, 1);
  const DeflateSegment segment = deflate_segment(input, Z_DEFAULT_COMPRESSION);
  EXPECT_EQ(segment.size, input.size());
  EXPECT_EQ(segment.crc, crc_of(input));
  EXPECT_LT(segment.data.size(), input.size() / 2);
  // The flush ends in an empty stored block, whose LEN/NLEN are these bytes.
  ASSERT_GE(segment.data.size(), 4u);
  EXPECT_EQ(segment.data.substr(segment.data.size() - 4), std::string("\0\0\xff\xff", 4));
  // All of the input comes back, yet the stream has not ended: no block is final.
  const Inflated inflated = inflate_all(segment.data, kRawWindowBits);
  EXPECT_EQ(inflated.rc, Z_BUF_ERROR);
  EXPECT_EQ(inflated.data, input);
}

TEST(GzipSegmentsTest, EveryLevelWorks) {
  const std::string input = metrics_text(4096, 2);
  for (int level = -1; level <= 9; ++level) {
    const DeflateSegment segment = deflate_segment(input, level);
    const DeflateSegment* list[] = {&segment};
    expect_gunzips_to(gzip_join(list), input);
  }
}

TEST(GzipSegmentsTest, RefusesLevelsZlibDoesNotHave) {
  for (int level : {-2, 10, 100}) {
    EXPECT_THROW(deflate_segment("x", level), std::invalid_argument) << level;
    EXPECT_THROW(deflate_segment("", level), std::invalid_argument) << level;
  }
}

TEST(GzipSegmentsTest, JoinOfNoSegmentsIsAnEmptyGzipFile) {
  const std::string gz = gzip_join(std::span<const DeflateSegment* const>());
  ASSERT_EQ(gz.size(), kGzipHeaderBytes + 2 + kGzipTrailerBytes);
  EXPECT_EQ(gz.substr(0, 3), "\x1f\x8b\x08");
  EXPECT_EQ(gz.substr(gz.size() - kGzipTrailerBytes), std::string(kGzipTrailerBytes, '\0'));
  expect_gunzips_to(gz, "");
  if (have_gzip_tool()) {
    const ToolResult tool = gunzip_with_tool(gz);
    EXPECT_EQ(tool.exit_status, 0);
    EXPECT_EQ(tool.output, "");
  }
}

// The closing block is the one zlib itself writes when a raw stream is finished with no
// input, so the joined stream ends the way zlib would have ended it.
TEST(GzipSegmentsTest, ClosesWithTheBlockZlibWritesToFinishAStream) {
  z_stream stream{};
  ASSERT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, kRawWindowBits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  unsigned char out[64];
  stream.next_out = out;
  stream.avail_out = sizeof(out);
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  const std::string finish(reinterpret_cast<char*>(out), sizeof(out) - stream.avail_out);
  deflateEnd(&stream);

  const std::string gz = gzip_join(std::span<const DeflateSegment* const>());
  EXPECT_EQ(gz.substr(kGzipHeaderBytes, gz.size() - kGzipHeaderBytes - kGzipTrailerBytes), finish);
}

TEST(GzipSegmentsTest, JoinOfOneSegment) {
  const std::string input = metrics_text(50000, 3);
  const DeflateSegment segment = deflate_segment(input, 6);
  const DeflateSegment* list[] = {&segment};
  const std::string gz = gzip_join(list);
  EXPECT_EQ(gz.size(), kGzipHeaderBytes + segment.data.size() + 2 + kGzipTrailerBytes);
  EXPECT_EQ(read_le32(gz.substr(gz.size() - 8, 4)), crc_of(input));
  EXPECT_EQ(read_le32(gz.substr(gz.size() - 4, 4)), input.size());
  expect_gunzips_to(gz, input);
  if (have_gzip_tool()) {
    const ToolResult tool = gunzip_with_tool(gz);
    EXPECT_EQ(tool.exit_status, 0);
    EXPECT_TRUE(tool.output == input);
  }
}

TEST(GzipSegmentsTest, JoinOfThreeSegmentsIncludingEmptyAndFiveMegabytes) {
  const std::vector<std::string> inputs = {
      "# HELP covet_up Whether the sidecar is up.\n# TYPE covet_up gauge\ncovet_up 1\n",
      "",
      metrics_text(5 * 1024 * 1024, 4),
      "",
  };
  std::vector<DeflateSegment> segments;
  std::string expected;
  const int levels[] = {9, 6, 1, 0};
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    segments.push_back(deflate_segment(inputs[i], levels[i]));
    expected += inputs[i];
  }
  const std::string gz = gzip_join(pointers(segments));
  EXPECT_LT(gz.size(), expected.size() / 4);  // the big segment is text and compresses
  expect_gunzips_to(gz, expected);
  if (!have_gzip_tool()) GTEST_SKIP() << "gzip(1) not installed";
  const ToolResult tool = gunzip_with_tool(gz);
  EXPECT_EQ(tool.exit_status, 0);
  EXPECT_EQ(tool.output.size(), expected.size());
  EXPECT_TRUE(tool.output == expected);
}

TEST(GzipSegmentsTest, SegmentsAreIndependentAndReusable) {
  const std::string a = metrics_text(3000, 5);
  const std::string b = metrics_text(7000, 6);
  const DeflateSegment sa = deflate_segment(a, 6);
  const DeflateSegment sb = deflate_segment(b, 6);
  const DeflateSegment* ab[] = {&sa, &sb};
  const DeflateSegment* bab[] = {&sb, &sa, &sb};
  const DeflateSegment* aaa[] = {&sa, &sa, &sa};
  expect_gunzips_to(gzip_join(ab), a + b);
  expect_gunzips_to(gzip_join(bab), b + a + b);
  expect_gunzips_to(gzip_join(aaa), a + a + a);
}

TEST(GzipSegmentsTest, DecompressorsCheckTheCombinedCrcAndSize) {
  const std::string a = metrics_text(2000, 7);
  const std::string b = "tail 1\n";
  const DeflateSegment sa = deflate_segment(a, 6);
  const DeflateSegment sb = deflate_segment(b, 6);
  const DeflateSegment* list[] = {&sa, &sb};
  const std::string gz = gzip_join(list);
  EXPECT_EQ(read_le32(gz.substr(gz.size() - 8, 4)), crc_of(a + b));
  expect_gunzips_to(gz, a + b);

  // One bit off in the CRC, then in ISIZE: both are refused.
  for (std::size_t offset : {gz.size() - 8, gz.size() - 4}) {
    std::string corrupt = gz;
    corrupt[offset] = static_cast<char>(corrupt[offset] ^ 1);
    EXPECT_EQ(inflate_all(corrupt, kGzipOnlyWindowBits).rc, Z_DATA_ERROR) << offset;
    if (have_gzip_tool()) {
      EXPECT_NE(gunzip_with_tool(corrupt).exit_status, 0) << offset;
    }
  }
  // A segment whose recorded CRC does not match its bytes is caught at the end, too.
  DeflateSegment lying = sb;
  lying.crc ^= 0x80000000u;
  const DeflateSegment* with_lie[] = {&sa, &lying};
  EXPECT_EQ(inflate_all(gzip_join(with_lie), kGzipOnlyWindowBits).rc, Z_DATA_ERROR);
}

TEST(GzipSegmentsTest, WritesIsizeModuloTwoToThe32) {
  // Not real data (nobody compresses 4 GiB in a unit test): the trailer arithmetic only.
  DeflateSegment huge;
  huge.size = (std::uint64_t{1} << 32) + 5;
  const DeflateSegment* list[] = {&huge};
  const std::string gz = gzip_join(list);
  EXPECT_EQ(read_le32(gz.substr(gz.size() - 4, 4)), 5u);
}

TEST(GzipSegmentsTest, ReusesTheOutputBuffer) {
  const std::string big = metrics_text(100000, 8);
  const std::string small = "x 1\n";
  const DeflateSegment sbig = deflate_segment(big, 6);
  const DeflateSegment ssmall = deflate_segment(small, 6);
  const DeflateSegment* first[] = {&sbig};
  const DeflateSegment* second[] = {&ssmall};
  std::string out = "stale contents";
  gzip_join(first, out);
  expect_gunzips_to(out, big);
  const std::size_t capacity = out.capacity();
  const char* storage = out.data();
  gzip_join(second, out);
  expect_gunzips_to(out, small);
  EXPECT_EQ(out.capacity(), capacity);
  EXPECT_EQ(out.data(), storage);
}

// Many joins of random segments (sizes, contents, levels, empties, repeats) from a fixed
// seed, so a failure reproduces.
TEST(GzipSegmentsTest, RandomJoinsDecompressToTheConcatenation) {
  std::mt19937 random(20261125);
  const bool tool = have_gzip_tool();
  for (int round = 0; round < 60; ++round) {
    const std::size_t count = random() % 7;
    std::vector<std::string> inputs;
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t size_kind = random() % 4;
      const std::size_t size = size_kind == 0   ? 0
                               : size_kind == 1 ? 1 + random() % 16
                               : size_kind == 2 ? random() % 4096
                                                : random() % (256 * 1024);
      switch (random() % 3) {
        case 0:
          inputs.push_back(random_bytes(size, random));
          break;
        case 1:
          inputs.push_back(metrics_text(size, static_cast<unsigned>(random())));
          break;
        default:
          inputs.push_back(std::string(size, static_cast<char>(random() & 0xff)));
          break;
      }
    }
    std::vector<DeflateSegment> segments;
    for (const std::string& input : inputs) {
      const int level = static_cast<int>(random() % 11) - 1;
      segments.push_back(deflate_segment(input, level));
    }
    // Sometimes the same segment more than once, as a page reuses unchanged parts.
    std::vector<const DeflateSegment*> order = pointers(segments);
    std::string expected;
    for (std::size_t i = 0; i < inputs.size(); ++i) expected += inputs[i];
    if (!segments.empty() && random() % 3 == 0) {
      const std::size_t again = random() % segments.size();
      order.push_back(&segments[again]);
      expected += inputs[again];
    }
    const std::string gz = gzip_join(order);
    SCOPED_TRACE("round " + std::to_string(round));
    expect_gunzips_to(gz, expected);
    if (tool && round % 10 == 0) {
      const ToolResult result = gunzip_with_tool(gz);
      EXPECT_EQ(result.exit_status, 0);
      EXPECT_TRUE(result.output == expected);
    }
  }
}

}  // namespace
}  // namespace covet::metrics
