#pragma once
// One OTLP/HTTP export request at a time to one destination, on the agent's libcurl multi:
// the batch is POSTed as application/x-protobuf (gzip when configured), with the configured
// headers and the values of header files read at each call (a rotated token is picked up),
// over TLS when the endpoint is https. Connections are kept alive by curl's connection
// cache between calls. The outcome says what the retry policy decided.
//
// Ownership: owns its easy handle; the CurlMulti and the config outlive it.

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/curl_multi.h"
#include "config/config.h"
#include "exporters/otlp/retry_policy.h"

namespace covet::otlp {

struct ExportOutcome {
  AfterExport after = AfterExport::retry;
  long status = 0;     // the HTTP status; 0 when there was no answer
  std::string reason;  // failure class for logs: refused, timeout, tls, http_503, headers, ...
  std::string error;   // what went wrong, for a log line; never a header value
  std::optional<std::chrono::seconds> retry_after;
  std::uint64_t rejected_spans = 0;  // the destination's partial_success
  std::string partial_message;
  std::chrono::steady_clock::duration duration{};
};

class ExportCall {
 public:
  using Done = std::function<void(ExportOutcome)>;

  ExportCall(net::CurlMulti& multi, const config::OtlpExporterConfig& config);
  ~ExportCall();  // abandons a call in flight without calling its `done`
  ExportCall(const ExportCall&) = delete;
  ExportCall& operator=(const ExportCall&) = delete;

  // POSTs the concatenation of `parts` (ExportTraceServiceRequests, uncompressed: together
  // one merged request); `done` runs once on the loop. Only when idle. What the parts view
  // must stay alive and unchanged until `done` runs: without compression it is sent from
  // where it is, never gathered into one buffer first.
  void start(std::vector<std::string_view> parts, Done done);
  bool busy() const { return busy_; }
  // Frees the compressed body's buffer while idle. It is kept from call to call (sized for
  // a whole batch, 4 MiB by default, whatever the batch compressed to); the agent calls
  // this every few seconds (see Destination::release_idle_memory), so under steady load a
  // call idle at that moment allocates it again for its next export.
  void release_idle_memory();

 private:
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self);
  // curl's upload callbacks: the next bytes of the parts, and a rewind when curl resends
  // the request (a reused connection found closed).
  static std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* self);
  static int on_seek(void* self, curl_off_t offset, int origin);
  void finish(CURLcode code);
  // The request headers for one call; false (with `error`) when a header file is unreadable.
  bool build_headers(std::string& error);

  net::CurlMulti& multi_;
  const config::OtlpExporterConfig& config_;
  CURL* easy_;
  curl_slist* headers_ = nullptr;
  curl_slist* connect_to_ = nullptr;
  std::vector<std::string_view> parts_;  // the body, uncompressed
  std::size_t part_ = 0;                 // the next byte to send: parts_[part_][offset_]
  std::size_t offset_ = 0;
  std::string compressed_;  // the gzip body, when compressing: kept alive for the transfer
  std::string response_;    // capped: a destination's answer is small
  std::string retry_after_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
  bool busy_ = false;
  std::chrono::steady_clock::time_point started_;
  Done done_;
};

}  // namespace covet::otlp
