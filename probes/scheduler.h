#pragma once
// Runs every probe on its interval, on the loop: one timer per probe, a timeout enforced
// here (not trusted to the probe), a little jitter so probes configured alike don't fire in
// lockstep, and exactly one result per run delivered to the sink — a probe that answers
// after its timeout has been cancelled and is not heard from.
//
// Ownership: the scheduler owns the probes and their timers. close() cancels what is in
// flight, has every probe release what it keeps between checks, closes every timer, and
// calls `closed` after the last close callback.

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "probes/probe.h"

namespace covet::probes {

class Scheduler {
 public:
  // Called on the loop with the index given to add() and the run's result (latency set).
  using ResultSink = std::function<void(std::size_t index, ProbeResult result)>;

  Scheduler(uv_loop_t* loop, ResultSink sink, std::uint32_t jitter_seed);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void add(std::size_t index, std::unique_ptr<Probe> probe, std::chrono::milliseconds interval,
           std::chrono::milliseconds timeout);
  // First runs are spread over the first few hundred milliseconds, then every interval.
  void start();
  void close(std::function<void()> closed);

 private:
  struct Entry {
    Scheduler* owner = nullptr;
    std::size_t index = 0;
    std::unique_ptr<Probe> probe;
    std::chrono::milliseconds interval{0};
    std::chrono::milliseconds timeout{0};
    uv_timer_t timer{};
    bool running = false;
    std::uint64_t run_id = 0;  // a completion for an older run is ignored
    std::uint64_t started_ns = 0;
  };

  static void on_timer(uv_timer_t* timer);
  void begin_run(Entry& entry);
  void finish_run(Entry& entry, ProbeResult result);
  void schedule_next(Entry& entry);
  std::uint64_t jittered(std::chrono::milliseconds interval);

  uv_loop_t* loop_;
  ResultSink sink_;
  std::minstd_rand jitter_;
  // unique_ptr: the timers' addresses must not move.
  std::vector<std::unique_ptr<Entry>> entries_;
  bool closing_ = false;
  std::size_t open_timers_ = 0;
  std::function<void()> closed_;
};

}  // namespace covet::probes
