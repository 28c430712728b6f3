// The gRPC protocol of the OTLP receiver without sockets: a GrpcSession fed by an nghttp2
// client session in memory (tests/support/grpc_test_client.h).
#include "exporters/otlp/grpc_session.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "exporters/otlp/grpc_framing.h"
#include "exporters/otlp/traces.h"
#include "exporters/otlp/wire.h"
#include "tests/support/grpc_test_client.h"
#include "tests/unit/exporters/otlp/request_builder.h"

namespace covet::otlp {
namespace {

using covet::otlp::testing::bytes_field;
using covet::otlp::testing::varint_field;

using covet::testing::grpc_frame;
using covet::testing::gzip_bytes;
using covet::testing::H2Client;

class FakeIntake : public Intake {
 public:
  void submit(std::string request, std::string_view protocol, Done done) override {
    requests.push_back(std::move(request));
    protocols.emplace_back(protocol);
    if (hold) {
      held.push_back(std::move(done));
      return;
    }
    done(answer);
  }
  void refused_request(std::string_view reason) override { refusals.emplace_back(reason); }

  Admission answer;
  bool hold = false;
  std::vector<Done> held;
  std::vector<std::string> requests;
  std::vector<std::string> protocols;
  std::vector<std::string> refusals;
};

struct Harness {
  explicit Harness(GrpcLimits l = {}) : limits(l) {
    session = std::make_unique<GrpcSession>(intake, limits, stats, [this] { ++wakes; });
  }
  // Moves bytes both ways until neither side has anything to say.
  void pump() {
    for (int round = 0; round < 100; ++round) {
      const std::string to_server = client.output();
      if (!to_server.empty()) server_ok = session->receive(to_server) && server_ok;
      std::string to_client;
      session->output(to_client);
      if (!to_client.empty()) client.receive(to_client);
      if (to_server.empty() && to_client.empty()) return;
    }
  }
  H2Client::Response& call(std::string body, std::string path = std::string(kTraceExportPath),
                           std::vector<std::pair<std::string, std::string>> extra = {},
                           std::string content_type = "application/grpc",
                           std::string method = "POST") {
    const std::int32_t id = client.call(std::move(body), path, extra, content_type, method);
    pump();
    return client.response(id);
  }

  GrpcLimits limits;
  GrpcStats stats;
  FakeIntake intake;
  int wakes = 0;
  bool server_ok = true;
  H2Client client;
  std::unique_ptr<GrpcSession> session;
};

TEST(GrpcSession, AcceptedCallGetsAResponseMessageAndStatusZero) {
  Harness h;
  const std::string request = testing::simple_request(3);
  auto& response = h.call(grpc_frame(request));
  ASSERT_TRUE(response.closed);
  EXPECT_EQ(response.http_status(), 200);
  EXPECT_EQ(response.headers["content-type"], "application/grpc");
  EXPECT_EQ(response.trailers["grpc-status"], "0");
  EXPECT_EQ(response.data, grpc_frame(encode_response(0, "")));
  ASSERT_EQ(h.intake.requests.size(), 1u);
  EXPECT_EQ(h.intake.requests[0], request);
  EXPECT_EQ(h.intake.protocols[0], "grpc");
  EXPECT_EQ(h.stats.calls, 1u);
  EXPECT_EQ(h.stats.calls_by_status[0], 1u);
  EXPECT_TRUE(h.intake.refusals.empty());
}

TEST(GrpcSession, PartialSuccessIsInTheResponseMessage) {
  Harness h;
  h.intake.answer = {Admission::Outcome::accepted, "2 spans dropped", 2, {}};
  auto& response = h.call(grpc_frame(testing::simple_request(3)));
  EXPECT_EQ(response.grpc_status(), 0);
  EXPECT_EQ(response.data, grpc_frame(encode_response(2, "2 spans dropped")));
}

TEST(GrpcSession, GzipMessageIsInflated) {
  Harness h;
  const std::string request = testing::simple_request(5);
  auto& response = h.call(grpc_frame(gzip_bytes(request), true), std::string(kTraceExportPath),
                          {{"grpc-encoding", "gzip"}});
  EXPECT_EQ(response.grpc_status(), 0);
  ASSERT_EQ(h.intake.requests.size(), 1u);
  EXPECT_EQ(h.intake.requests[0], request);
}

TEST(GrpcSession, UncompressedMessageWithGzipEncodingHeaderIsFine) {
  Harness h;
  auto& response =
      h.call(grpc_frame("x"), std::string(kTraceExportPath), {{"grpc-encoding", "gzip"}});
  EXPECT_EQ(response.grpc_status(), 0);
}

TEST(GrpcSession, InvalidIsInvalidArgumentWithAPercentEncodedMessage) {
  Harness h;
  h.intake.answer = {Admission::Outcome::invalid, "spans[0].trace_id: 15 bytes\n100%", 0, {}};
  auto& response = h.call(grpc_frame("junk"));
  EXPECT_EQ(response.http_status(), 200);
  EXPECT_EQ(response.grpc_status(), 3);
  EXPECT_TRUE(response.trailers.empty());  // trailers-only
  EXPECT_EQ(response.headers["grpc-message"], "spans[0].trace_id: 15 bytes%0A100%25");
  EXPECT_EQ(h.stats.calls_by_status[3], 1u);
}

TEST(GrpcSession, FullIsUnavailableWithRetryInfo) {
  Harness h;
  h.intake.answer = {Admission::Outcome::full, "queue full", 0, std::chrono::seconds(9)};
  auto& response = h.call(grpc_frame("x"));
  EXPECT_EQ(response.grpc_status(), 14);
  EXPECT_EQ(response.metadata("grpc-message"), "queue full");
  const auto details = grpc::base64_decode(response.metadata("grpc-status-details-bin"));
  ASSERT_TRUE(details);
  EXPECT_EQ(varint_field(*details, 1), 14u);
  EXPECT_EQ(bytes_field(*details, 2), "queue full");
  const std::string any = bytes_field(*details, 3);
  EXPECT_EQ(bytes_field(any, 1), "type.googleapis.com/google.rpc.RetryInfo");
  EXPECT_EQ(varint_field(bytes_field(bytes_field(any, 2), 1), 1), 9u);
}

TEST(GrpcSession, DeclaredLengthOverTheLimitIsResourceExhausted) {
  GrpcLimits limits;
  limits.max_message_bytes = 1000;
  Harness h(limits);
  auto& response = h.call(grpc_frame(std::string(1001, 'x')));
  EXPECT_EQ(response.grpc_status(), 8);
  EXPECT_TRUE(h.intake.requests.empty());
  EXPECT_EQ(h.intake.refusals, std::vector<std::string>{"too_large"});
  EXPECT_TRUE(h.server_ok);
}

TEST(GrpcSession, LargeBodyRefusedEarlyIsResetAfterTheAnswer) {
  GrpcLimits limits;
  limits.max_message_bytes = 1000;
  Harness h(limits);
  // 3 MiB announced and sent: the answer comes after the prefix, the rest is cut.
  auto& response = h.call(grpc_frame(std::string(3 << 20, 'x')));
  EXPECT_TRUE(response.closed);
  EXPECT_EQ(response.grpc_status(), 8);
  EXPECT_EQ(h.intake.refusals.size(), 1u);
}

TEST(GrpcSession, GzipBombIsResourceExhausted) {
  GrpcLimits limits;
  limits.max_message_bytes = 1 << 20;
  Harness h(limits);
  const std::string bomb = gzip_bytes(std::string(16 << 20, '\0'));
  ASSERT_LT(bomb.size(), limits.max_message_bytes);
  auto& response =
      h.call(grpc_frame(bomb, true), std::string(kTraceExportPath), {{"grpc-encoding", "gzip"}});
  EXPECT_EQ(response.grpc_status(), 8);
  EXPECT_EQ(h.intake.refusals, std::vector<std::string>{"too_large"});
}

TEST(GrpcSession, CorruptGzipIsInternal) {
  Harness h;
  auto& response = h.call(grpc_frame("not gzip", true), std::string(kTraceExportPath),
                          {{"grpc-encoding", "gzip"}});
  EXPECT_EQ(response.grpc_status(), 13);
  EXPECT_EQ(h.intake.refusals, std::vector<std::string>{"malformed"});
}

TEST(GrpcSession, CompressedFlagWithoutEncodingIsInternal) {
  Harness h;
  EXPECT_EQ(h.call(grpc_frame("x", true)).grpc_status(), 13);
  EXPECT_EQ(
      h.call(grpc_frame("x", true), std::string(kTraceExportPath), {{"grpc-encoding", "identity"}})
          .grpc_status(),
      13);
  EXPECT_TRUE(h.intake.requests.empty());
}

TEST(GrpcSession, UnsupportedEncodingIsUnimplementedWithAcceptEncoding) {
  Harness h;
  auto& response =
      h.call(grpc_frame("x", true), std::string(kTraceExportPath), {{"grpc-encoding", "snappy"}});
  EXPECT_EQ(response.grpc_status(), 12);
  EXPECT_EQ(response.metadata("grpc-accept-encoding"), "gzip,identity");
  EXPECT_EQ(h.intake.refusals, std::vector<std::string>{"unsupported_encoding"});
}

TEST(GrpcSession, OtherPathIsUnimplemented) {
  Harness h;
  auto& response =
      h.call(grpc_frame("x"), "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export");
  EXPECT_EQ(response.grpc_status(), 12);
  EXPECT_EQ(h.intake.refusals, std::vector<std::string>{"unimplemented"});
  EXPECT_TRUE(h.intake.requests.empty());
}

TEST(GrpcSession, WrongContentTypeIsHttp415) {
  Harness h;
  auto& response = h.call(grpc_frame("x"), std::string(kTraceExportPath), {}, "application/json");
  EXPECT_EQ(response.http_status(), 415);
  auto& web = h.call(grpc_frame("x"), std::string(kTraceExportPath), {}, "application/grpc-web");
  EXPECT_EQ(web.http_status(), 415);
  auto& proto =
      h.call(grpc_frame("x"), std::string(kTraceExportPath), {}, "application/grpc+proto");
  EXPECT_EQ(proto.grpc_status(), 0);
  EXPECT_EQ(h.stats.http_refusals, 2u);
}

TEST(GrpcSession, GetIsHttp405) {
  Harness h;
  auto& response = h.call("", std::string(kTraceExportPath), {}, "application/grpc", "GET");
  EXPECT_EQ(response.http_status(), 405);
  EXPECT_TRUE(h.intake.requests.empty());
}

TEST(GrpcSession, NoMessageOrTwoMessagesIsInternal) {
  Harness h;
  EXPECT_EQ(h.call("").grpc_status(), 13);
  EXPECT_EQ(h.call(grpc_frame("a") + grpc_frame("b")).grpc_status(), 13);
  EXPECT_EQ(h.call(grpc_frame("abc").substr(0, 6)).grpc_status(), 13);
  EXPECT_EQ(h.intake.refusals.size(), 3u);
}

TEST(GrpcSession, ConcurrentCallsAnsweredLaterInAnyOrder) {
  Harness h;
  h.intake.hold = true;
  const auto first = h.client.call(grpc_frame("one"));
  const auto second = h.client.call(grpc_frame("two"));
  h.pump();
  ASSERT_EQ(h.intake.held.size(), 2u);
  EXPECT_EQ(h.session->waiting_calls(), 2u);
  h.intake.held[1](Admission{Admission::Outcome::invalid, "bad", 0, {}});
  EXPECT_EQ(h.wakes, 1);  // outside receive(): the owner is told to send
  h.pump();
  EXPECT_EQ(h.client.response(second).grpc_status(), 3);
  EXPECT_FALSE(h.client.response(first).closed);
  h.intake.held[0](Admission{});
  h.pump();
  EXPECT_EQ(h.client.response(first).grpc_status(), 0);
  EXPECT_EQ(h.session->waiting_calls(), 0u);
}

TEST(GrpcSession, AnswerAfterTheSessionIsGoneIsDropped) {
  Harness h;
  h.intake.hold = true;
  h.call(grpc_frame("one"));
  ASSERT_EQ(h.intake.held.size(), 1u);
  h.session.reset();
  h.intake.held[0](Admission{});  // must not touch the dead session
}

TEST(GrpcSession, AnswerAfterTheStreamWasResetIsDropped) {
  Harness h;
  h.intake.hold = true;
  const auto id = h.client.call(grpc_frame("one"));
  h.pump();
  ASSERT_EQ(h.intake.held.size(), 1u);
  // The client gives up on the call: RST_STREAM(CANCEL), built by hand.
  std::string rst = {0, 0, 4, 3, 0, 0, 0, 0, static_cast<char>(id), 0, 0, 0, 8};
  ASSERT_TRUE(h.session->receive(rst));
  EXPECT_EQ(h.session->waiting_calls(), 0u);
  h.intake.held[0](Admission{});
  std::string out;
  h.session->output(out);  // nothing for a stream that is gone, and no crash
  EXPECT_FALSE(h.session->finished());
}

TEST(GrpcSession, ShutdownLetsTheCallInFlightFinish) {
  Harness h;
  h.intake.hold = true;
  const auto id = h.client.call(grpc_frame("one"));
  h.pump();
  h.session->shutdown();
  h.pump();
  EXPECT_TRUE(h.client.goaway);
  EXPECT_EQ(h.client.goaway_error, 0u);
  EXPECT_EQ(h.client.goaway_last_stream, id);
  EXPECT_FALSE(h.session->finished());
  h.intake.held[0](Admission{});
  h.pump();
  EXPECT_EQ(h.client.response(id).grpc_status(), 0);
  EXPECT_TRUE(h.session->finished());
}

TEST(GrpcSession, IdleShutdownFinishesAtOnce) {
  Harness h;
  h.pump();
  EXPECT_FALSE(h.session->finished());
  h.session->shutdown();
  h.pump();
  EXPECT_TRUE(h.session->finished());
}

TEST(GrpcSession, NotHttp2IsBroken) {
  Harness h;
  EXPECT_FALSE(h.session->receive("POST /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(h.session->finished());
  EXPECT_FALSE(h.session->error().empty());
}

TEST(GrpcSession, GarbageFramesAfterThePrefaceGetGoawayProtocolError) {
  Harness h;
  h.pump();
  // A DATA frame on stream 0 is a connection error of type PROTOCOL_ERROR.
  const std::string bad = {0, 0, 1, 0, 0, 0, 0, 0, 0, 'x'};
  h.session->receive(bad);
  std::string out;
  h.session->output(out);
  h.client.receive(out);
  EXPECT_TRUE(h.client.goaway);
  EXPECT_EQ(h.client.goaway_error, static_cast<std::uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_TRUE(h.session->finished());
  EXPECT_FALSE(h.session->error().empty());
}

}  // namespace
}  // namespace covet::otlp
