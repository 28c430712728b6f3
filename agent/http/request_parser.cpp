#include "agent/http/request_parser.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

namespace covet::http {
namespace {

struct MethodMapping {
  std::uint8_t llhttp_method;
  Method method;
};

constexpr MethodMapping kMethods[] = {
    {HTTP_GET, Method::get},     {HTTP_HEAD, Method::head},  {HTTP_POST, Method::post},
    {HTTP_PUT, Method::put},     {HTTP_DELETE, Method::del}, {HTTP_OPTIONS, Method::options},
    {HTTP_PATCH, Method::patch},
};

Method method_from_llhttp(std::uint8_t llhttp_method) {
  for (const MethodMapping& entry : kMethods) {
    if (entry.llhttp_method == llhttp_method) return entry.method;
  }
  return Method::other;
}

// Bytes of framing that llhttp does not hand to a data callback, counted as if the request
// were written canonically: "METHOD SP url SP HTTP/1.1 CRLF" and "Name: value CRLF". Extra
// optional whitespace is not counted; it costs no memory, and request_timeout bounds time.
constexpr std::size_t kMethodSeparatorBytes = 1;  // SP
constexpr std::size_t kUrlSeparatorBytes = 1;     // SP
constexpr std::size_t kVersionFramingBytes = 7;   // "HTTP/" (on_version gets "1.1") + CRLF
constexpr std::size_t kHeaderSeparatorBytes = 2;  // ": "
constexpr std::size_t kHeaderLineEndBytes = 2;    // CRLF

// Longest name of a field we keep ("content-encoding"); longer names are not read further.
constexpr std::size_t kMaxKeptNameBytes = 16;
constexpr std::string_view kListSeparator = ", ";

// The largest body a route's body_buffer is asked for before a byte of it has arrived.
constexpr std::uint64_t kMaxLentBodyBytes = 4 * 1024 * 1024;
// The least room body_room() offers once a body is under way.
constexpr std::size_t kMinBodyRoomBytes = 64 * 1024;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Field names are case-insensitive (RFC 9110 §5.1); `lower` is already lower case.
bool name_is(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (ascii_lower(name[i]) != lower[i]) return false;
  }
  return true;
}

// RFC 9110 §5.5: OWS around a field value is not part of it.
std::string_view trim_ows(std::string_view value) {
  const std::size_t begin = value.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  const std::size_t end = value.find_last_not_of(" \t");
  return value.substr(begin, end - begin + 1);
}

RequestParser& owner(llhttp_t* parser) { return *static_cast<RequestParser*>(parser->data); }

}  // namespace

// llhttp's C callbacks, forwarding to the parser that owns the llhttp_t (parser->data).
struct ParserCallbacks {
  static int on_message_begin(llhttp_t* p) { return owner(p).on_message_begin(); }
  static int on_method(llhttp_t* p, const char* at, std::size_t len) {
    return owner(p).on_method(at, len);
  }
  static int on_method_complete(llhttp_t* p) {
    return owner(p).count_header_bytes(kMethodSeparatorBytes);
  }
  static int on_url(llhttp_t* p, const char* at, std::size_t len) {
    return owner(p).on_url(at, len);
  }
  static int on_url_complete(llhttp_t* p) {
    return owner(p).count_header_bytes(kUrlSeparatorBytes);
  }
  static int on_version(llhttp_t* p, const char*, std::size_t len) {
    return owner(p).count_header_bytes(len);
  }
  static int on_version_complete(llhttp_t* p) {
    return owner(p).count_header_bytes(kVersionFramingBytes);
  }
  static int on_header_field(llhttp_t* p, const char* at, std::size_t len) {
    return owner(p).on_header_field(at, len);
  }
  static int on_header_field_complete(llhttp_t* p) { return owner(p).on_header_field_complete(); }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t len) {
    return owner(p).on_header_value(at, len);
  }
  static int on_header_value_complete(llhttp_t* p) { return owner(p).on_header_value_complete(); }
  static int on_headers_complete(llhttp_t* p) { return owner(p).on_headers_complete(); }
  static int on_body(llhttp_t* p, const char* at, std::size_t len) {
    return owner(p).on_body(at, len);
  }
  static int on_message_complete(llhttp_t* p) { return owner(p).on_message_complete(); }
};

RequestParser::RequestParser(RequestLimits limits, RouteLookup lookup)
    : limits_(limits), lookup_(std::move(lookup)) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = &ParserCallbacks::on_message_begin;
  settings_.on_method = &ParserCallbacks::on_method;
  settings_.on_method_complete = &ParserCallbacks::on_method_complete;
  settings_.on_url = &ParserCallbacks::on_url;
  settings_.on_url_complete = &ParserCallbacks::on_url_complete;
  settings_.on_version = &ParserCallbacks::on_version;
  settings_.on_version_complete = &ParserCallbacks::on_version_complete;
  settings_.on_header_field = &ParserCallbacks::on_header_field;
  settings_.on_header_field_complete = &ParserCallbacks::on_header_field_complete;
  settings_.on_header_value = &ParserCallbacks::on_header_value;
  settings_.on_header_value_complete = &ParserCallbacks::on_header_value_complete;
  settings_.on_headers_complete = &ParserCallbacks::on_headers_complete;
  settings_.on_body = &ParserCallbacks::on_body;
  settings_.on_message_complete = &ParserCallbacks::on_message_complete;
  // settings_ lives as long as parser_ (both members), as llhttp_init requires.
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

RequestParser::Event RequestParser::feed(std::string_view data, std::size_t& consumed) {
  consumed = 0;
  if (error_status_ != 0) return Event::error;  // sticky: the connection must close
  if (complete_) return Event::request;         // the caller has not consumed it yet
  if (data.empty()) return Event::need_more;

  const llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  if (err == HPE_OK) {
    consumed = data.size();
    return Event::need_more;
  }

  // llhttp stopped early (a pause or an error); error_pos is where, inside `data`.
  const auto begin = reinterpret_cast<std::uintptr_t>(data.data());
  const auto pos = reinterpret_cast<std::uintptr_t>(llhttp_get_error_pos(&parser_));
  consumed = (pos >= begin && pos - begin <= data.size()) ? pos - begin : data.size();

  if (err == HPE_PAUSED && complete_) return Event::request;
  if (error_status_ == 0) {
    // An error llhttp found itself, or a pause we never asked for (we clear the upgrade
    // flag, so HPE_PAUSED_UPGRADE should not happen; if it does, refuse the request).
    const char* reason = llhttp_get_error_reason(&parser_);
    const bool wrong_version = err == HPE_INVALID_VERSION || err == HPE_PAUSED_H2_UPGRADE;
    error_status_ = wrong_version ? 505 : 400;
    error_reason_ = reason != nullptr ? reason : llhttp_errno_name(err);
  }
  in_progress_ = false;
  complete_ = false;
  return Event::error;
}

void RequestParser::consume_request() {
  if (!complete_) return;
  complete_ = false;
  in_progress_ = false;
  // clear(), not shrink: the capacity is reused by the next request on this connection.
  url_.clear();
  body_.clear();
  body_in_place_ = false;
  body_filled_ = 0;
  body_expected_ = 0;
  method_.clear();
  field_name_.clear();
  field_value_.clear();
  field_ = KeptField::none;
  headers_done_ = false;
  accept_.clear();
  accept_encoding_.clear();
  content_type_.clear();
  content_encoding_.clear();
  header_bytes_ = 0;
  route_ = RouteInfo{};
  request_ = Request{};
  llhttp_resume(&parser_);  // on_message_complete paused the parser
}

int RequestParser::on_message_begin() {
  in_progress_ = true;
  return 0;
}

int RequestParser::on_method(const char* at, std::size_t len) {
  if (int rc = count_header_bytes(len); rc != 0) return rc;
  method_.append(at, len);
  return 0;
}

int RequestParser::on_url(const char* at, std::size_t len) {
  if (int rc = count_header_bytes(len); rc != 0) return rc;
  url_.append(at, len);
  return 0;
}

// Header fields are counted, and only Accept and Accept-Encoding are kept: llhttp itself
// tracks Content-Length, Transfer-Encoding and Connection, and nothing else is read. What is
// kept was counted first, so it stays within max_header_bytes ("a, b" is shorter than the
// two lines it joins).
int RequestParser::on_header_field(const char* at, std::size_t len) {
  if (int rc = count_header_bytes(len); rc != 0) return rc;
  // A name may arrive in pieces; one byte past the longest kept name rules it out.
  if (!headers_done_ && field_name_.size() <= kMaxKeptNameBytes) {
    field_name_.append(at, std::min(len, kMaxKeptNameBytes + 1 - field_name_.size()));
  }
  return 0;
}

int RequestParser::on_header_field_complete() {
  if (int rc = count_header_bytes(kHeaderSeparatorBytes); rc != 0) return rc;
  field_ = KeptField::none;
  if (name_is(field_name_, "accept")) {
    field_ = KeptField::accept;
  } else if (name_is(field_name_, "accept-encoding")) {
    field_ = KeptField::accept_encoding;
  } else if (name_is(field_name_, "content-type")) {
    field_ = KeptField::content_type;
  } else if (name_is(field_name_, "content-encoding")) {
    field_ = KeptField::content_encoding;
  }
  field_name_.clear();
  field_value_.clear();
  return 0;
}

int RequestParser::on_header_value(const char* at, std::size_t len) {
  if (int rc = count_header_bytes(len); rc != 0) return rc;
  if (field_ != KeptField::none) field_value_.append(at, len);
  return 0;
}

int RequestParser::on_header_value_complete() {
  if (int rc = count_header_bytes(kHeaderLineEndBytes); rc != 0) return rc;
  if (field_ == KeptField::none) return 0;
  std::string& list = kept_value(field_);
  // An empty line adds no element; joining it would leave a dangling ", ".
  const std::string_view value = trim_ows(field_value_);
  if (!value.empty()) {
    if (!list.empty()) list += kListSeparator;
    list += value;
  }
  field_ = KeptField::none;
  field_value_.clear();
  return 0;
}

std::string& RequestParser::kept_value(KeptField field) {
  switch (field) {
    case KeptField::accept:
      return accept_;
    case KeptField::accept_encoding:
      return accept_encoding_;
    case KeptField::content_type:
      return content_type_;
    case KeptField::content_encoding:
    case KeptField::none:
      break;
  }
  return content_encoding_;
}

int RequestParser::on_headers_complete() {
  const std::string_view url = url_;
  const std::size_t question = url.find('?');
  request_.path = url.substr(0, question);
  request_.query =
      question == std::string_view::npos ? std::string_view() : url.substr(question + 1);
  request_.method = method_from_llhttp(llhttp_get_method(&parser_));
  request_.method_name = method_;
  // Final from here: fields after the headers are chunked trailers, which are not kept
  // (RFC 9110 §6.5.1), so these views cannot move under the handler.
  headers_done_ = true;
  request_.accept = accept_;
  request_.accept_encoding = accept_encoding_;
  request_.content_type = content_type_;
  request_.content_encoding = content_encoding_;

  if (llhttp_get_http_major(&parser_) != 1) return fail(505, "HTTP version not supported");
  // We never tunnel; RFC 9110 §7.8 lets a server ignore Upgrade, so the request is answered
  // as an ordinary one and the connection stays HTTP/1.1.
  if (llhttp_get_method(&parser_) == HTTP_CONNECT) return fail(400, "CONNECT is not supported");
  parser_.upgrade = 0;

  route_ = lookup_ ? lookup_(request_.path) : RouteInfo{};
  // A declared length over the limit is refused before a byte of the body is read.
  const bool has_length = (parser_.flags & F_CONTENT_LENGTH) != 0;
  if (has_length && parser_.content_length > route_.max_body) {
    return fail(413, "request body larger than the route accepts");
  }
  // Room for the whole body at once. A declared length that never arrives holds little
  // memory: a fresh buffer's pages become resident only as they are written (body_room
  // sizes ahead at most as much as has arrived, or 64 KiB), and a recycled one was resident
  // already. Past kMaxLentBodyBytes the body grows as it arrives, so that many slow
  // clients cannot reserve max_body each up front.
  if (has_length && route_.body_buffer && parser_.content_length > 0 &&
      parser_.content_length <= kMaxLentBodyBytes) {
    const auto length = static_cast<std::size_t>(parser_.content_length);
    if (body_.capacity() < length) body_ = route_.body_buffer(length);
    // Reserved whole now, so that sizing it ahead in body_room never moves it.
    body_.reserve(length);
    body_in_place_ = true;
    body_expected_ = length;
  }
  return 0;
}

std::span<char> RequestParser::body_room() {
  if (!body_in_place_ || complete_ || error_status_ != 0 || body_filled_ >= body_expected_) {
    return {};
  }
  const std::size_t step = std::max(kMinBodyRoomBytes, body_filled_);
  std::size_t end = body_filled_ + std::min(step, body_expected_ - body_filled_);
  // A recycled buffer keeps its last size: room that is resident already and needs no
  // zeros written into it first.
  end = std::max(end, std::min(body_.size(), body_expected_));
  if (body_.size() < end) body_.resize(end);
  return {body_.data() + body_filled_, end - body_filled_};
}

int RequestParser::on_body(const char* at, std::size_t len) {
  if (body_in_place_) {
    // llhttp hands over no more than the declared length, which fits in max_body and in the
    // reserved capacity.
    const std::size_t end = body_filled_ + len;
    if (body_.size() == body_filled_) {
      body_.append(at, len);  // not sized ahead: bytes from the caller's buffer
    } else {
      if (body_.size() < end) body_.resize(end);
      char* const place = body_.data() + body_filled_;
      // Bytes read through body_room() are in place already.
      if (at != place) std::memcpy(place, at, len);
    }
    body_filled_ = end;
    return 0;
  }
  // body_.size() <= route_.max_body always holds here, so the subtraction cannot wrap.
  if (len > route_.max_body - body_.size()) {
    return fail(413, "request body larger than the route accepts");
  }
  body_.append(at, len);
  return 0;
}

int RequestParser::on_message_complete() {
  if (body_in_place_) body_.resize(body_filled_);
  request_.body = body_;
  request_.body_storage = &body_;
  request_.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  in_progress_ = false;
  complete_ = true;
  // Pausing makes llhttp_execute return here, so feed() reports one request at a time.
  return HPE_PAUSED;
}

int RequestParser::fail(int status, std::string_view reason) {
  error_status_ = status;
  error_reason_.assign(reason);
  return HPE_USER;
}

int RequestParser::count_header_bytes(std::size_t n) {
  header_bytes_ += n;
  if (header_bytes_ > limits_.max_header_bytes) {
    return fail(431, "request header fields too large");
  }
  return 0;
}

}  // namespace covet::http
