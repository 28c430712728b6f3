#pragma once
// One accepted HTTP/1.1 connection: its socket, its timer, its parser and its buffers.
// Internal to the server (server.h is the interface).
//
// Ownership: the Server creates a Connection in on_connection and deletes it in
// Server::on_connection_closed, which the connection calls from the close callback of the
// last of its two handles; nothing touches the object after that call. Every other
// callback checks closing_ first, because libuv may still deliver a read or a cancelled
// write between uv_close and the close callbacks.

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/http/request_parser.h"
#include "agent/http/response.h"
#include "agent/http/types.h"

namespace covet::http {

class Server;

namespace detail {

class Connection {
 public:
  // Initialises the socket and timer handles on the server's loop (neither call can fail:
  // uv_tcp_init without flags creates no socket), so close() is always valid.
  explicit Connection(Server& server);
  ~Connection();  // asserts that both handles were closed
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Accepts the pending connection on `listener` and starts reading. Returns 0 or a libuv
  // error; on error the caller closes the connection.
  int accept(uv_stream_t* listener);
  // For Server::drain: closes now when idle; a busy connection finishes the request it is
  // on, answers with Connection: close and closes after the write.
  void drain();
  // Cuts the connection now. Idempotent. The Server hears about it in the last close
  // callback.
  void close();

 private:
  static void on_alloc(uv_handle_t* handle, std::size_t suggested_size, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* request, int status);
  static void on_timeout(uv_timer_t* timer);
  static void on_handle_closed(uv_handle_t* handle);

  // Answers what is buffered, writes it, then reads more, waits for the write, or closes.
  void pump();
  void answer_buffered_requests();
  void answer(const Request& request, const RouteInfo& route);
  void refuse_request();  // the parser found an error: answer it and close
  // After a refusal mid-request: the client may still be sending the body. Closing now,
  // with its bytes unread, would make the kernel answer them with a reset, which can
  // destroy the refusal before the client reads it. So the write side is shut and what
  // arrives is read and dropped, until the client closes, kLingerMs pass or
  // kLingerBytes arrive.
  void linger();
  Reply handle(const Request& request);
  // Hands the request to Router::handle_later; deliver() takes the reply when it comes.
  void handle_later(const Request& request);
  void deliver(Reply reply);
  void append_response(const PreparedResponse& response, bool head_only, bool close);
  // True when output_ went out synchronously; false when a uv_write is pending or the
  // write failed (then the connection is closing).
  bool write_output();
  void update_timer();
  void start_timer(std::uint64_t timeout_ms);
  void start_reading();
  void stop_reading();
  bool has_buffered_input() const { return input_begin_ < input_end_; }

  Server& server_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_write_t write_request_{};
  uv_shutdown_t shutdown_request_{};
  int open_handles_ = 0;  // the object is freed when the last close callback brings it to 0
  RequestParser parser_;
  // Reads land here (on_alloc hands out this buffer, no per-read allocation), or in the
  // parser's body room; input_ is where the last read went, and the bytes in
  // [input_begin_, input_end_) of it are not parsed yet. Reading is stopped while any are
  // left, so the next read cannot overwrite them.
  std::unique_ptr<char[]> read_buffer_;
  const char* input_ = nullptr;
  std::size_t input_begin_ = 0;
  std::size_t input_end_ = 0;
  // Responses produced since the last write; all of them go out in one write.
  std::string output_;
  // What a pending uv_write points into; untouched until on_write. The two strings swap
  // roles, so after warm-up neither allocates.
  std::string in_flight_;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool last_response_queued_ = false;  // a Connection: close response is in output: no more input
  bool timing_request_ = false;        // the timer holds the current request's deadline
  bool restart_idle_timer_ = true;     // something happened that restarts the idle clock
  bool timed_out_ = false;
  bool linger_on_close_ = false;  // the closing response refused a request mid-way
  bool lingering_ = false;        // linger(): reading only to drop, until the client goes
  std::size_t lingered_bytes_ = 0;
  // A deferred reply is awaited (Router::handle_later): nothing else is answered meanwhile.
  bool awaiting_ = false;
  bool awaiting_head_ = false;   // the awaited request was a HEAD
  bool awaiting_close_ = false;  // ... and the connection closes after its response
  bool pumping_ = false;         // inside pump(): deliver() must not re-enter it
  // What a pending Respond holds on to: cleared by close(), so a reply that comes after
  // the connection is gone (and perhaps freed) goes nowhere.
  std::shared_ptr<Connection*> self_ = std::make_shared<Connection*>(this);
};

}  // namespace detail
}  // namespace covet::http
