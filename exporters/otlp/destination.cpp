#include "exporters/otlp/destination.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

#include "agent/logging.h"

namespace covet::otlp {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds until(Clock::time_point at, Clock::time_point now) {
  if (at <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(at - now);
}

}  // namespace

Destination::Destination(uv_loop_t* loop, net::CurlMulti& multi,
                         const config::OtlpExporterConfig& config, Logger& log, std::uint64_t seed)
    : loop_(loop),
      config_(config),
      log_(log),
      random_(seed),
      timer_(new uv_timer_t),
      multi_(multi) {
  uv_timer_init(loop_, timer_);
  timer_->data = this;
  flights_.resize(config_.max_concurrent_exports);
  for (Flight& flight : flights_) flight.call = std::make_unique<ExportCall>(multi_, config_);
}

std::string Destination::open_spool() {
  if (config_.spool.dir.empty()) return {};
  SpoolOptions options;
  options.dir = config_.spool.dir;
  options.max_bytes = config_.spool.max_bytes;
  options.fsync = config_.spool.fsync == config::SpoolFsync::always ? SpoolOptions::Fsync::always
                  : config_.spool.fsync == config::SpoolFsync::interval
                      ? SpoolOptions::Fsync::interval
                      : SpoolOptions::Fsync::never;
  options.fsync_interval = config_.spool.fsync_interval;
  std::string error;
  spool_ = Spool::open(loop_, options, log_, error);
  if (!spool_) return "otlp exporter " + config_.name + ": spool: " + error;
  if (spool_->pending_records() > 0) {
    log_.warn("spool holds spans not acknowledged before the restart: sending them again",
              {{"destination", config_.name},
               {"spans", std::to_string(spool_->replayed_spans())},
               {"requests", std::to_string(spool_->replayed_records())},
               {"note", "some may have been delivered just before the stop (at-least-once)"}});
  }
  refill();
  return {};
}

void Destination::offer(Request request, std::uint32_t spans,
                        std::function<void(std::optional<std::size_t>)> done) {
  if (!spool_) {
    done(enqueue(std::move(request), spans));
    return;
  }
  if (abandoned_) {
    done(std::nullopt);
    return;
  }
  auto shared_done =
      std::make_shared<std::function<void(std::optional<std::size_t>)>>(std::move(done));
  const bool taken = spool_->append(std::move(request), spans,
                                    [this, shared_done](std::optional<std::uint64_t> seq) {
                                      if (!seq) {
                                        (*shared_done)(std::nullopt);
                                        return;
                                      }
                                      ++spool_appends_;
                                      spool_exhausted_ = false;
                                      (*shared_done)(0);
                                      refill();
                                    });
  if (!taken) (*shared_done)(std::nullopt);
}

void Destination::refill() {
  if (!spool_ || reading_ || spool_exhausted_ || abandoned_) return;
  if (queued_bytes_ >= config_.queue_max_bytes) return;
  const std::size_t room = config_.queue_max_bytes - queued_bytes_;
  reading_ = true;
  const std::uint64_t appends_before = spool_appends_;
  spool_->read(std::min<std::size_t>(room, config_.max_batch_bytes),
               [this, appends_before](std::vector<SpoolRecord> records) {
                 reading_ = false;
                 if (records.empty()) {
                   // An append that completed while this read was in flight found reading_
                   // set and started no read, and its record may not be in this one. Only
                   // a read with no append beside it shows the spool is empty; otherwise
                   // the record would wait for the next append, which at the end of the
                   // traffic never comes.
                   if (spool_appends_ != appends_before) {
                     refill();
                     return;
                   }
                   spool_exhausted_ = true;
                   maybe_flushed();
                   return;
                 }
                 const auto now = Clock::now();
                 for (SpoolRecord& record : records) {
                   // The size goes into the item too: forget() and start_batch() give back exactly
                   // what is counted here, or the window would fill up for good and stall the
                   // spool.
                   const std::size_t bytes = record.payload->size();
                   waiting_spans_ += record.spans;
                   waiting_bytes_ += bytes;
                   queued_spans_ += record.spans;
                   queued_bytes_ += bytes;
                   waiting_.push_back(
                       Item{std::move(record.payload), record.spans, now, record.sequence, bytes});
                 }
                 pump();
                 refill();
               });
}

void Destination::settle(const Item& item) {
  if (spool_ && item.sequence) spool_->acknowledge(*item.sequence);
}

Destination::~Destination() { assert(closed_ && "Destination destroyed before close()"); }

bool Destination::fits(std::size_t bytes) const {
  if (spool_) return true;  // the spool makes room by dropping its oldest segment
  return queued_bytes_ + bytes <= config_.queue_max_bytes;
}

std::size_t Destination::enqueue(Request request, std::uint32_t spans) {
  if (abandoned_) {
    stats_.dropped_spans["shutdown"] += spans;
    return spans;
  }
  const std::size_t bytes = request->size();
  if (!fits(bytes) && config_.on_full == config::OnFull::drop_oldest) {
    std::vector<Item> dropped;
    while (!fits(bytes) && !waiting_.empty()) {
      dropped.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
      waiting_spans_ -= dropped.back().spans;
      waiting_bytes_ -= dropped.back().bytes;
    }
    if (!dropped.empty()) drop_items(dropped, "queue_full");
  }
  if (!fits(bytes)) {
    // drop_newest, or drop_oldest with everything that could go already in flight.
    stats_.dropped_spans["queue_full"] += spans;
    return spans;
  }
  waiting_spans_ += spans;
  waiting_bytes_ += bytes;
  queued_spans_ += spans;
  queued_bytes_ += bytes;
  waiting_.push_back(Item{std::move(request), spans, Clock::now(), std::nullopt, bytes});
  pump();
  return 0;
}

std::optional<Clock::time_point> Destination::oldest() const {
  std::optional<Clock::time_point> oldest;
  const auto consider = [&](const Item& item) {
    if (!oldest || item.arrived < *oldest) oldest = item.arrived;
  };
  for (const Flight& flight : flights_) {
    for (const Item& item : flight.items) consider(item);
  }
  if (!waiting_.empty()) consider(waiting_.front());
  return oldest;
}

void Destination::release_idle_memory() {
  for (Flight& flight : flights_) flight.call->release_idle_memory();
}

void Destination::pump() {
  if (abandoned_) return;
  const Clock::time_point now = Clock::now();
  if (now < paused_until_) {
    arm_timer(until(paused_until_, now));
    return;
  }
  for (Flight& flight : flights_) {
    if (flight.parked && !flight.call->busy()) {
      flight.parked = false;
      send(flight);
    }
  }
  while (!waiting_.empty()) {
    const bool full =
        waiting_spans_ >= config_.max_batch_spans || waiting_bytes_ >= config_.max_batch_bytes;
    const Clock::time_point due = waiting_.front().arrived + config_.batch_timeout;
    if (!full && !flushing_ && now < due) {
      arm_timer(until(due, now));
      return;
    }
    auto idle = std::find_if(flights_.begin(), flights_.end(),
                             [](const Flight& f) { return !f.call->busy() && f.items.empty(); });
    if (idle == flights_.end()) return;  // a finished call pumps again
    start_batch(*idle);
  }
}

void Destination::start_batch(Flight& flight) {
  std::uint64_t bytes = 0;
  flight.spans = 0;
  while (!waiting_.empty()) {
    const Item& next = waiting_.front();
    const bool first = flight.items.empty();
    if (!first && (flight.spans + next.spans > config_.max_batch_spans ||
                   bytes + next.bytes > config_.max_batch_bytes)) {
      break;
    }
    bytes += next.bytes;
    flight.spans += next.spans;
    flight.items.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  waiting_spans_ -= flight.spans;
  waiting_bytes_ -= bytes;
  send(flight);
}

void Destination::send(Flight& flight) {
  const std::size_t index = static_cast<std::size_t>(&flight - flights_.data());
  std::vector<std::string_view> parts;
  parts.reserve(flight.items.size());
  for (const Item& item : flight.items) parts.emplace_back(*item.request);
  flight.call->start(std::move(parts), [this, index](ExportOutcome outcome) {
    on_outcome(flights_[index], std::move(outcome));
  });
}

void Destination::on_outcome(Flight& flight, ExportOutcome outcome) {
  observe_duration(outcome.duration);
  if (outcome.after == AfterExport::retry) {
    on_retry(flight, std::move(outcome));
    pump();
    return;
  }
  std::vector<Item> items = std::move(flight.items);
  flight.items.clear();
  switch (outcome.after) {
    case AfterExport::delivered: {
      consecutive_failures_ = 0;
      stats_.last_error.clear();
      const std::uint64_t rejected = std::min<std::uint64_t>(outcome.rejected_spans, flight.spans);
      stats_.exported_spans += flight.spans - rejected;
      ++stats_.exported_requests;
      for (const Item& item : items) {
        forget(item);
        settle(item);
      }
      if (rejected > 0 || !outcome.partial_message.empty()) {
        if (rejected > 0) stats_.dropped_spans["partial_success"] += rejected;
        log_.warn("destination accepted part of an export",
                  {{"destination", config_.name},
                   {"rejected_spans", std::to_string(rejected)},
                   {"message", outcome.partial_message}});
      }
      break;
    }
    case AfterExport::drop: {
      stats_.last_error = outcome.error;
      stats_.last_failure_at = Clock::now();
      log_.error("destination refused an export: spans dropped",
                 {{"destination", config_.name},
                  {"reason", outcome.reason},
                  {"error", outcome.error},
                  {"spans", std::to_string(flight.spans)}});
      for (const Item& item : items) settle(item);
      drop_items(items, "rejected");
      break;
    }
    case AfterExport::retry:
      break;  // handled above
  }
  flight.spans = 0;
  maybe_flushed();
  pump();
  refill();
}

void Destination::on_retry(Flight& flight, ExportOutcome outcome) {
  ++stats_.retries;
  ++consecutive_failures_;
  stats_.last_error = outcome.error;
  stats_.last_failure_at = Clock::now();
  flight.parked = true;
  const std::chrono::milliseconds delay =
      outcome.retry_after
          ? std::chrono::milliseconds(*outcome.retry_after)
          : backoff_delay(consecutive_failures_, config_.initial_backoff, config_.max_backoff,
                          std::uniform_real_distribution<double>(0, 1)(random_));
  paused_until_ = std::max(paused_until_, Clock::now() + delay);
  // The first failure of a run is news; the rest of an outage is in the metrics.
  if (consecutive_failures_ == 1 || outcome.retry_after) {
    log_.warn("export failed, will retry", {{"destination", config_.name},
                                            {"reason", outcome.reason},
                                            {"error", outcome.error},
                                            {"retry_in", fmt::format("{}ms", delay.count())}});
  }
}

void Destination::forget(const Item& item) {
  queued_spans_ -= item.spans;
  queued_bytes_ -= item.bytes;
  if (on_room_) on_room_();
}

void Destination::drop_items(std::vector<Item>& items, const std::string& reason) {
  std::uint64_t spans = 0;
  for (const Item& item : items) {
    spans += item.spans;
    forget(item);
  }
  stats_.dropped_spans[reason] += spans;
  items.clear();
}

void Destination::observe_duration(Clock::duration duration) {
  const double seconds = std::chrono::duration<double>(duration).count();
  for (std::size_t i = 0; i < kExportDurationBuckets.size(); ++i) {
    if (seconds <= kExportDurationBuckets[i]) ++stats_.duration_buckets[i];
  }
  ++stats_.duration_count;
  stats_.duration_sum += seconds;
}

void Destination::arm_timer(std::chrono::milliseconds delay) {
  uv_timer_start(
      timer_, [](uv_timer_t* t) { static_cast<Destination*>(t->data)->pump(); },
      static_cast<std::uint64_t>(delay.count()), 0);
}

void Destination::flush(std::function<void()> done) {
  flushing_ = true;
  flushed_ = std::move(done);
  maybe_flushed();
  pump();
}

void Destination::maybe_flushed() {
  if (!flushing_ || !flushed_ || queued_spans_ != 0 || queued_bytes_ != 0) return;
  if (spool_ && (spool_->pending_records() > 0 || reading_)) return;
  std::function<void()> flushed = std::move(flushed_);
  flushed_ = nullptr;
  flushed();
}

std::uint64_t Destination::abandon() {
  const std::uint64_t lost = queued_spans_;
  abandoned_ = true;
  flushed_ = nullptr;
  uv_timer_stop(timer_);
  std::vector<Item> items(std::make_move_iterator(waiting_.begin()),
                          std::make_move_iterator(waiting_.end()));
  waiting_.clear();
  waiting_spans_ = 0;
  waiting_bytes_ = 0;
  for (Flight& flight : flights_) {
    flight.call = nullptr;  // abandons the transfer; no outcome will come
    for (Item& item : flight.items) items.push_back(std::move(item));
    flight.items.clear();
    flight.parked = false;
  }
  if (spool_) {
    // Still on disk: sent after the restart, not lost.
    for (const Item& item : items) forget(item);
    const std::uint64_t kept = spool_->pending_spans();
    if (kept > 0) {
      log_.info("spans left in the spool for the next start",
                {{"destination", config_.name}, {"spans", std::to_string(kept)}});
    }
    return 0;
  }
  if (!items.empty()) drop_items(items, "shutdown");
  return lost;
}

void Destination::close(std::function<void()> closed) {
  if (closed_) {
    if (closed) closed();
    return;
  }
  abandon();
  closed_ = true;
  uv_timer_stop(timer_);
  if (spool_) {
    spool_->close([this, closed = std::move(closed)]() mutable {
      spool_dropped_spans_ = spool_->dropped_spans();
      spool_.reset();
      close_timer(std::move(closed));
    });
    return;
  }
  close_timer(std::move(closed));
}

void Destination::close_timer(std::function<void()> closed) {
  timer_->data = new std::function<void()>(std::move(closed));
  uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* handle) {
    auto* callback = static_cast<std::function<void()>*>(handle->data);
    std::function<void()> closed = std::move(*callback);
    delete callback;
    delete reinterpret_cast<uv_timer_t*>(handle);
    if (closed) closed();
  });
}

}  // namespace covet::otlp
