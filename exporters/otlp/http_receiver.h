#pragma once
// OTLP/HTTP: POST /v1/traces, served by an http::Server of its own on the OTLP port.
// Protobuf and JSON bodies, gzip or not, with or without Content-Length (chunked); the
// answer is in the request's own encoding, as the spec requires:
//   200 ExportTraceServiceResponse (partial_success when spans were dropped on arrival)
//   400 google.rpc.Status: undecodable body, invalid spans
//   413 past max_body_bytes, measured after decompression (a gzip bomb stops inflating)
//   415 any other Content-Type or Content-Encoding
//   503 + Retry-After: the queue is full; the SDK retries (backpressure, nothing lost)
// and 404 / 405 from the server for other paths and methods.

#include <cstddef>
#include <string>

#include "agent/http/server.h"
#include "exporters/otlp/intake.h"

namespace covet::otlp {

class HttpReceiver final : public http::Router {
 public:
  // `intake` outlives the receiver.
  HttpReceiver(Intake& intake, std::size_t max_body_bytes);

  http::RouteInfo lookup(std::string_view path) const override;
  http::Reply handle(const http::Request& request) override;
  void handle_later(const http::Request& request, Respond respond) override;

 private:
  Intake& intake_;
  std::size_t max_body_bytes_;
};

}  // namespace covet::otlp
