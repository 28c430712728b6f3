#pragma once
// HTTP probe: one request to the app (GET, HEAD or POST) through libcurl's multi-socket
// interface on the loop, judged by the status code and optionally a substring of the body.
// The easy handle is reused across checks, so a keep-alive connection is reused too: a
// check every 10s costs the app one request, not a TCP (and TLS) handshake.
//
// Ownership: the probe owns its CurlMulti (one per probe for now: the factory has no place
// to hand in a shared one) and its easy handle. cancel() abandons the request and closes
// its connection, so a hanging app cannot collect stuck connections from us.

#include <curl/curl.h>
#include <uv.h>

#include <memory>
#include <string>

#include "agent/curl_multi.h"
#include "config/config.h"
#include "probes/probe.h"

namespace covet::probes {

class HttpProbe final : public Probe {
 public:
  HttpProbe(uv_loop_t* loop, config::HttpProbeConfig config);
  // Must not run with a request's sockets still closing: cancel, let the loop run, then
  // destroy (the scheduler does exactly that on shutdown).
  ~HttpProbe() override;
  HttpProbe(const HttpProbe&) = delete;
  HttpProbe& operator=(const HttpProbe&) = delete;

  void start(Completion done) override;
  void cancel() override;

  // The response body kept for body_contains; more is read and dropped.
  static constexpr std::size_t kMaxBodyBytes = 64 * 1024;

 private:
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* userp);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* userp);
  void on_done(CURLcode code);
  ProbeResult judge(CURLcode code);

  config::HttpProbeConfig config_;
  std::string what_;  // "GET http://127.0.0.1:8000/health/live", the start of every message
  net::CurlMulti multi_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  char error_buffer_[CURL_ERROR_SIZE] = {};

  // The check in flight.
  Completion done_;
  std::string body_;
  bool body_truncated_ = false;
  std::string reason_phrase_;  // "Internal Server Error"; empty with HTTP/2
};

}  // namespace covet::probes
