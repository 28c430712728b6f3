// libFuzzer target for the OTLP/gRPC receiver's protocol: the pure framing
// (exporters/otlp/grpc_framing.h) and a whole GrpcSession (grpc_session.h), the nghttp2
// server session every connection runs, fed the input as a client's bytes. Input: anything;
// an input not starting with the HTTP/2 client preface gets one (and an empty SETTINGS)
// put in front, so random bytes reach the frame layer.
//
// Properties checked, beyond "no crash, no sanitizer report, no leak":
//  - the deframer's complete message has its declared length, and too_large is said only
//    of a declared length over the limit;
//  - percent_encode writes only 0x20..0x7E without a bare '%', and decodes back;
//  - base64 decodes what it encodes, and re-encoding a decoded input decodes the same;
//  - the Intake's answers, now, later, or after the session is gone, are all safe.
//
//   ./grpc_framing_fuzz -max_total_time=60 tests/fuzz/corpus/grpc_framing

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exporters/otlp/grpc_framing.h"
#include "exporters/otlp/grpc_session.h"

namespace {

using namespace covet::otlp;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "grpc_framing_fuzz: %s\n", what);
  std::abort();
}

// Answers in turn: accepted, invalid, full, and later (held until the end).
class FuzzIntake : public Intake {
 public:
  void submit(std::string, std::string_view, Done done) override {
    switch (count_++ % 4) {
      case 0:
        done(Admission{Admission::Outcome::accepted, "", 1, {}});
        break;
      case 1:
        done(Admission{Admission::Outcome::invalid, "bad\n%span\xff", 0, {}});
        break;
      case 2:
        done(Admission{Admission::Outcome::full, "", 0, std::chrono::seconds(3)});
        break;
      default:
        held.push_back(std::move(done));
    }
  }
  void refused_request(std::string_view) override {}
  std::vector<Done> held;

 private:
  std::size_t count_ = 0;
};

void check_deframer(std::string_view input) {
  constexpr std::size_t kMax = 4096;
  const std::size_t step = input.empty() ? 1 : 1 + static_cast<unsigned char>(input[0]) % 7;
  grpc::Deframer deframer(kMax);
  for (std::size_t at = 0; at < input.size(); at += step) deframer.feed(input.substr(at, step));
  const auto state = deframer.finish();
  if (state == grpc::Deframer::State::complete) {
    if (deframer.take_message().size() != deframer.declared_length()) fail("length mismatch");
  }
  if (state == grpc::Deframer::State::too_large && deframer.declared_length() <= kMax) {
    fail("too_large under the limit");
  }
}

void check_encodings(std::string_view input) {
  const std::string encoded = grpc::percent_encode(input);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const auto c = static_cast<unsigned char>(encoded[i]);
    if (c < 0x20 || c > 0x7e) fail("percent_encode left a byte outside 0x20..0x7E");
  }
  if (grpc::percent_decode(encoded) != input) fail("percent round trip");
  if (grpc::base64_decode(grpc::base64_encode(input)) != std::string(input)) {
    fail("base64 round trip");
  }
  if (auto decoded = grpc::base64_decode(input)) {
    if (grpc::base64_decode(grpc::base64_encode(*decoded)) != *decoded) fail("base64 re-encode");
  }
}

void drive_session(std::string_view input) {
  static const std::string kPreface =
      std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\4\0\0\0\0\0", 9);
  std::string bytes(input);
  if (input.substr(0, 3) != "PRI") bytes = kPreface + bytes;

  GrpcLimits limits;
  limits.max_message_bytes = 64 * 1024;
  limits.max_concurrent_streams = 8;
  GrpcStats stats;
  FuzzIntake intake;
  std::string out;
  auto session = std::make_unique<GrpcSession>(intake, limits, stats, [] {});
  const std::size_t step = 1 + bytes.size() % 61;
  for (std::size_t at = 0; at < bytes.size(); at += step) {
    const bool ok = session->receive(std::string_view(bytes).substr(at, step));
    session->output(out);
    if (!ok || session->finished()) break;
    out.clear();
  }
  // Half the held answers while the session lives, after a graceful shutdown; the rest
  // after it is gone.
  session->shutdown();
  for (std::size_t i = 0; i < intake.held.size() / 2; ++i) intake.held[i](Admission{});
  session->output(out);
  (void)session->finished();
  session.reset();
  for (std::size_t i = intake.held.size() / 2; i < intake.held.size(); ++i) {
    intake.held[i](Admission{});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_deframer(input);
  check_encodings(input);
  drive_session(input);
  return 0;
}
