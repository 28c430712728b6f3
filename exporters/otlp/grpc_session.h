#pragma once
// One HTTP/2 connection of the OTLP/gRPC receiver, without the socket: bytes in, bytes out.
// An nghttp2 server session answers unary TraceService/Export calls: it checks each call's
// method, path, content type and encoding, reassembles and (for gzip) inflates its one
// message within the size limit, submits it to the Intake and turns the Admission into
// gRPC status, trailers and, for backpressure, RetryInfo.
//
// Kept apart from the sockets (grpc_receiver.cpp) so that the protocol is tested and fuzzed
// by feeding it bytes (tests/fuzz/grpc_framing_fuzz.cpp).
//
// An Intake may answer after the stream, or the whole session, is gone: its `done` holds
// only a weak token and the stream id, and stream ids are never reused within a session.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "exporters/otlp/grpc_framing.h"
#include "exporters/otlp/intake.h"

struct nghttp2_session;

namespace covet::otlp {

inline constexpr std::string_view kTraceExportPath =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

struct GrpcLimits {
  // The message after decompression; a compressed message is also refused past it.
  std::size_t max_message_bytes = 20 * 1024 * 1024;
  std::uint32_t max_connections = 1024;
  std::chrono::milliseconds idle_timeout{60000};
  std::uint32_t max_concurrent_streams = 100;
};

// Counters the metrics layer exports (covet_sidecar_otlp_grpc_*).
struct GrpcStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_rejected = 0;  // over max_connections
  std::uint64_t bad_connections = 0;       // closed for an HTTP/2 protocol error
  std::uint64_t timeouts = 0;              // idle connections closed
  std::uint64_t calls = 0;                 // streams that carried a request's headers
  std::uint64_t calls_by_status[grpc::kStatusCodes] = {};  // answered with grpc-status N
  std::uint64_t http_refusals = 0;  // answered with an HTTP error status (405, 415)
  std::uint64_t gzip_messages = 0;  // messages that came gzip-compressed
};

class GrpcSession {
 public:
  // `wake` is called when an answer became ready outside receive() (an Intake answering
  // later): the owner should collect output() and send it.
  GrpcSession(Intake& intake, const GrpcLimits& limits, GrpcStats& stats,
              std::function<void()> wake);
  ~GrpcSession();
  GrpcSession(const GrpcSession&) = delete;
  GrpcSession& operator=(const GrpcSession&) = delete;

  // Feeds bytes read from the peer. False when the connection is broken (not HTTP/2, or a
  // protocol error): send what output() still has (a GOAWAY, when there is one), then close.
  bool receive(std::string_view bytes);
  // Appends what is to be sent to `out` (the server preface first).
  void output(std::string& out);
  // True when the session is over: the owner closes the connection once output is sent.
  bool finished() const;

  // Graceful shutdown: GOAWAY(NO_ERROR) naming the last stream taken; those streams are
  // still answered, new ones are refused, and the session finishes when they are done.
  void shutdown();
  // Immediate: GOAWAY with `error_code` (an HTTP/2 error code); the session is finished
  // once that is sent.
  void terminate(std::uint32_t error_code);

  // Calls waiting for the Intake's answer: an idle connection is not cut while there are.
  std::size_t waiting_calls() const { return waiting_; }
  // Grows whenever a call makes progress (starts, brings data, is answered); control
  // frames (PING, SETTINGS) do not count, so a client pinging an idle connection does not
  // keep it open, and a call that stalls does not either.
  std::uint64_t activity() const { return activity_; }
  // Why the session broke, for the log ("" when it did not).
  const std::string& error() const { return error_; }

 private:
  struct Call;
  friend struct SessionCallbacks;

  Call* find(std::int32_t stream_id);
  void on_headers_done(Call& call);
  void on_data(Call& call, std::string_view bytes);
  void on_request_end(Call& call);
  void submit(Call& call);
  void on_admission(std::int32_t stream_id, Admission admission);
  void answer_status(Call& call, grpc::Status status, std::string_view message,
                     std::string_view refusal, bool accept_encoding = false);
  void answer_http(Call& call, int http_status, std::string_view refusal);
  void answer_ok(Call& call, std::string body);
  void answer_unavailable(Call& call, const Admission& admission);

  Intake& intake_;
  const GrpcLimits& limits_;
  GrpcStats& stats_;
  std::function<void()> wake_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<std::int32_t, std::unique_ptr<Call>> calls_;
  std::size_t waiting_ = 0;
  std::uint64_t activity_ = 0;
  bool in_receive_ = false;
  bool broken_ = false;
  std::string error_;
  // Expires with the session: what an Intake's late `done` checks first.
  std::shared_ptr<GrpcSession*> token_;
};

}  // namespace covet::otlp
