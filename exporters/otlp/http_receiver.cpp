#include "exporters/otlp/http_receiver.h"

#include <strings.h>

#include <string_view>

#include "exporters/otlp/inflate.h"
#include "exporters/otlp/json.h"
#include "exporters/otlp/traces.h"

namespace covet::otlp {
namespace {

constexpr std::string_view kPath = "/v1/traces";
constexpr std::string_view kProtobuf = "application/x-protobuf";
constexpr std::string_view kJson = "application/json";

// google.rpc.Code values used in Status bodies.
constexpr int kInvalidArgument = 3;
constexpr int kResourceExhausted = 8;
constexpr int kUnavailable = 14;

enum class BodyFormat { protobuf, json, other };

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The media type without parameters ("application/json; charset=utf-8" is JSON).
BodyFormat format_of(std::string_view content_type) {
  const std::string_view media = trim(content_type.substr(0, content_type.find(';')));
  if (equals_ignoring_case(media, kProtobuf)) return BodyFormat::protobuf;
  if (equals_ignoring_case(media, kJson)) return BodyFormat::json;
  return BodyFormat::other;
}

http::Response answer(BodyFormat format, int status, std::string protobuf_body) {
  http::Response response;
  response.status = status;
  if (format == BodyFormat::json) {
    response.content_type = std::string(kJson);
    const std::optional<std::string> json =
        status == 200 ? response_to_json(protobuf_body) : status_to_json(protobuf_body);
    response.body = json.value_or("{}");
  } else {
    response.content_type = std::string(kProtobuf);
    response.body = std::move(protobuf_body);
  }
  return response;
}

http::Reply status_reply(BodyFormat format, int status, int code, std::string_view message) {
  return http::PreparedResponse::make(answer(format, status, encode_status(code, message)));
}

}  // namespace

HttpReceiver::HttpReceiver(Intake& intake, std::size_t max_body_bytes)
    : intake_(intake), max_body_bytes_(max_body_bytes) {}

http::RouteInfo HttpReceiver::lookup(std::string_view path) const {
  http::RouteInfo route;
  // The compressed body is bounded by the same limit as the decompressed one: a body that
  // is larger before inflating is larger after.
  route.max_body = max_body_bytes_;
  if (path != kPath) return route;
  route.found = true;
  route.methods = http::method_bit(http::Method::post);
  route.allow = "POST";
  route.deferred = true;
  // The body is read into a buffer of the intake's, and handed over without a copy.
  route.body_buffer = [this](std::size_t bytes) { return intake_.buffer_to_overwrite(bytes); };
  return route;
}

http::Reply HttpReceiver::handle(const http::Request& request) {
  // Every request to the one route is deferred; this is what a synchronous caller gets.
  http::Reply reply;
  handle_later(request, [&reply](http::Reply r) { reply = std::move(r); });
  return reply;
}

void HttpReceiver::handle_later(const http::Request& request, Respond respond) {
  const BodyFormat format = format_of(request.content_type);
  if (format == BodyFormat::other) {
    intake_.refused_request("unsupported_media_type");
    http::Response response;
    response.status = 415;
    response.body = "unsupported Content-Type \"" +
                    std::string(request.content_type.substr(0, 100)) +
                    "\": send application/x-protobuf or application/json\n";
    respond(http::PreparedResponse::make(response));
    return;
  }
  std::string body;
  const std::string_view encoding = trim(request.content_encoding);
  if (encoding.empty() || equals_ignoring_case(encoding, "identity")) {
    if (request.body_storage != nullptr) {
      body = std::move(*request.body_storage);  // request.body dangles from here
    } else {
      body = intake_.buffer(request.body.size());
      body.assign(request.body);
    }
  } else if (equals_ignoring_case(encoding, "gzip")) {
    Inflated inflated = gunzip_bounded(request.body, max_body_bytes_);
    if (inflated.outcome == Inflated::Outcome::too_large) {
      intake_.refused_request("too_large");
      respond(status_reply(format, 413, kResourceExhausted,
                           "request body larger than " + std::to_string(max_body_bytes_) +
                               " bytes after decompression"));
      return;
    }
    if (inflated.outcome == Inflated::Outcome::malformed) {
      intake_.refused_request("malformed");
      respond(status_reply(format, 400, kInvalidArgument, "gzip: " + inflated.error));
      return;
    }
    body = std::move(inflated.data);
  } else {
    intake_.refused_request("unsupported_media_type");
    http::Response response;
    response.status = 415;
    response.body = "unsupported Content-Encoding \"" + std::string(encoding.substr(0, 100)) +
                    "\": send gzip or no encoding\n";
    respond(http::PreparedResponse::make(response));
    return;
  }

  std::string_view protocol = protocol_http_protobuf;
  if (format == BodyFormat::json) {
    protocol = protocol_http_json;
    JsonConversion converted = json_to_protobuf(body);
    if (!converted.ok) {
      intake_.refused_request("malformed");
      respond(status_reply(format, 400, kInvalidArgument, converted.error));
      return;
    }
    body = std::move(converted.protobuf);
  }

  intake_.submit(std::move(body), protocol, [format, respond](Admission admission) {
    switch (admission.outcome) {
      case Admission::Outcome::accepted:
        respond(http::PreparedResponse::make(
            answer(format, 200, encode_response(admission.rejected_spans, admission.message))));
        return;
      case Admission::Outcome::invalid:
        respond(status_reply(format, 400, kInvalidArgument, admission.message));
        return;
      case Admission::Outcome::full: {
        http::Response response =
            answer(format, 503, encode_status(kUnavailable, admission.message));
        response.retry_after = std::to_string(std::max<long>(1, admission.retry_after.count()));
        respond(http::PreparedResponse::make(response));
        return;
      }
    }
  });
}

}  // namespace covet::otlp
