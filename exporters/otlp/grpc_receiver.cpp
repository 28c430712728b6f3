#include "exporters/otlp/grpc_receiver.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>

#include <cassert>
#include <memory>
#include <utility>

#include "agent/logging.h"

namespace covet::otlp {
namespace {

// "listen 0.0.0.0:4317: address already in use"
std::string uv_error(std::string_view operation, int code) {
  return fmt::format("{}: {}", operation, uv_strerror(code));
}

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return ipv6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

std::string peer_name(const uv_tcp_t* tcp) {
  sockaddr_storage addr{};
  int length = sizeof(addr);
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&addr), &length) != 0) return "?";
  char ip[64] = {};
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    uv_ip6_name(in6, ip, sizeof(ip));
    return host_port(ip, ntohs(in6->sin6_port));
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(&addr);
  uv_ip4_name(in4, ip, sizeof(ip));
  return host_port(ip, ntohs(in4->sin_port));
}

uv_stream_t* as_stream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }
uv_handle_t* as_handle(uv_tcp_t* tcp) { return reinterpret_cast<uv_handle_t*>(tcp); }
uv_handle_t* as_handle(uv_timer_t* timer) { return reinterpret_cast<uv_handle_t*>(timer); }

constexpr std::size_t kReadBufferBytes = 64 * 1024;

}  // namespace

namespace detail {

// One accepted connection: its socket, its idle timer, its GrpcSession and its output.
// Created in GrpcReceiver::on_connection, deleted by GrpcReceiver::on_connection_closed
// from the last of its two close callbacks. Every callback checks closing_ first: libuv may
// deliver a read or a cancelled write between uv_close and the close callbacks.
class GrpcConnection {
 public:
  explicit GrpcConnection(GrpcReceiver& receiver)
      : receiver_(receiver),
        session_(receiver.intake_, receiver.limits_, receiver.stats_, [this] { flush(); }),
        read_buffer_(std::make_unique<char[]>(kReadBufferBytes)) {
    // Neither can fail: uv_tcp_init without flags creates no socket.
    uv_tcp_init(receiver_.loop_, &tcp_);
    uv_timer_init(receiver_.loop_, &timer_);
    tcp_.data = this;
    timer_.data = this;
    write_request_.data = this;
  }
  ~GrpcConnection() { assert(open_handles_ == 0); }
  GrpcConnection(const GrpcConnection&) = delete;
  GrpcConnection& operator=(const GrpcConnection&) = delete;

  int accept(uv_stream_t* listener) {
    if (const int rc = uv_accept(listener, as_stream(&tcp_)); rc < 0) return rc;
    uv_tcp_nodelay(&tcp_, 1);  // answers are small and whole: Nagle only delays them
    peer_ = peer_name(&tcp_);
    start_reading();
    if (closing_) return UV_ECONNABORTED;
    restart_idle_timer();
    flush();  // the server preface (SETTINGS) goes out at once
    return 0;
  }

  void drain() {
    if (closing_) return;
    session_.shutdown();
    flush();
  }

  void close() {
    if (closing_) return;
    closing_ = true;
    uv_timer_stop(&timer_);
    // A pending write is cancelled: on_write runs with UV_ECANCELED before the close
    // callbacks, so in_flight_ stays valid for as long as libuv may read it.
    uv_close(as_handle(&timer_), &GrpcConnection::on_handle_closed);
    uv_close(as_handle(&tcp_), &GrpcConnection::on_handle_closed);
  }

 private:
  static void on_handle_closed(uv_handle_t* handle) {
    auto* connection = static_cast<GrpcConnection*>(handle->data);
    if (--connection->open_handles_ > 0) return;
    connection->receiver_.on_connection_closed(connection);  // deletes it: the last touch
  }

  static void on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
    auto& connection = *static_cast<GrpcConnection*>(handle->data);
    // nghttp2 consumes every byte of a read before the next one: the buffer is free.
    *buf = uv_buf_init(connection.read_buffer_.get(), kReadBufferBytes);
  }

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto& connection = *static_cast<GrpcConnection*>(stream->data);
    if (connection.closing_ || nread == 0) return;
    if (nread < 0) {
      // EOF or reset: an HTTP/2 client that stops sending is gone; nothing is owed to it.
      connection.close();
      return;
    }
    if (!connection.session_.receive({buf->base, static_cast<std::size_t>(nread)})) {
      connection.finish();
      return;
    }
    connection.flush();
  }

  static void on_write(uv_write_t* request, int status) {
    auto& connection = *static_cast<GrpcConnection*>(request->data);
    connection.writing_ = false;
    if (connection.closing_) return;
    connection.in_flight_.clear();
    if (status < 0) {
      connection.close();
      return;
    }
    connection.start_reading();
    connection.flush();
  }

  // No call made progress for idle_timeout: a connection without calls, or whose calls
  // stalled, is closed with GOAWAY(NO_ERROR); a client that wants it again reconnects.
  static void on_timeout(uv_timer_t* timer) {
    auto& connection = *static_cast<GrpcConnection*>(timer->data);
    if (connection.closing_) return;
    // Waiting on the Intake (a spool write) is our delay, not the client's idleness.
    if (connection.session_.waiting_calls() > 0) {
      connection.restart_idle_timer();
      return;
    }
    ++connection.receiver_.stats_.timeouts;
    connection.session_.terminate(NGHTTP2_NO_ERROR);
    connection.flush();
  }

  // Sends what the session has to say; closes once it is over and everything is written.
  void flush() {
    if (closing_) return;
    if (session_.activity() != seen_activity_) {
      seen_activity_ = session_.activity();
      restart_idle_timer();
    }
    session_.output(pending_);
    if (!writing_ && !pending_.empty()) write();
    if (closing_ || writing_ || !pending_.empty()) return;
    if (session_.finished()) finish();
  }

  void write() {
    uv_buf_t buf = uv_buf_init(pending_.data(), static_cast<unsigned>(pending_.size()));
    int written = uv_try_write(as_stream(&tcp_), &buf, 1);
    if (written == UV_EAGAIN) written = 0;
    if (written < 0) {
      close();
      return;
    }
    const auto sent = static_cast<std::size_t>(written);
    if (sent == pending_.size()) {
      pending_.clear();
      return;
    }
    // The rest goes out from in_flight_, which nothing touches until on_write.
    in_flight_.swap(pending_);
    pending_.clear();
    buf = uv_buf_init(in_flight_.data() + sent, static_cast<unsigned>(in_flight_.size() - sent));
    if (uv_write(&write_request_, as_stream(&tcp_), &buf, 1, &GrpcConnection::on_write) < 0) {
      close();
      return;
    }
    writing_ = true;
    // Backpressure: a client that does not read what we send gets nothing more read.
    stop_reading();
  }

  // The session is over: a broken one is counted and logged (once, with the peer; never
  // with what it sent), then the socket closes.
  void finish() {
    if (!session_.error().empty()) {
      ++receiver_.stats_.bad_connections;
      receiver_.log_.warn("otlp grpc connection closed: not a valid HTTP/2 client",
                          {{"peer", peer_}, {"error", session_.error()}});
    }
    // What is still unsent (a GOAWAY) is tried once, without waiting.
    if (!pending_.empty() && !writing_) {
      uv_buf_t buf = uv_buf_init(pending_.data(), static_cast<unsigned>(pending_.size()));
      uv_try_write(as_stream(&tcp_), &buf, 1);
    }
    close();
  }

  void restart_idle_timer() {
    uv_timer_start(&timer_, &GrpcConnection::on_timeout,
                   static_cast<std::uint64_t>(receiver_.limits_.idle_timeout.count()), 0);
  }

  void start_reading() {
    if (reading_ || closing_) return;
    if (uv_read_start(as_stream(&tcp_), &GrpcConnection::on_alloc, &GrpcConnection::on_read) < 0) {
      close();
      return;
    }
    reading_ = true;
  }

  void stop_reading() {
    if (!reading_) return;
    uv_read_stop(as_stream(&tcp_));
    reading_ = false;
  }

  GrpcReceiver& receiver_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_write_t write_request_{};
  int open_handles_ = 2;
  GrpcSession session_;
  std::string pending_;    // produced by the session, not yet handed to libuv
  std::string in_flight_;  // what the pending uv_write reads from
  std::unique_ptr<char[]> read_buffer_;
  std::string peer_;
  std::uint64_t seen_activity_ = 0;  // session_.activity() when the idle timer last restarted
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
};

}  // namespace detail

GrpcReceiver::GrpcReceiver(uv_loop_t* loop, Intake& intake, GrpcLimits limits, Logger& log)
    : loop_(loop), intake_(intake), limits_(limits), log_(log) {
  listener_.data = this;
}

GrpcReceiver::~GrpcReceiver() {
  // close() must have completed (its callback run) before the receiver goes away.
  assert(listener_closed_ && connections_.empty() && rejected_closing_ == 0);
}

std::string GrpcReceiver::listen(const std::string& host, std::uint16_t port) {
  const std::string operation = "listen " + host_port(host, port);
  if (closing_ || draining_) return operation + ": receiver is shutting down";
  if (!listener_closed_) {
    const bool closing = uv_is_closing(as_handle(&listener_)) != 0;
    return operation + (closing ? ": previous listener still closing" : ": already listening");
  }
  sockaddr_storage addr{};
  const bool ipv6 = host.find(':') != std::string::npos;
  const int addr_rc = ipv6 ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
                           : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (addr_rc < 0) return uv_error(operation, addr_rc);

  if (const int rc = uv_tcp_init(loop_, &listener_); rc < 0) return uv_error(operation, rc);
  listener_closed_ = false;
  listener_.data = this;
  // libuv reports most bind errors (EADDRINUSE) from uv_listen, so both are checked.
  int rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(as_stream(&listener_), SOMAXCONN, &GrpcReceiver::on_connection);
  if (rc < 0) {
    close_listener();  // listener_closed_ turns true in its close callback
    return uv_error(operation, rc);
  }
  sockaddr_storage bound{};
  int bound_len = sizeof(bound);
  if (uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &bound_len) == 0) {
    bound_port_ = bound.ss_family == AF_INET6
                      ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
                      : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  }
  return "";
}

void GrpcReceiver::drain(std::function<void()> drained) {
  if (draining_ || closing_) return;
  draining_ = true;
  drained_ = std::move(drained);
  close_listener();
  // drain() at most starts uv_close; connections leave connections_ only in their close
  // callbacks, on a later loop iteration, so iterating here is safe.
  for (detail::GrpcConnection* connection : connections_) connection->drain();
  maybe_finish();
}

void GrpcReceiver::close(std::function<void()> closed) {
  if (closing_) return;
  closing_ = true;
  closed_ = std::move(closed);
  close_listener();
  for (detail::GrpcConnection* connection : connections_) connection->close();
  maybe_finish();
}

void GrpcReceiver::on_connection(uv_stream_t* listener, int status) {
  auto& receiver = *static_cast<GrpcReceiver*>(listener->data);
  if (status < 0) {
    // EMFILE and friends repeat for as long as the condition lasts: logged once.
    if (!receiver.accept_error_logged_) {
      receiver.accept_error_logged_ = true;
      receiver.log_.warn("otlp grpc accept failed", {{"error", uv_strerror(status)}});
    }
    return;
  }
  if (receiver.connections_.size() >= receiver.limits_.max_connections) {
    receiver.reject(listener);
    return;
  }
  auto connection = std::make_unique<detail::GrpcConnection>(receiver);
  detail::GrpcConnection* raw = connection.get();
  receiver.connections_.insert(raw);
  connection.release();  // owned by connections_ now; deleted in on_connection_closed
  if (const int rc = raw->accept(listener); rc < 0) {
    receiver.log_.debug("otlp grpc accept failed", {{"error", uv_strerror(rc)}});
    raw->close();
    return;
  }
  ++receiver.stats_.connections_accepted;
  receiver.accept_error_logged_ = false;
}

// Over max_connections: accept and close at once, so the client hears a clean close rather
// than hanging in the backlog. libuv stops polling the listener until we accept.
void GrpcReceiver::reject(uv_stream_t* listener) {
  auto socket = std::make_unique<uv_tcp_t>();
  if (uv_tcp_init(loop_, socket.get()) < 0) return;
  socket->data = this;
  uv_accept(listener, as_stream(socket.get()));
  ++rejected_closing_;
  uv_close(as_handle(socket.release()), &GrpcReceiver::on_rejected_closed);
  ++stats_.connections_rejected;
  if (!rejection_logged_) {
    rejection_logged_ = true;
    const auto limit = fmt::format_int(limits_.max_connections);
    log_.warn("otlp grpc connection refused: max_connections reached",
              {{"max_connections", limit.str()}});
  }
}

void GrpcReceiver::on_rejected_closed(uv_handle_t* handle) {
  auto& receiver = *static_cast<GrpcReceiver*>(handle->data);
  delete reinterpret_cast<uv_tcp_t*>(handle);
  --receiver.rejected_closing_;
  receiver.maybe_finish();
}

void GrpcReceiver::close_listener() {
  if (listener_closed_ || uv_is_closing(as_handle(&listener_))) return;
  uv_close(as_handle(&listener_), &GrpcReceiver::on_listener_closed);
}

void GrpcReceiver::on_listener_closed(uv_handle_t* handle) {
  auto& receiver = *static_cast<GrpcReceiver*>(handle->data);
  receiver.listener_closed_ = true;
  receiver.maybe_finish();
}

void GrpcReceiver::on_connection_closed(detail::GrpcConnection* connection) {
  connections_.erase(connection);
  delete connection;
  if (connections_.size() < limits_.max_connections) rejection_logged_ = false;
  maybe_finish();
}

void GrpcReceiver::maybe_finish() {
  if (!listener_closed_ || !connections_.empty() || rejected_closing_ != 0) return;
  // Moved out before calling: either callback may destroy this receiver, or call close().
  auto drained = std::move(drained_);
  auto closed = std::move(closed_);
  drained_ = nullptr;
  closed_ = nullptr;
  if (drained) drained();
  if (closed) closed();
}

}  // namespace covet::otlp
