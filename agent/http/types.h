#pragma once
// Requests as the router sees them and responses as handlers build them.

#include <cstdint>
#include <string>
#include <string_view>

namespace covet::http {

enum class Method { get, head, post, put, del, options, patch, other };

struct Request {
  Method method = Method::other;
  std::string_view method_name;  // as sent, for the 405 log line
  std::string_view path;         // without the query
  std::string_view query;        // after '?', without it; empty when absent
  std::string_view body;
  // The only request headers kept: for /metrics content negotiation, and for the OTLP
  // receiver, what the body is. Repeated fields are joined with ", " (RFC 9110 §5.3), each
  // value trimmed; empty when absent.
  std::string_view accept;
  std::string_view accept_encoding;
  std::string_view content_type;
  std::string_view content_encoding;
  bool keep_alive = true;  // HTTP/1.1 default, Connection: close / HTTP/1.0 rules applied
  // Every view above points into the connection's buffers and is valid until the handler
  // returns.
  // The string `body` views. A handler that keeps the body may move it out rather than copy
  // it; `body` dangles from then on. Null when there is no such string.
  std::string* body_storage = nullptr;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;             // set for 405
  std::string content_encoding;  // "gzip" when body is compressed; empty: no header
  // Set by handlers whose body depends on Accept / Accept-Encoding, so caches keep the
  // variants apart: "Accept, Accept-Encoding". Empty: no header.
  std::string vary;
  // Seconds, for 429 and 503: when the client may try again. Empty: no header.
  std::string retry_after;
};

std::string_view reason_phrase(int status);

}  // namespace covet::http
