#include "exporters/metrics/negotiation.h"

#include <gtest/gtest.h>

#include <string_view>

#include "exporters/metrics/exposition.h"

namespace covet::metrics {
namespace {

using scrape::Format;

struct FormatCase {
  std::string_view what;
  std::string_view accept;
  Format expected;
};

void expect_formats(std::initializer_list<FormatCase> cases) {
  for (const FormatCase& c : cases) {
    EXPECT_EQ(choose_format(c.accept), c.expected) << c.what << ": " << c.accept;
  }
}

TEST(NegotiationTest, ServesOpenMetricsToPrometheusAsItAsks) {
  expect_formats({
      {"Prometheus 2.x default",
       "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
       "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
       Format::openmetrics},
      {"Prometheus 2.x with protobuf first",
       "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding="
       "delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/"
       "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
       Format::openmetrics},
      {"Prometheus 2.49+ scrape_protocols default",
       "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;"
       "version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
       Format::openmetrics},
      {"Prometheus 3.x default",
       "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/"
       "openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;"
       "q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
       Format::openmetrics},
      {"scrape_protocols: [PrometheusText0.0.4]", "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
       Format::prometheus_text},
      {"scrape_protocols: [PrometheusText0.0.4, OpenMetricsText1.0.0]",
       "text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,*/*;"
       "q=0.1",
       Format::prometheus_text},
  });
}

TEST(NegotiationTest, ServesTextToEveryoneWhoDoesNotAskForOpenMetrics) {
  expect_formats({
      {"no Accept", "", Format::prometheus_text},
      {"curl", "*/*", Format::prometheus_text},
      {"wget and libcurl callers", "*/*;q=1", Format::prometheus_text},
      {"Firefox",
       "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
       Format::prometheus_text},
      {"Chrome",
       "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/"
       "apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
       Format::prometheus_text},
      {"application/* does not name OpenMetrics", "application/*", Format::prometheus_text},
      {"plain text", "text/plain", Format::prometheus_text},
      {"JSON only", "application/json", Format::prometheus_text},
      {"OpenMetrics 0.0.1 only", "application/openmetrics-text;version=0.0.1",
       Format::prometheus_text},
      {"OpenMetrics 2.0 only", "application/openmetrics-text; version=2.0.0",
       Format::prometheus_text},
  });
}

TEST(NegotiationTest, ServesOpenMetricsWhenNamedWithoutAVersion) {
  expect_formats({
      {"bare", "application/openmetrics-text", Format::openmetrics},
      {"with charset", "application/openmetrics-text; charset=utf-8", Format::openmetrics},
      {"quoted version", "application/openmetrics-text; version=\"1.0.0\"", Format::openmetrics},
      {"ahead of a wildcard", "application/openmetrics-text, */*", Format::openmetrics},
  });
}

TEST(NegotiationTest, WeighsOpenMetricsAgainstText) {
  expect_formats({
      {"equal weights favour OpenMetrics",
       "text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.5",
       Format::openmetrics},
      {"text preferred", "application/openmetrics-text;q=0.4, text/plain;q=0.5",
       Format::prometheus_text},
      {"text/* preferred", "application/openmetrics-text;q=0.4, text/*;q=0.5",
       Format::prometheus_text},
      {"*/* preferred", "application/openmetrics-text;q=0.4, */*", Format::prometheus_text},
      {"text refused, OpenMetrics barely accepted",
       "text/plain;q=0, application/openmetrics-text;q=0.001", Format::openmetrics},
      // The most specific range decides text's weight: text/plain;version=0.0.4 at 0.2 beats
      // text/plain at 0.9 and */* at 1.
      {"most specific text range wins",
       "*/*, text/plain;q=0.9, text/plain;version=0.0.4;q=0.2, "
       "application/openmetrics-text;q=0.3",
       Format::openmetrics},
      // A text version we do not write does not count as asking for ours.
      {"other text version ignored",
       "text/plain;version=1.0.0;q=0.9, application/openmetrics-text;q=0.5", Format::openmetrics},
  });
}

TEST(NegotiationTest, RefusedOpenMetricsIsNeverServed) {
  expect_formats({
      {"q=0", "application/openmetrics-text;q=0", Format::prometheus_text},
      {"q=0.000", "application/openmetrics-text;version=1.0.0;q=0.000", Format::prometheus_text},
      // The versioned range is more specific than the bare one, so its q=0 decides.
      {"versioned refusal wins",
       "application/openmetrics-text;q=1, application/openmetrics-text;version=1.0.0;q=0",
       Format::prometheus_text},
      {"refused and nothing else", "application/openmetrics-text;q=0, text/plain;q=0",
       Format::prometheus_text},
  });
}

TEST(NegotiationTest, ReadsWhitespaceCaseAndQuotesLiberally) {
  expect_formats({
      {"spaces everywhere",
       "  application/openmetrics-text ; version = 1.0.0 ; q = 0.9 ,  text/plain ; q=0.5 ",
       Format::openmetrics},
      {"tabs", "\tapplication/openmetrics-text;\tq=1\t,\ttext/plain;q=0.1", Format::openmetrics},
      {"upper case", "Application/OpenMetrics-Text;Version=1.0.0;Q=0.8, TEXT/PLAIN;Q=0.5",
       Format::openmetrics},
      {"upper case text wins", "APPLICATION/OPENMETRICS-TEXT;q=0.1, TEXT/PLAIN",
       Format::prometheus_text},
      // Split at that comma, the second half would read as OpenMetrics with q=1.
      {"quoted comma does not split",
       "text/plain;foo=\"x,application/openmetrics-text;bar=\";q=0.5", Format::prometheus_text},
      {"quoted semicolon does not split",
       "application/openmetrics-text;foo=\"x;q=0\";q=0.9, text/plain;q=0.5", Format::openmetrics},
      {"empty elements", ",,application/openmetrics-text,,", Format::openmetrics},
      {"q=1.000", "application/openmetrics-text;q=1.000, text/plain", Format::openmetrics},
  });
}

TEST(NegotiationTest, GarbageMeansText) {
  expect_formats({
      {"no slash", "openmetrics", Format::prometheus_text},
      {"missing subtype", "application/", Format::prometheus_text},
      {"missing type", "/openmetrics-text", Format::prometheus_text},
      {"q above 1", "application/openmetrics-text;q=2", Format::prometheus_text},
      {"q 1.5", "application/openmetrics-text;q=1.5", Format::prometheus_text},
      {"q with four decimals", "application/openmetrics-text;q=0.1234", Format::prometheus_text},
      {"negative q", "application/openmetrics-text;q=-1", Format::prometheus_text},
      {"q not a number", "application/openmetrics-text;q=high", Format::prometheus_text},
      {"empty q", "application/openmetrics-text;q=", Format::prometheus_text},
      {"unclosed quote", "application/openmetrics-text;version=\"1.0.0", Format::prometheus_text},
      {"only separators", ";;;,,,", Format::prometheus_text},
      {"binary", std::string_view("\x01\xff\0/\x7f", 5), Format::prometheus_text},
      {"leading parameter", ";application/openmetrics-text", Format::prometheus_text},
  });
}

struct EncodingCase {
  std::string_view what;
  std::string_view accept_encoding;
  bool gzip;
};

void expect_encodings(std::initializer_list<EncodingCase> cases) {
  for (const EncodingCase& c : cases) {
    EXPECT_EQ(accepts_gzip(c.accept_encoding), c.gzip) << c.what << ": " << c.accept_encoding;
  }
}

TEST(NegotiationTest, AcceptsGzipFromRealClients) {
  expect_encodings({
      {"Prometheus (Go net/http)", "gzip", true},
      {"curl --compressed", "deflate, gzip, br, zstd", true},
      {"browsers", "gzip, deflate, br, zstd", true},
      {"x-gzip alias", "x-gzip", true},
      {"weighted", "br;q=1.0, gzip;q=0.8, *;q=0.1", true},
      {"wildcard", "*", true},
      {"wildcard with gzip unnamed", "br, *;q=0.5", true},
  });
}

TEST(NegotiationTest, RefusesGzipWhenNotAllowed) {
  expect_encodings({
      {"no header", "", false},
      {"identity only", "identity", false},
      {"other codings", "br, deflate, zstd", false},
      {"gzip refused", "gzip;q=0", false},
      {"gzip refused with decimals", "gzip;q=0.000", false},
      {"gzip refused despite wildcard", "*, gzip;q=0", false},
      {"gzip refused before wildcard", "gzip;q=0, *;q=1", false},
      {"wildcard refused", "*;q=0", false},
      {"wildcard refused with identity", "identity, *;q=0", false},
      {"lookalike", "gzipped, xgzip, gzip2", false},
  });
}

TEST(NegotiationTest, ReadsEncodingsLiberally) {
  expect_encodings({
      {"case", "GZIP", true},
      {"spaces", "  br ,  gzip ; q = 0.5  ", true},
      {"upper Q", "gzip;Q=0.5", true},
      {"empty elements", ",,gzip,,", true},
      {"garbage q ignores the element", "gzip;q=abc", false},
      {"garbage q on the wildcard too", "*;q=2", false},
      {"binary", std::string_view("\0gzip", 5), false},
  });
}

TEST(NegotiationTest, NamesTheContentTypeOfEachFormat) {
  EXPECT_EQ(content_type(Format::prometheus_text), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(content_type(Format::prometheus_text), std::string_view(kTextContentType));
  EXPECT_EQ(content_type(Format::openmetrics),
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(kOpenMetricsContentType, "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

}  // namespace
}  // namespace covet::metrics
