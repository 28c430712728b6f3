// libFuzzer target for the certificate time helpers (probes/cert_time.h): the input is a
// time as a server's certificate would carry it, DER (UTCTime or GeneralizedTime) or the
// text form OpenSSL reads. The first byte picks which; the rest is the time.
//
// Properties checked, beyond "no crash, no sanitizer report":
//  - a time that parses formats as RFC 3339 and that text, rewritten as GeneralizedTime,
//    parses back to the same second;
//  - the verdict on any parsed time is one of the known reasons.
//
//   ./cert_time_fuzz -max_total_time=60 tests/fuzz/corpus/cert_time

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "probes/cert_time.h"

namespace {

using namespace covet::probes;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "cert_time_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: a time zone offset can push a parsed time
// just outside the four-digit years, which have no GeneralizedTime spelling.
constexpr std::int64_t kFirstSecond = -62167219200;
constexpr std::int64_t kLastSecond = 253402300799;

void check(std::int64_t seconds) {
  if (seconds < kFirstSecond || seconds > kLastSecond) return;
  const std::string text = cert_time::format_rfc3339(seconds);
  // "YYYY-MM-DDTHH:MM:SSZ" -> "YYYYMMDDHHMMSSZ"
  if (text.size() != 20) fail("unexpected RFC 3339 length", text);
  std::string generalized;
  for (char c : text) {
    if (c != '-' && c != ':' && c != 'T') generalized.push_back(c);
  }
  const std::optional<std::int64_t> back = cert_time::parse_text(generalized);
  if (!back || *back != seconds) fail("RFC 3339 text does not parse back", text);

  for (std::int64_t now : {seconds - 86400 * 10, seconds, seconds + 1}) {
    const cert_time::Verdict verdict =
        cert_time::judge({"CN=fuzz", "fuzz", seconds - 1, seconds, 0}, now, 14, 3);
    const std::string_view reason = verdict.reason;
    if (reason != "" && reason != "expiring" && reason != "expired" && reason != "not_yet_valid") {
      fail("unexpected reason", verdict.reason);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const unsigned char> rest(data + 1, size - 1);
  std::optional<std::int64_t> seconds;
  if (data[0] & 1) {
    seconds = cert_time::parse_der(rest);
  } else {
    seconds = cert_time::parse_text(
        std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()));
  }
  if (seconds) check(*seconds);
  return 0;
}
