#pragma once
// The OTLP/gRPC receiver on the agent's libuv loop: HTTP/2 over cleartext TCP with prior
// knowledge (h2c, what the OTel SDKs speak to port 4317), unary
// opentelemetry.proto.collector.trace.v1.TraceService/Export calls handed to the Intake.
// The protocol is GrpcSession's (grpc_session.h); this file is the sockets: accepting
// within max_connections, reading, writing, idle timeouts, drain and close.
//
// Ownership, as in http::Server: the receiver owns the listener and every connection. Each
// uv handle is closed exactly once and its memory released in its close callback. The
// destructor asserts that close() completed.

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>

#include "exporters/otlp/grpc_session.h"
#include "exporters/otlp/intake.h"

namespace covet {
class Logger;
}

namespace covet::otlp {

namespace detail {
class GrpcConnection;
}

class GrpcReceiver {
 public:
  GrpcReceiver(uv_loop_t* loop, Intake& intake, GrpcLimits limits, Logger& log);
  ~GrpcReceiver();
  GrpcReceiver(const GrpcReceiver&) = delete;
  GrpcReceiver& operator=(const GrpcReceiver&) = delete;

  // Binds and listens. Returns "" or an error such as
  // "listen 0.0.0.0:4317: address already in use".
  std::string listen(const std::string& host, std::uint16_t port);
  std::uint16_t bound_port() const { return bound_port_; }

  // Graceful drain: stop accepting and send every connection a GOAWAY(NO_ERROR) naming the
  // last call it took; those calls are answered (their Intake answers awaited), then each
  // connection closes. `drained` is called once, after the last connection's close
  // callback; synchronously, inside drain(), when nothing is open. A second drain() is a
  // no-op.
  void drain(std::function<void()> drained);
  // Cuts every connection and closes the listener; `closed` runs after every close
  // callback. Safe after drain() and safe to call twice (the second `closed` is dropped).
  // A drain still pending when close() completes has its `drained` called first. Like
  // drain(), synchronous when nothing is open.
  void close(std::function<void()> closed);

  std::size_t open_connections() const { return connections_.size(); }
  const GrpcStats& stats() const { return stats_; }

 private:
  friend class detail::GrpcConnection;
  static void on_connection(uv_stream_t* listener, int status);
  static void on_listener_closed(uv_handle_t* handle);
  static void on_rejected_closed(uv_handle_t* handle);
  void on_connection_closed(detail::GrpcConnection* connection);
  void maybe_finish();
  void reject(uv_stream_t* listener);
  void close_listener();

  uv_loop_t* loop_;
  Intake& intake_;
  GrpcLimits limits_;
  Logger& log_;
  GrpcStats stats_;
  uv_tcp_t listener_{};
  bool listener_closed_ = true;  // true when no listener handle is open
  bool draining_ = false;
  bool closing_ = false;
  std::uint16_t bound_port_ = 0;
  // Owned: created in on_connection, deleted in on_connection_closed (from the
  // connection's last close callback).
  std::unordered_set<detail::GrpcConnection*> connections_;
  std::function<void()> drained_;
  std::function<void()> closed_;
  bool rejection_logged_ = false;
  bool accept_error_logged_ = false;
  std::size_t rejected_closing_ = 0;  // refused sockets whose close callback is pending
};

}  // namespace covet::otlp
