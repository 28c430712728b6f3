#pragma once
// What the receivers submit to: every request is validated, enriched with the configured
// resource attributes, and handed to each destination's queue, or refused with the answer
// the sender needs (400 for a malformed request, 503 / UNAVAILABLE while a destination with
// on_full: backpressure has no room, so the SDK retries and nothing is lost).
//
// Also the source of the covet_sidecar_otlp_* metrics and of the `traces` health check.
//
// Ownership: owns the destinations and the CurlMulti they export through; the loop, the
// config and the Logger outlive it; close() before destruction.

#include <uv.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/curl_multi.h"
#include "config/config.h"
#include "exporters/otlp/buffer_pool.h"
#include "exporters/otlp/destination.h"
#include "exporters/otlp/intake.h"
#include "exporters/otlp/traces.h"
#include "probes/probe.h"

namespace prometheus {
struct MetricFamily;
}

namespace covet {
class Logger;
}

namespace covet::otlp {

class Pipeline final : public Intake {
 public:
  Pipeline(uv_loop_t* loop, const config::OtlpConfig& config, Logger& log);
  ~Pipeline() override;
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Opens the spools. "" or why one could not be opened; called once before the loop runs.
  std::string start();

  void submit(std::string request, std::string_view protocol, Done done) override;
  void refused_request(std::string_view reason) override;
  std::string buffer(std::size_t bytes) override;

  // Shutdown: every destination sends what it holds; `done` once all are empty.
  void flush(std::function<void()> done);
  // The grace period is over: what is left is counted and logged as lost.
  void abandon();
  void close(std::function<void()> closed);

  std::vector<prometheus::MetricFamily> families() const;
  // The `traces` check: queue fill, the age of the oldest queued span, recent failures.
  probes::ProbeResult check() const;

 private:
  void count_refused(std::string_view reason, std::uint64_t spans);

  const config::OtlpConfig& config_;
  Logger& log_;
  ResourceAttributes resource_;          // the configured attributes with a value
  std::shared_ptr<BufferPool> buffers_;  // requests' memory, back from the destinations
  net::CurlMulti multi_;
  std::vector<std::unique_ptr<Destination>> destinations_;
  std::map<std::string, std::uint64_t, std::less<>> received_spans_;    // by protocol
  std::map<std::string, std::uint64_t, std::less<>> refused_spans_;     // by reason
  std::map<std::string, std::uint64_t, std::less<>> refused_requests_;  // by reason
  bool abandoned_ = false;
};

}  // namespace covet::otlp
