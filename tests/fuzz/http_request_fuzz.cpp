// libFuzzer target: arbitrary bytes through RequestParser, fed in chunks whose sizes come
// from the input's first two bytes, every request answered the way the server does
// (consume it, feed the rest again) and turned into a PreparedResponse.
//
// Invariants, checked with __builtin_trap():
//   - feed() never reports more consumed bytes than it was given, and need_more means all;
//   - a reported request consumed at least one byte (progress), and is not "in progress";
//   - request views point into the parser's own storage, never into the fed buffer (the
//     server reuses its read buffer), and path/query/body respect their bounds;
//   - a body room (RequestParser::body_room) never reaches past the declared body, so
//     a request completed from it consumes all of it;
//   - accept / accept_encoding fit in the header limit and are trimmed, and negotiation over
//     them (exporters/metrics/negotiation.h) returns without trouble;
//   - errors carry a status the server knows how to send;
//   - a PreparedResponse head is one well-formed block without a blank line inside.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "agent/http/request_parser.h"
#include "agent/http/response.h"
#include "exporters/metrics/negotiation.h"

namespace {

using covet::http::Method;
using covet::http::method_bit;
using covet::http::PreparedResponse;
using covet::http::RequestLimits;
using covet::http::RequestParser;
using covet::http::Response;
using covet::http::RouteInfo;

constexpr std::size_t kMaxHeaderBytes = 512;
constexpr std::size_t kControlBytes = 2;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

// A few routes with small body limits, so 413 paths are reachable.
RouteInfo fuzz_route(std::string_view path) {
  RouteInfo route;
  if (path == "/") {
    route = {true, method_bit(Method::get), "GET, HEAD", 0};
  } else if (path == "/small") {
    route = {true, method_bit(Method::post), "POST", 8};
  } else if (path == "/v1/traces") {
    route = {true, method_bit(Method::post) | method_bit(Method::put), "POST, PUT", 64};
  } else if (path == "/lent") {
    // A route that lends its body buffer: a declared body is then read in place. The
    // buffer holds stale bytes, shorter or longer than the body, like a recycled one.
    route = {true, method_bit(Method::post), "POST", 4096};
    route.body_buffer = [](std::size_t bytes) {
      std::string buffer((bytes * 7) % 6000, '\xA5');
      buffer.reserve(bytes);
      return buffer;
    };
  } else {
    route.max_body = 16;  // unknown paths get a small limit too
  }
  return route;
}

bool is_ows(char c) { return c == ' ' || c == '\t'; }

bool points_into(std::string_view view, std::string_view buffer) {
  if (view.empty() || buffer.empty()) return false;
  const auto begin = reinterpret_cast<std::uintptr_t>(buffer.data());
  const auto at = reinterpret_cast<std::uintptr_t>(view.data());
  return at >= begin && at < begin + buffer.size();
}

void check_head(const PreparedResponse& prepared) {
  const std::string_view head = prepared.head;
  check(head.substr(0, 9) == "HTTP/1.1 ");
  check(head.size() >= 2 && head.substr(head.size() - 2) == "\r\n");
  check(head.find("\r\n\r\n") == std::string_view::npos);
  check(prepared.status >= 100 && prepared.status <= 999);
}

void check_request(const RequestParser& parser, std::string_view fed, std::size_t input_size) {
  const covet::http::Request& request = parser.request();
  check(!parser.in_progress());
  const std::string_view views[] = {request.path,        request.query,  request.body,
                                    request.method_name, request.accept, request.accept_encoding};
  for (std::string_view view : views) check(!points_into(view, fed));
  check(request.path.find('?') == std::string_view::npos);
  if (!request.query.empty()) {
    check(request.query.data() == request.path.data() + request.path.size() + 1);
  }
  check(request.path.size() + request.query.size() <= kMaxHeaderBytes);
  check(request.body.size() <= parser.route().max_body);
  check(request.body.size() <= input_size);
  for (std::string_view list : {request.accept, request.accept_encoding}) {
    check(list.size() <= kMaxHeaderBytes);
    check(list.find_first_of("\r\n") == std::string_view::npos);
    if (list.empty()) continue;
    check(!is_ows(list.front()) && !is_ows(list.back()));
  }
  // Touch every byte so ASan reports a view into freed or foreign memory.
  volatile char sink = 0;
  for (std::string_view view : views) {
    for (char c : view) sink = static_cast<char>(sink ^ c);
  }
  const auto format = covet::metrics::choose_format(request.accept);
  check(format == covet::scrape::Format::prometheus_text ||
        format == covet::scrape::Format::openmetrics);
  // Empty lists choose the defaults.
  if (request.accept.empty()) check(format == covet::scrape::Format::prometheus_text);
  if (request.accept_encoding.empty())
    check(!covet::metrics::accepts_gzip(request.accept_encoding));
  sink = static_cast<char>(sink ^ covet::metrics::accepts_gzip(request.accept_encoding));
}

void answer(const RequestParser& parser, unsigned salt) {
  const covet::http::Request& request = parser.request();
  Response response;
  response.status = 100 + static_cast<int>(salt % 900);  // includes 1xx, 204, 304
  response.body = std::string(request.path);
  response.content_type = std::string(request.query);  // may hold CR/LF: must not leak out
  response.allow = std::string(parser.route().allow);
  response.content_encoding = std::string(request.accept_encoding);
  response.vary = std::string(request.accept);
  const auto prepared = PreparedResponse::make(response);
  check(prepared != nullptr);
  check_head(*prepared);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kControlBytes) return 0;
  const unsigned chunk_base = data[0];
  const unsigned chunk_step = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data) + kControlBytes,
                               size - kControlBytes);

  RequestParser parser(RequestLimits{kMaxHeaderBytes}, fuzz_route);
  std::size_t offset = 0;
  unsigned piece_index = 0;
  unsigned requests = 0;
  while (offset < input.size()) {
    const std::size_t chunk = 1 + (chunk_base + piece_index * chunk_step) % 97;
    ++piece_index;
    // Where the connection reads next: the parser's body room when it offers one (bytes
    // read there are the parser's own), else a fresh heap copy per piece, like a read
    // buffer that is reused afterwards.
    const std::span<char> room = parser.body_room();
    std::string buffer;
    std::string_view rest;
    const bool from_room = !room.empty();
    if (from_room) {
      const std::size_t n = std::min({room.size(), chunk, input.size() - offset});
      std::memcpy(room.data(), input.data() + offset, n);
      offset += n;
      rest = std::string_view(room.data(), n);
    } else {
      buffer.assign(input.substr(offset, chunk));
      offset += buffer.size();
      rest = buffer;
    }
    while (true) {
      std::size_t consumed = ~std::size_t{0};
      const RequestParser::Event event = parser.feed(rest, consumed);
      check(consumed <= rest.size());
      rest.remove_prefix(consumed);
      if (event == RequestParser::Event::need_more) {
        check(rest.empty());
        break;
      }
      if (event == RequestParser::Event::error) {
        const int status = parser.error_status();
        check(status == 400 || status == 413 || status == 431 || status == 505);
        // Sticky: the parser stays in error and reads nothing more.
        std::size_t again = 1;
        check(parser.feed("GET / HTTP/1.1\r\n\r\n", again) == RequestParser::Event::error);
        check(again == 0);
        return 0;
      }
      check(consumed > 0);  // progress: a request ends on a byte of this feed
      if (from_room) check(rest.empty());
      check_request(parser, buffer, input.size());
      answer(parser, chunk_base * 7 + requests);
      ++requests;
      parser.consume_request();
    }
  }
  return 0;
}
