#pragma once
// What the receivers submit to: every request is validated, enriched with the configured
// resource attributes, and handed to each destination's queue, or refused with the answer
// the sender needs (400 for a malformed request, 503 / UNAVAILABLE while a destination with
// on_full: backpressure has no room, so the SDK retries and nothing is lost).
//
// A request that finds such a queue full first waits for room, briefly (kAdmissionWaitMs)
// and within a memory budget (an eighth of the smallest such queue): an export that completes
// meanwhile makes room, and the sender is answered late rather than told to come back in a second.
// The waiting senders are served in arrival order, and one that arrives while others wait queues
// behind them. Past the wait or the budget, the answer is the 503 as before.
//
// Also the source of the covet_sidecar_otlp_* metrics and of the `traces` health check.
//
// Ownership: owns the destinations and the CurlMulti they export through; the loop, the
// config and the Logger outlive it; close() before destruction.

#include <uv.h>

#include <chrono>
#include <deque>
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
  std::string buffer_to_overwrite(std::size_t bytes) override;

  // Shutdown: every destination sends what it holds; `done` once all are empty.
  void flush(std::function<void()> done);
  // The grace period is over: what is left is counted and logged as lost.
  void abandon();
  void close(std::function<void()> closed);
  // Frees the spare request buffers the last few seconds' traffic did not need (the agent
  // calls it every few seconds, see BufferPool::trim), and what idle export calls keep.
  void release_spare_buffers();

  std::vector<prometheus::MetricFamily> families() const;
  // The `traces` check: queue fill, the age of the oldest queued span, recent failures.
  probes::ProbeResult check() const;

 private:
  struct Waiting {
    std::string request;
    std::string_view protocol;  // one of the protocol_* constants
    Done done;
    std::uint64_t deadline_ms = 0;  // uv_now() past which it is refused
  };

  void count_refused(std::string_view reason, std::uint64_t spans);
  // The capacity a request buffer is taken with for `request_bytes`.
  std::size_t buffer_bytes(std::size_t request_bytes) const;
  // The first destination with on_full: backpressure that has no room now for a request of
  // `request_bytes` (enriched); nullptr when every one has.
  const Destination* full_destination(std::size_t request_bytes) const;
  // Whether `destination` takes a request of `bytes` (enriched) now. A queue that pushes back
  // keeps the waiting budget free: the requests waiting for room are held beside it, and
  // the two together stay within its max_bytes.
  bool has_room(const Destination& destination, std::size_t bytes) const;
  // The bytes of `destination`'s queue kept free for waiting requests (0 when none wait for it).
  std::size_t waiting_reserve(const Destination& destination) const;
  // How a request that has room is taken: validated, enriched, queued everywhere.
  void admit(std::string request, std::string_view protocol, Done done);
  // 503 / UNAVAILABLE with Retry-After, counted under `reason`.
  void refuse(std::string request, const Done& done, std::string_view reason, std::uint64_t spans,
              std::string message);
  // refuse() because a destination that pushes back has no room.
  void refuse_full(std::string request, const Done& done);
  // Admits the waiting requests that fit, refuses those that waited too long, and sets the
  // timer for the next deadline.
  void serve_waiting();
  static void on_wait_timer(uv_timer_t* timer);

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
  uv_loop_t* loop_;
  uv_timer_t wait_timer_{};
  std::deque<Waiting> waiting_;
  std::size_t waiting_bytes_ = 0;
  std::size_t waiting_budget_ = 0;  // 0: nothing waits (no backpressure destination)
  std::function<void()> wait_timer_closed_;
};

}  // namespace covet::otlp
