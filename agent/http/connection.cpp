#include "agent/http/connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <climits>
#include <ctime>
#include <exception>
#include <span>
#include <string_view>

#include "agent/http/server.h"
#include "agent/logging.h"

namespace covet::http::detail {
namespace {

// Health and metrics requests are a few hundred bytes; a partial request is copied into the
// parser, so this size limits only how much one read takes in, not request size. On a route
// that lends a buffer (OTLP/HTTP), the rest of a body of declared length up to 4 MiB is
// read into the request's own buffer (body_room), so what arrives here with the headers is
// copied once more: 4 KiB rather than 16 copies 12 KiB less of every larger body (4% of a
// receiver's time with 28 KB requests, perf), and keeps 1024 idle connections at 4 MiB.
// Other bodies (chunked, larger, other routes) take four times as many reads as before.
constexpr std::size_t kReadBufferBytes = 4 * 1024;
// Pipelined requests are answered until this much output is pending, then written before
// the rest of the read is parsed, so a burst of "GET /metrics" cannot balloon memory.
constexpr std::size_t kOutputBudgetBytes = 256 * 1024;
// Buffers that grew past this (a large /metrics) are released after the write rather than
// kept for the connection's lifetime.
constexpr std::size_t kRetainedOutputBytes = 256 * 1024;

constexpr std::string_view kConnectionClose = "Connection: close\r\n";
// How long, and for how many bytes, a refused client's rest of the request is read and
// dropped before the connection closes (see Connection::linger).
constexpr std::uint64_t kLingerMs = 2000;
constexpr std::size_t kLingerBytes = 64 * 1024 * 1024;

bool method_allowed(unsigned methods, Method method) {
  if ((methods & method_bit(method)) != 0) return true;
  return method == Method::head && (methods & method_bit(Method::get)) != 0;
}

void release_if_large(std::string& buffer) {
  if (buffer.capacity() > kRetainedOutputBytes) std::string().swap(buffer);
}

uv_stream_t* as_stream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }
uv_handle_t* as_handle(uv_tcp_t* tcp) { return reinterpret_cast<uv_handle_t*>(tcp); }
uv_handle_t* as_handle(uv_timer_t* timer) { return reinterpret_cast<uv_handle_t*>(timer); }

}  // namespace

Connection::Connection(Server& server)
    : server_(server),
      parser_(RequestLimits{server.limits_.max_header_bytes},
              [&router = server.router_](std::string_view path) { return router.lookup(path); }),
      read_buffer_(std::make_unique<char[]>(kReadBufferBytes)) {
  [[maybe_unused]] const int tcp_rc = uv_tcp_init(server.loop_, &tcp_);
  [[maybe_unused]] const int timer_rc = uv_timer_init(server.loop_, &timer_);
  assert(tcp_rc == 0 && timer_rc == 0);
  open_handles_ = 2;
  tcp_.data = this;
  timer_.data = this;
  write_request_.data = this;
}

Connection::~Connection() { assert(open_handles_ == 0); }

int Connection::accept(uv_stream_t* listener) {
  if (const int rc = uv_accept(listener, as_stream(&tcp_)); rc < 0) return rc;
  // Responses are written whole, one write per read; Nagle would only delay them. Failure
  // costs latency, not correctness, so it is ignored.
  uv_tcp_nodelay(&tcp_, 1);
  start_reading();
  if (closing_) return UV_ECONNABORTED;  // uv_read_start failed and closed us
  update_timer();
  return 0;
}

void Connection::drain() {
  if (closing_) return;
  // Busy: pump() closes once the current request is answered and written.
  if (writing_ || awaiting_ || parser_.in_progress() || has_buffered_input()) return;
  close();
}

void Connection::close() {
  if (closing_) return;
  closing_ = true;
  reading_ = false;
  *self_ = nullptr;
  uv_timer_stop(&timer_);
  // A pending write is cancelled: on_write runs with UV_ECANCELED before the close
  // callbacks, so in_flight_ stays valid for as long as libuv may read it.
  uv_close(as_handle(&timer_), &Connection::on_handle_closed);
  uv_close(as_handle(&tcp_), &Connection::on_handle_closed);
}

void Connection::on_handle_closed(uv_handle_t* handle) {
  auto* connection = static_cast<Connection*>(handle->data);
  if (--connection->open_handles_ > 0) return;
  // Deletes the connection: the last thing that touches it.
  connection->server_.on_connection_closed(connection);
}

void Connection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto& connection = *static_cast<Connection*>(handle->data);
  // The rest of a large body goes straight into the request's buffer: the bytes are not
  // copied again, and one read takes in up to all of it instead of a read buffer's worth.
  if (const std::span<char> room = connection.parser_.body_room(); !room.empty()) {
    const std::size_t size = std::min<std::size_t>(room.size(), UINT_MAX);
    *buf = uv_buf_init(room.data(), static_cast<unsigned>(size));
    return;
  }
  // Reading runs only when every buffered byte has been parsed, so the buffer is free.
  *buf = uv_buf_init(connection.read_buffer_.get(), kReadBufferBytes);
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto& connection = *static_cast<Connection*>(stream->data);
  if (connection.closing_) return;
  if (nread == 0) return;  // EAGAIN: libuv hands back the buffer unused
  if (connection.lingering_) {
    connection.lingered_bytes_ += nread > 0 ? static_cast<std::size_t>(nread) : 0;
    if (nread < 0 || connection.lingered_bytes_ >= kLingerBytes) connection.close();
    return;  // dropped: the client was refused
  }
  if (nread < 0) {
    connection.stop_reading();
    // UV_EOF: the client is done sending. What it is owed is already produced; let a
    // pending write finish first. Anything else (ECONNRESET) ends the connection now.
    if (nread == UV_EOF && (connection.writing_ || connection.awaiting_)) {
      connection.last_response_queued_ = true;
      return;
    }
    connection.close();
    return;
  }
  connection.input_ = buf->base;  // the read buffer, or the parser's body room
  connection.input_begin_ = 0;
  connection.input_end_ = static_cast<std::size_t>(nread);
  connection.pump();
}

void Connection::on_write(uv_write_t* request, int status) {
  auto& connection = *static_cast<Connection*>(request->data);
  connection.writing_ = false;
  if (connection.closing_) return;  // cancelled by close(); memory goes in the close callback
  connection.in_flight_.clear();
  release_if_large(connection.in_flight_);
  if (status < 0) {
    connection.server_.log_.debug("http write failed", {{"error", uv_strerror(status)}});
    connection.close();
    return;
  }
  connection.restart_idle_timer_ = true;
  connection.pump();
}

void Connection::on_timeout(uv_timer_t* timer) {
  auto& connection = *static_cast<Connection*>(timer->data);
  if (connection.closing_) return;
  if (connection.lingering_) {
    connection.close();
    return;
  }
  // Second expiry: not even the 408 could be delivered in time.
  if (connection.timed_out_) {
    connection.close();
    return;
  }
  if (connection.awaiting_) {
    // The handler did not answer within request_timeout: the client hears 503 now, and the
    // reply, should it still come, is dropped.
    connection.server_.log_.debug("http deferred reply timed out");
    connection.deliver(connection.server_.shared_status_reply(503));
    return;
  }
  connection.timed_out_ = true;
  ++connection.server_.stats_.timeouts;
  const bool mid_request = connection.parser_.in_progress();
  if (!mid_request || connection.writing_ || connection.last_response_queued_) {
    connection.close();
    return;
  }
  connection.server_.log_.debug("http request timed out");
  connection.stop_reading();
  connection.input_begin_ = connection.input_end_ = 0;
  connection.append_response(connection.server_.status_reply(408), false, true);
  // The 408 gets one more request_timeout to be written; on_timeout then closes.
  connection.start_timer(
      static_cast<std::uint64_t>(connection.server_.limits_.request_timeout.count()));
  connection.pump();
}

void Connection::pump() {
  pumping_ = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{pumping_};
  while (!closing_) {
    answer_buffered_requests();
    if (output_.empty()) break;
    if (!write_output()) break;  // a write is pending, or the connection is closing
  }
  if (closing_) return;
  if (!writing_) {
    const bool drained = server_.draining_ && !parser_.in_progress() && !has_buffered_input();
    if (last_response_queued_ && linger_on_close_) {
      linger();
      return;
    }
    if (last_response_queued_ || drained) {
      close();
      return;
    }
    if (!has_buffered_input()) {
      // Also while a deferred reply is awaited: a client that goes away is noticed.
      start_reading();
    } else {
      stop_reading();  // unparsed bytes wait in the read buffer (behind a deferred reply)
    }
    if (closing_) return;
  }
  update_timer();
}

void Connection::answer_buffered_requests() {
  // closing_: a handler may have closed the server (and so this connection) meanwhile.
  while (has_buffered_input() && !last_response_queued_ && !closing_ && !awaiting_ &&
         output_.size() < kOutputBudgetBytes) {
    const std::string_view input(input_ + input_begin_, input_end_ - input_begin_);
    std::size_t consumed = 0;
    const RequestParser::Event event = parser_.feed(input, consumed);
    input_begin_ += std::min(consumed, input.size());
    if (event == RequestParser::Event::need_more) break;
    if (event == RequestParser::Event::error) {
      refuse_request();
      break;
    }
    answer(parser_.request(), parser_.route());
    parser_.consume_request();
  }
  // Nothing after a closing response is read: the client was told the connection ends.
  if (last_response_queued_) input_begin_ = input_end_;
  if (!has_buffered_input()) input_begin_ = input_end_ = 0;
}

void Connection::answer(const Request& request, const RouteInfo& route) {
  ++server_.stats_.requests;
  timing_request_ = false;
  restart_idle_timer_ = true;
  Reply reply;  // keeps a handler's response alive until it is copied into output_
  const PreparedResponse* response = nullptr;
  if (!route.found) {
    response = &server_.status_reply(404);
  } else if (!method_allowed(route.methods, request.method)) {
    server_.log_.debug("http method not allowed",
                       {{"method", request.method_name}, {"path", request.path}});
    Response not_allowed;
    not_allowed.status = 405;
    not_allowed.body = "method not allowed\n";
    not_allowed.allow = std::string(route.allow);
    reply = PreparedResponse::make(not_allowed);
    response = reply.get();
  } else if (route.deferred) {
    return handle_later(request);
  } else {
    reply = handle(request);
    response = reply ? reply.get() : &server_.status_reply(500);
  }
  const bool close = !request.keep_alive || server_.draining_;
  append_response(*response, request.method == Method::head, close);
}

Reply Connection::handle(const Request& request) {
  // Exceptions must not unwind through libuv's C frames; a throwing handler is a 500.
  try {
    return server_.router_.handle(request);
  } catch (const std::exception& e) {
    server_.log_.error("http handler failed", {{"path", request.path}, {"error", e.what()}});
  } catch (...) {
    server_.log_.error("http handler failed", {{"path", request.path}});
  }
  return nullptr;
}

void Connection::handle_later(const Request& request) {
  awaiting_ = true;
  awaiting_head_ = request.method == Method::head;
  awaiting_close_ = !request.keep_alive || server_.draining_;
  // The deadline for the reply; update_timer leaves it alone while awaiting.
  start_timer(static_cast<std::uint64_t>(server_.limits_.request_timeout.count()));
  std::weak_ptr<Connection*> weak = self_;
  try {
    server_.router_.handle_later(request, [weak](Reply reply) {
      const std::shared_ptr<Connection*> alive = weak.lock();
      if (alive && *alive != nullptr) (*alive)->deliver(std::move(reply));
    });
  } catch (const std::exception& e) {
    server_.log_.error("http handler failed", {{"path", request.path}, {"error", e.what()}});
    deliver(nullptr);
  } catch (...) {
    server_.log_.error("http handler failed", {{"path", request.path}});
    deliver(nullptr);
  }
}

void Connection::deliver(Reply reply) {
  if (!awaiting_ || closing_) return;  // answered already (a timeout's 503), or gone
  awaiting_ = false;
  const PreparedResponse& response = reply ? *reply : server_.status_reply(500);
  append_response(response, awaiting_head_, awaiting_close_ || server_.draining_);
  restart_idle_timer_ = true;
  // Inside pump() (a handler that answered at once) the loop there goes on by itself.
  if (!pumping_) pump();
}

void Connection::refuse_request() {
  ++server_.stats_.bad_requests;
  const int status = parser_.error_status();
  // Debug only: a client sending garbage must not be able to flood the log.
  const auto status_text = fmt::format_int(status);
  server_.log_.debug("http request refused",
                     {{"status", status_text.str()}, {"reason", parser_.error_reason()}});
  append_response(server_.status_reply(status), false, true);
  linger_on_close_ = true;  // a refused request is always unfinished
}

void Connection::linger() {
  linger_on_close_ = false;
  lingering_ = true;
  // The FIN follows the refusal: the client knows nothing more comes. A failure here
  // leaves the timer to close.
  shutdown_request_.data = this;
  uv_shutdown(&shutdown_request_, as_stream(&tcp_), [](uv_shutdown_t*, int) {});
  start_reading();
  if (closing_) return;
  start_timer(kLingerMs);
}

void Connection::append_response(const PreparedResponse& response, bool head_only, bool close) {
  output_ += response.head;
  output_ += server_.date_cache_.header_line(std::time(nullptr));
  if (close) {
    output_ += kConnectionClose;
    last_response_queued_ = true;
  }
  output_ += "\r\n";
  if (!head_only) output_ += response.body;
}

bool Connection::write_output() {
  uv_buf_t buf = uv_buf_init(output_.data(), static_cast<unsigned>(output_.size()));
  int written = uv_try_write(as_stream(&tcp_), &buf, 1);
  if (written == UV_EAGAIN) written = 0;  // expected: the socket buffer is full
  if (written < 0) {
    server_.log_.debug("http write failed", {{"error", uv_strerror(written)}});
    close();
    return false;
  }
  const auto sent = static_cast<std::size_t>(written);
  if (sent == output_.size()) {
    output_.clear();
    release_if_large(output_);
    return true;
  }
  // The rest goes out with one uv_write from in_flight_, which nothing touches until
  // on_write; output_ takes over in_flight_'s (empty) storage.
  in_flight_.swap(output_);
  output_.clear();
  buf = uv_buf_init(in_flight_.data() + sent, static_cast<unsigned>(in_flight_.size() - sent));
  if (const int rc = uv_write(&write_request_, as_stream(&tcp_), &buf, 1, &Connection::on_write);
      rc < 0) {
    server_.log_.debug("http write failed", {{"error", uv_strerror(rc)}});
    close();
    return false;
  }
  writing_ = true;
  // Backpressure: a client that does not read its responses gets no more parsed.
  stop_reading();
  return false;
}

// While no request is in progress the idle timeout runs, restarted by answered requests
// and finished writes (not by stray bytes). A request's first byte starts request_timeout,
// which more bytes do not extend: a client trickling a request is cut at that deadline.
void Connection::update_timer() {
  if (timed_out_) return;  // the timer holds the deadline for delivering the 408
  if (awaiting_) return;   // the timer holds the deadline for the deferred reply
  if (parser_.in_progress()) {
    if (timing_request_) return;
    timing_request_ = true;
    start_timer(static_cast<std::uint64_t>(server_.limits_.request_timeout.count()));
    return;
  }
  if (!restart_idle_timer_ && !timing_request_) return;
  timing_request_ = false;
  restart_idle_timer_ = false;
  start_timer(static_cast<std::uint64_t>(server_.limits_.idle_timeout.count()));
}

void Connection::start_timer(std::uint64_t timeout_ms) {
  uv_timer_start(&timer_, &Connection::on_timeout, timeout_ms, 0);
}

void Connection::start_reading() {
  // After a closing response nothing more is read, except to drop it while lingering.
  if (reading_ || closing_ || (last_response_queued_ && !lingering_)) return;
  if (const int rc = uv_read_start(as_stream(&tcp_), &Connection::on_alloc, &Connection::on_read);
      rc < 0) {
    server_.log_.debug("http read failed", {{"error", uv_strerror(rc)}});
    close();
    return;
  }
  reading_ = true;
}

void Connection::stop_reading() {
  if (!reading_) return;
  uv_read_stop(as_stream(&tcp_));
  reading_ = false;
}

}  // namespace covet::http::detail
