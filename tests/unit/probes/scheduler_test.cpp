#include "probes/scheduler.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace covet::probes {
namespace {

using namespace std::chrono_literals;

// A probe whose behaviour the test scripts: answer at once, after a delay, or never.
class ScriptedProbe final : public Probe {
 public:
  enum class Mode { immediate, delayed, never };
  ScriptedProbe(uv_loop_t* loop, Mode mode, int* starts, int* cancels)
      : mode_(mode), starts_(starts), cancels_(cancels) {
    uv_timer_init(loop, timer_);
    timer_->data = this;
  }
  // The timer outlives the probe until its close callback, as libuv requires.
  ~ScriptedProbe() override {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  void start(Completion done) override {
    ++*starts_;
    done_ = std::move(done);
    if (mode_ == Mode::immediate) {
      ProbeResult r;
      r.status = Status::passing;
      std::exchange(done_, nullptr)(std::move(r));
    } else if (mode_ == Mode::delayed) {
      uv_timer_start(
          timer_,
          [](uv_timer_t* t) {
            auto* self = static_cast<ScriptedProbe*>(t->data);
            ProbeResult r;
            r.status = Status::warning;
            if (self->done_) std::exchange(self->done_, nullptr)(std::move(r));
          },
          20, 0);
    }
  }
  void cancel() override {
    ++*cancels_;
    done_ = nullptr;
    uv_timer_stop(timer_);
  }

 private:
  Mode mode_;
  int* starts_;
  int* cancels_;
  uv_timer_t* timer_ = new uv_timer_t;
  Completion done_;
};

struct Recorded {
  std::size_t index;
  ProbeResult result;
};

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() { uv_loop_init(&loop); }
  ~SchedulerTest() override {
    uv_run(&loop, UV_RUN_DEFAULT);  // run close callbacks
    EXPECT_EQ(uv_loop_close(&loop), 0);
  }
  uv_loop_t loop{};
  int starts = 0;
  int cancels = 0;
  std::vector<Recorded> results;
};

TEST_F(SchedulerTest, SynchronousProbeReportsOncePerRunWithLatency) {
  {
    Scheduler* scheduler_ptr = nullptr;
    Scheduler scheduler(
        &loop,
        [&](std::size_t i, ProbeResult r) {
          results.push_back({i, std::move(r)});
          if (results.size() == 3) scheduler_ptr->close(nullptr);
        },
        42);
    scheduler_ptr = &scheduler;
    scheduler.add(
        7,
        std::make_unique<ScriptedProbe>(&loop, ScriptedProbe::Mode::immediate, &starts, &cancels),
        100ms, 50ms);
    scheduler.start();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(starts, 3);
  for (const auto& r : results) {
    EXPECT_EQ(r.index, 7u);
    EXPECT_EQ(r.result.status, Status::passing);
    EXPECT_GE(r.result.latency.count(), 0);
  }
}

TEST_F(SchedulerTest, AsynchronousProbeResultIsDelivered) {
  {
    Scheduler* scheduler_ptr = nullptr;
    Scheduler scheduler(
        &loop,
        [&](std::size_t i, ProbeResult r) {
          results.push_back({i, std::move(r)});
          scheduler_ptr->close(nullptr);
        },
        1);
    scheduler_ptr = &scheduler;
    scheduler.add(
        0, std::make_unique<ScriptedProbe>(&loop, ScriptedProbe::Mode::delayed, &starts, &cancels),
        1s, 500ms);
    scheduler.start();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].result.status, Status::warning);
  EXPECT_GE(results[0].result.latency, 15ms);
  EXPECT_EQ(cancels, 0);
}

TEST_F(SchedulerTest, HungProbeTimesOutOnceAndIsCancelled) {
  {
    Scheduler* scheduler_ptr = nullptr;
    Scheduler scheduler(
        &loop,
        [&](std::size_t i, ProbeResult r) {
          results.push_back({i, std::move(r)});
          if (results.size() == 2) scheduler_ptr->close(nullptr);
        },
        1);
    scheduler_ptr = &scheduler;
    scheduler.add(
        0, std::make_unique<ScriptedProbe>(&loop, ScriptedProbe::Mode::never, &starts, &cancels),
        150ms, 30ms);
    scheduler.start();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(starts, 2);
  EXPECT_EQ(cancels, 2);
  EXPECT_EQ(results[0].result.status, Status::failing);
  EXPECT_EQ(results[0].result.reason, "timeout");
  EXPECT_EQ(results[0].result.error, "check timed out after 30ms");
  EXPECT_GE(results[0].result.latency, 25ms);
}

TEST_F(SchedulerTest, CloseCancelsInFlightAndDeliversNothingMore) {
  bool closed = false;
  {
    Scheduler scheduler(
        &loop,
        [&](std::size_t i, ProbeResult r) {
          results.push_back({i, std::move(r)});
        },
        1);
    scheduler.add(
        0, std::make_unique<ScriptedProbe>(&loop, ScriptedProbe::Mode::delayed, &starts, &cancels),
        1s, 500ms);
    scheduler.start();
    // Run until the probe has started, then close while it is in flight.
    while (starts == 0) uv_run(&loop, UV_RUN_ONCE);
    scheduler.close([&] { closed = true; });
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_TRUE(closed);
  }
  EXPECT_TRUE(results.empty());
  EXPECT_EQ(cancels, 1);
}

// A probe that keeps a handle active between checks, as a persistent connection does, and
// that never answers: only releasing it lets the loop end.
class KeptHandleProbe final : public Probe {
 public:
  KeptHandleProbe(uv_loop_t* loop, int* releases) : releases_(releases) {
    uv_timer_init(loop, timer_);
    uv_timer_start(
        timer_, [](uv_timer_t*) {}, 1000000, 1000000);
  }
  ~KeptHandleProbe() override { release(); }
  void start(Completion) override {}
  void cancel() override {}
  void release() override {
    if (timer_ == nullptr) return;
    ++*releases_;
    uv_close(reinterpret_cast<uv_handle_t*>(std::exchange(timer_, nullptr)),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  std::vector<Reading> timeout_readings() const override {
    return {{"thing_up", "Whether the thing answered.", {}, 0, false}};
  }

 private:
  int* releases_;
  uv_timer_t* timer_ = new uv_timer_t;
};

TEST_F(SchedulerTest, TimeoutResultCarriesTheProbesTimeoutReadingsAndCloseReleasesProbes) {
  int releases = 0;
  {
    Scheduler* scheduler_ptr = nullptr;
    Scheduler scheduler(
        &loop,
        [&](std::size_t i, ProbeResult r) {
          results.push_back({i, std::move(r)});
          scheduler_ptr->close(nullptr);  // inside the run's own completion
        },
        1);
    scheduler_ptr = &scheduler;
    scheduler.add(0, std::make_unique<KeptHandleProbe>(&loop, &releases), 1s, 30ms);
    scheduler.start();
    // Returns only because close() released the probe's handle (active and ref'd).
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(releases, 1);
  }
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].result.reason, "timeout");
  ASSERT_EQ(results[0].result.readings.size(), 1u);
  EXPECT_EQ(results[0].result.readings[0].name, "thing_up");
}

}  // namespace
}  // namespace covet::probes
