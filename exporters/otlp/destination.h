#pragma once
// One place spans are forwarded to: its queue, bounded in bytes, and the batches it sends.
//
// Requests wait in arrival order. A batch is the longest run of them from the front that
// stays within max_batch_spans and max_batch_bytes (a single larger request goes alone);
// concatenated ExportTraceServiceRequests are one valid request, so a batch is sent as its
// requests one after the other, never decoded or gathered. A batch leaves when it is full, when its
// oldest request has waited batch_timeout, or at once while flushing for shutdown; at most
// max_concurrent_exports are in flight.
//
// With a spool (spool.dir), a request is held on disk before it is acknowledged and the
// memory queue becomes a window onto the spool: requests are read back from it, in order,
// while the window has room, and acknowledged to it once delivered or dropped. The spool's
// budget is then the bound (past it the spool drops its oldest segment, counted as
// spool_full), so the destination never refuses; what is unsent at shutdown stays on disk
// and is sent after the restart.
//
// A failed attempt the retry policy retries keeps its batch for the next attempt and pauses
// the destination (no new batch starts) for the destination's Retry-After, or else for an
// exponential backoff with jitter; a failure not to retry drops the batch and counts
// it. Requests in flight still count against the queue's bytes: the bound is on memory
// (requests' bytes; a recycled buffer is at most an eighth larger, see BufferPool::take).
//
// Ownership: the loop, the CurlMulti, the config and the Logger outlive it; close() before
// destruction.

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "agent/curl_multi.h"
#include "config/config.h"
#include "exporters/otlp/export_call.h"
#include "exporters/otlp/spool.h"

namespace covet {
class Logger;
}

namespace covet::otlp {

// Bucket bounds of covet_sidecar_otlp_export_duration_seconds.
inline constexpr std::array<double, 10> kExportDurationBuckets{0.005, 0.01, 0.025, 0.05, 0.1,
                                                               0.25,  0.5,  1,     2.5,  10};

struct DestinationStats {
  std::uint64_t exported_spans = 0;
  std::uint64_t exported_requests = 0;                 // export calls that succeeded
  std::uint64_t retries = 0;                           // attempts that failed and will be retried
  std::map<std::string, std::uint64_t> dropped_spans;  // by reason
  std::array<std::uint64_t, kExportDurationBuckets.size()> duration_buckets{};  // cumulative
  std::uint64_t duration_count = 0;
  double duration_sum = 0;
  std::string last_error;  // of the latest failed attempt; "" once one succeeds
  std::chrono::steady_clock::time_point last_failure_at{};
};

class Destination {
 public:
  using Request = std::shared_ptr<const std::string>;

  Destination(uv_loop_t* loop, net::CurlMulti& multi, const config::OtlpExporterConfig& config,
              Logger& log, std::uint64_t seed);
  ~Destination();
  Destination(const Destination&) = delete;
  Destination& operator=(const Destination&) = delete;

  // Opens the spool when one is configured. "" or why it could not be opened; called once,
  // before the loop runs.
  std::string open_spool();

  // Runs whenever requests leave the queue (delivered, dropped or abandoned), so that a
  // sender waiting for room hears of it. Must not call back into this destination.
  void on_room(std::function<void()> callback) { on_room_ = std::move(callback); }

  const std::string& name() const { return config_.name; }
  config::OnFull on_full() const { return config_.on_full; }
  // Whether a request of `bytes` fits now without dropping anything.
  bool fits(std::size_t bytes) const;
  // Queues `request` (a validated ExportTraceServiceRequest holding `spans` spans). When it
  // does not fit, on_full decides: drop_oldest drops waiting requests from the front until
  // it fits, drop_newest drops this one; backpressure callers check fits() first. Returns
  // how many of this request's spans were dropped (0 or `spans`).
  std::size_t enqueue(Request request, std::uint32_t spans);
  // Takes `request` the way this destination holds requests: in memory (enqueue, answered at
  // once with the spans dropped) or written to the spool first. `done(dropped)` runs once
  // it is held; `done(nullopt)` when the spool could not write it (the sender should retry).
  void offer(Request request, std::uint32_t spans,
             std::function<void(std::optional<std::size_t>)> done);
  bool spooled() const { return spool_ != nullptr; }
  std::uint64_t spool_bytes() const { return spool_ ? spool_->bytes() : 0; }
  std::uint64_t spool_replayed_spans() const { return spool_ ? spool_->replayed_spans() : 0; }

  // Shutdown: sends everything now, ignoring batch_timeout; `done` once nothing is queued
  // or in flight. Retries continue meanwhile (the destination may be restarting too).
  void flush(std::function<void()> done);
  // The grace period is over: counts what is still queued or in flight as dropped with
  // reason "shutdown", abandons the calls in flight, and returns how many spans that was.
  std::uint64_t abandon();
  // Closes the timer; `closed` runs after its close callback. Abandons first if needed.
  void close(std::function<void()> closed);

  // Frees what idle export calls keep for the next one (a gzip body's buffer each); the
  // agent calls it every few seconds, with BufferPool::trim.
  void release_idle_memory();

  std::uint64_t queued_spans() const { return queued_spans_; }
  std::uint64_t queued_bytes() const { return queued_bytes_; }
  std::uint64_t max_bytes() const { return config_.queue_max_bytes; }
  // The spool's budget (spool.max_bytes); 0 without a spool.
  std::uint64_t spool_max_bytes() const { return spooled() ? config_.spool.max_bytes : 0; }
  // When the oldest request still queued (waiting or in flight) arrived.
  std::optional<std::chrono::steady_clock::time_point> oldest() const;
  const DestinationStats& stats() const { return stats_; }
  // Spans the spool deleted unsent to stay within its budget.
  std::uint64_t spool_dropped_spans() const {
    return spool_ ? spool_->dropped_spans() : spool_dropped_spans_;
  }

 private:
  struct Item {
    Request request;
    std::uint32_t spans = 0;
    std::chrono::steady_clock::time_point arrived;
    std::optional<std::uint64_t> sequence;  // in the spool
    std::size_t bytes = 0;                  // of the request
  };
  struct Flight {
    std::unique_ptr<ExportCall> call;
    std::vector<Item> items;
    std::uint64_t spans = 0;
    // The last attempt failed and will be retried with the same items once the
    // destination's pause is over. A batch is sent from its items' requests, one after the
    // other, never copied into one body: the batch takes no memory of its own.
    bool parked = false;
  };

  void pump();
  void start_batch(Flight& flight);
  void send(Flight& flight);
  void on_outcome(Flight& flight, ExportOutcome outcome);
  void on_retry(Flight& flight, ExportOutcome outcome);
  void arm_timer(std::chrono::milliseconds delay);
  void drop_items(std::vector<Item>& items, const std::string& reason);
  void forget(const Item& item);
  void observe_duration(std::chrono::steady_clock::duration duration);
  void maybe_flushed();
  // Spool mode: reads the next requests from the spool while the memory window has room.
  void refill();
  void settle(const Item& item);  // spool mode: it will not be sent again
  void close_timer(std::function<void()> closed);

  uv_loop_t* loop_;
  const config::OtlpExporterConfig& config_;
  Logger& log_;
  std::mt19937_64 random_;
  uv_timer_t* timer_;  // heap: freed in its close callback
  std::deque<Item> waiting_;
  std::uint64_t waiting_spans_ = 0;
  std::uint64_t waiting_bytes_ = 0;
  std::uint64_t queued_spans_ = 0;  // waiting + in flight
  std::uint64_t queued_bytes_ = 0;
  std::vector<Flight> flights_;  // max_concurrent_exports of them, each idle or busy
  std::uint32_t consecutive_failures_ = 0;
  std::chrono::steady_clock::time_point paused_until_{};
  bool flushing_ = false;
  std::function<void()> flushed_;
  std::function<void()> on_room_;
  net::CurlMulti& multi_;
  std::unique_ptr<Spool> spool_;
  std::uint64_t spool_dropped_spans_ = 0;  // kept when the spool closes
  bool reading_ = false;                   // a spool read is in flight
  bool spool_exhausted_ = false;           // the last read found nothing; the next append re-arms
  std::uint64_t spool_appends_ = 0;        // appends completed, to tell a stale empty read
  bool abandoned_ = false;                 // after abandon(): nothing is sent any more
  bool closed_ = false;
  DestinationStats stats_;
};

}  // namespace covet::otlp
