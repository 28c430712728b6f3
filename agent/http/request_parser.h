#pragma once
// HTTP/1.1 request framing over llhttp as a pure function of the bytes fed in: no sockets,
// so the edge cases are unit-tested and fuzzed directly. The connection feeds what it
// reads; the parser stops after each complete request so requests are answered in order
// (pipelining) and a connection that must close stops consuming input.

#include <llhttp.h>

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "agent/http/types.h"

namespace covet::http {

struct RequestLimits {
  std::size_t max_header_bytes = 16 * 1024;  // request line + headers → 431 past it
};

inline constexpr unsigned method_bit(Method m) { return 1u << static_cast<unsigned>(m); }

// What the router says about a path once the request line and headers are in. Unknown
// paths and disallowed methods are ordinary keep-alive responses (404, 405 + Allow) sent
// by the server after the request completes; only the body limit applies while parsing.
struct RouteInfo {
  bool found = false;
  unsigned methods = 0;         // method_bit(...) set; HEAD is implied by GET
  std::string_view allow;       // "GET, HEAD", the Allow header of a 405
  std::size_t max_body = 4096;  // body bytes accepted; more → 413 (unknown paths too)
  bool deferred = false;        // answered through Router::handle_later
  // For a route whose handler keeps the body (Request::body_storage): a buffer with room
  // for a declared length (up to 4 MiB) that the connection's buffer lacks, which then
  // becomes the connection's buffer; the handler may take it. Its size and bytes may be
  // anything (a recycled buffer keeps an earlier body's): the body is written over them,
  // and the request's body is only what was written. Unset: the connection's buffer grows
  // as the body arrives and is reused from request to request.
  std::function<std::string(std::size_t bytes)> body_buffer = nullptr;
};
using RouteLookup = std::function<RouteInfo(std::string_view path)>;

class RequestParser {
 public:
  enum class Event {
    need_more,  // every byte consumed, no complete request yet
    request,    // request() is complete; call consume_request() after answering it
    error,      // error_status() (400, 413, 431, 505) must be sent, then the connection closed
  };

  RequestParser(RequestLimits limits, RouteLookup lookup);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses from `data`; `consumed` is set to how many bytes were used. On `request`, the
  // bytes after `consumed` belong to the next request: feed them again after answering.
  Event feed(std::string_view data, std::size_t& consumed);

  // Room for the next bytes of the current body, read straight into the request's buffer
  // (no copy through the caller's read buffer): never past the declared length, so it holds
  // no byte of a following request. Empty unless a body of declared length is being read
  // into a route's body_buffer. Write into it, then feed() exactly the bytes written, as a
  // view of the room. The room grows with what has arrived, at most doubling it, so a client
  // that declares a large body and sends little makes little memory resident; a lent buffer
  // sized further already (recycled, so resident) is room up to that size.
  std::span<char> body_room();

  const Request& request() const { return request_; }
  const RouteInfo& route() const { return route_; }  // of the current request
  void consume_request();  // resets for the next request on the same connection

  int error_status() const { return error_status_; }
  std::string_view error_reason() const { return error_reason_; }  // for logs and body
  // True while a request has started but is not complete (for slowloris and drain).
  bool in_progress() const { return in_progress_; }

 private:
  // llhttp callbacks (static trampolines in the .cpp call these)
  friend struct ParserCallbacks;
  int on_message_begin();
  int on_method(const char* at, std::size_t len);
  int on_url(const char* at, std::size_t len);
  int on_header_field(const char* at, std::size_t len);
  int on_header_field_complete();
  int on_header_value(const char* at, std::size_t len);
  int on_header_value_complete();
  int on_headers_complete();
  int on_body(const char* at, std::size_t len);
  int on_message_complete();
  int fail(int status, std::string_view reason);
  // Adds request-line / header bytes to header_bytes_; 431 once past the limit.
  int count_header_bytes(std::size_t n);

  RequestLimits limits_;
  RouteLookup lookup_;
  llhttp_settings_t settings_;
  llhttp_t parser_;
  Request request_;
  std::string url_;
  std::string body_;
  // A body read in place: body_ is sized ahead of what arrived, which fills [0, body_filled_)
  // of it, out of body_expected_ declared bytes.
  bool body_in_place_ = false;
  std::size_t body_filled_ = 0;
  std::size_t body_expected_ = 0;
  std::string method_;
  std::size_t header_bytes_ = 0;
  // The few header fields a handler sees (Request::accept, content_type, ...). Every other
  // field is counted and dropped. All of these are cleared, not shrunk, between requests.
  enum class KeptField { none, accept, accept_encoding, content_type, content_encoding };
  std::string field_name_;   // the name being read, cut short once it cannot be kept
  std::string field_value_;  // the value being read, when its field is kept
  KeptField field_ = KeptField::none;
  std::string& kept_value(KeptField field);
  bool headers_done_ = false;  // later fields are chunked trailers, never kept
  std::string accept_;
  std::string accept_encoding_;
  std::string content_type_;
  std::string content_encoding_;
  RouteInfo route_;
  bool in_progress_ = false;
  bool complete_ = false;
  int error_status_ = 0;
  std::string error_reason_;
};

}  // namespace covet::http
