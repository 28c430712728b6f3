#include "agent/http/response.h"

#include <fmt/format.h>

#include <iterator>
#include <string_view>

namespace covet::http {
namespace {

// RFC 9110 §15: 1xx, 204 and 304 never carry content, so they get neither a body nor the
// Content-Type / Content-Length that would describe one.
bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

// A value we splice into the head verbatim: CR or LF would let it forge headers.
bool is_safe_header_value(std::string_view value) {
  return value.find_first_of("\r\n") == std::string_view::npos;
}

struct StatusReason {
  int status;
  std::string_view reason;
};

// RFC 9110 §15 reason phrases; clients ignore them, people reading captures do not.
constexpr StatusReason kReasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {411, "Length Required"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Content"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

}  // namespace

std::string_view reason_phrase(int status) {
  for (const StatusReason& entry : kReasons) {
    if (entry.status == status) return entry.reason;
  }
  return "Unknown";
}

std::shared_ptr<const PreparedResponse> PreparedResponse::make(const Response& response) {
  auto prepared = std::make_shared<PreparedResponse>();
  // A handler that hands us a header value with CR/LF has a bug; answering 500 beats
  // letting it inject headers into the response.
  const bool safe =
      is_safe_header_value(response.content_type) && is_safe_header_value(response.allow) &&
      is_safe_header_value(response.content_encoding) && is_safe_header_value(response.vary) &&
      is_safe_header_value(response.retry_after);
  const int status = safe ? response.status : 500;
  // Three digits keep the status line well-formed whatever a handler passed.
  prepared->status = (status >= 100 && status <= 999) ? status : 500;

  std::string& head = prepared->head;
  auto out = std::back_inserter(head);
  fmt::format_to(out, "HTTP/1.1 {} {}\r\n", prepared->status, reason_phrase(prepared->status));
  if (status_has_body(prepared->status)) {
    prepared->body = safe ? response.body : std::string("internal server error\n");
    const std::string_view content_type =
        safe ? std::string_view(response.content_type) : "text/plain; charset=utf-8";
    if (!content_type.empty()) fmt::format_to(out, "Content-Type: {}\r\n", content_type);
    // Describes the body's bytes, so only a body the handler built carries it, never the
    // plain-text 500 that replaced an unsafe response.
    if (safe && !response.content_encoding.empty()) {
      fmt::format_to(out, "Content-Encoding: {}\r\n", response.content_encoding);
    }
    fmt::format_to(out, "Content-Length: {}\r\n", prepared->body.size());
  }
  // Vary is about the request, not the body: a 304 carries it too (RFC 9110 §15.4.5).
  if (safe && !response.vary.empty()) fmt::format_to(out, "Vary: {}\r\n", response.vary);
  if (safe && !response.allow.empty()) fmt::format_to(out, "Allow: {}\r\n", response.allow);
  if (safe && !response.retry_after.empty()) {
    fmt::format_to(out, "Retry-After: {}\r\n", response.retry_after);
  }
  return prepared;
}

}  // namespace covet::http
