#include "probes/scheduler.h"

#include <cassert>

#include "config/duration.h"

namespace covet::probes {

Scheduler::Scheduler(uv_loop_t* loop, ResultSink sink, std::uint32_t jitter_seed)
    : loop_(loop), sink_(std::move(sink)), jitter_(jitter_seed) {}

Scheduler::~Scheduler() { assert(open_timers_ == 0 && "Scheduler destroyed before close()"); }

void Scheduler::add(std::size_t index, std::unique_ptr<Probe> probe,
                    std::chrono::milliseconds interval, std::chrono::milliseconds timeout) {
  auto entry = std::make_unique<Entry>();
  entry->owner = this;
  entry->index = index;
  entry->probe = std::move(probe);
  entry->interval = interval;
  entry->timeout = timeout;
  uv_timer_init(loop_, &entry->timer);
  entry->timer.data = entry.get();
  ++open_timers_;
  entries_.push_back(std::move(entry));
}

void Scheduler::start() {
  for (auto& entry : entries_) {
    // Spread first runs over 0-250 ms: fast enough for startup probes, not all at once.
    const std::uint64_t first = jitter_() % 250;
    uv_timer_start(&entry->timer, on_timer, first, 0);
  }
}

std::uint64_t Scheduler::jittered(std::chrono::milliseconds interval) {
  // Up to 5% early or late.
  const auto base = static_cast<std::uint64_t>(interval.count());
  const std::uint64_t spread = base / 10;
  if (spread == 0) return base;
  return base - spread / 2 + jitter_() % (spread + 1);
}

void Scheduler::on_timer(uv_timer_t* timer) {
  auto* entry = static_cast<Entry*>(timer->data);
  Scheduler* self = entry->owner;
  if (self->closing_) return;
  if (!entry->running) {
    self->begin_run(*entry);
    return;
  }
  // The run's timeout fired first. Cancel so the probe's completion never arrives, then
  // report the timeout as this run's one result.
  entry->probe->cancel();
  ProbeResult result;
  result.status = Status::failing;
  result.reason = "timeout";
  result.error = "check timed out after " + config::format_duration(entry->timeout);
  result.readings = entry->probe->timeout_readings();
  self->finish_run(*entry, std::move(result));
}

void Scheduler::begin_run(Entry& entry) {
  entry.running = true;
  const std::uint64_t run_id = ++entry.run_id;
  entry.started_ns = uv_hrtime();
  uv_timer_start(&entry.timer, on_timer, static_cast<std::uint64_t>(entry.timeout.count()), 0);
  // The completion may run before start() returns (synchronous probes); run_id and
  // `running` make both orders work.
  Entry* target = &entry;
  entry.probe->start([this, target, run_id](ProbeResult result) {
    if (closing_ || !target->running || target->run_id != run_id) return;
    finish_run(*target, std::move(result));
  });
}

void Scheduler::finish_run(Entry& entry, ProbeResult result) {
  entry.running = false;
  result.latency = std::chrono::nanoseconds(uv_hrtime() - entry.started_ns);
  schedule_next(entry);
  sink_(entry.index, std::move(result));
}

void Scheduler::schedule_next(Entry& entry) {
  // Measured from the run's start, so a slow check does not stretch the interval.
  const std::uint64_t elapsed_ms = (uv_hrtime() - entry.started_ns) / 1000000;
  const std::uint64_t interval = jittered(entry.interval);
  const std::uint64_t delay = elapsed_ms >= interval ? 0 : interval - elapsed_ms;
  uv_timer_start(&entry.timer, on_timer, delay, 0);
}

void Scheduler::close(std::function<void()> closed) {
  if (closing_) return;
  closing_ = true;
  closed_ = std::move(closed);
  if (entries_.empty()) {
    if (closed_) std::exchange(closed_, nullptr)();
    return;
  }
  for (auto& entry : entries_) {
    if (entry->running) entry->probe->cancel();
    // What a probe keeps between checks (a connection) is let go while the loop still runs,
    // so its handles' close callbacks run before uv_run returns.
    entry->probe->release();
    entry->running = false;
    uv_timer_stop(&entry->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&entry->timer), [](uv_handle_t* handle) {
      auto* e = static_cast<Entry*>(handle->data);
      Scheduler* self = e->owner;
      if (--self->open_timers_ == 0 && self->closed_) std::exchange(self->closed_, nullptr)();
    });
  }
}

}  // namespace covet::probes
