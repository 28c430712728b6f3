#pragma once
// One blocking read per check on libuv's thread pool (statvfs on a mount, files under
// /proc), for the probes whose checks may block in the kernel. It abandons a check on
// cancel() without waiting for it, and says when the previous one is still stuck in the
// pool, so the probe can refuse to queue another: the pool's few threads are shared with DNS
// and file requests, and a dead NFS mount must not end up holding all of them.

#include <uv.h>

#include <functional>
#include <memory>
#include <utility>

namespace covet::probes {

template <typename Value>
class PoolCheck {
 public:
  using Work = std::function<Value()>;      // runs on a pool thread
  using Done = std::function<void(Value)>;  // runs on the loop, unless cancelled first

  explicit PoolCheck(uv_loop_t* loop) : loop_(loop) {}
  // A job still in the pool keeps itself alive and finishes without us.
  ~PoolCheck() { cancel(); }
  PoolCheck(const PoolCheck&) = delete;
  PoolCheck& operator=(const PoolCheck&) = delete;

  // True while an abandoned check has not come back from the pool.
  bool stuck() const { return in_flight_ && !in_flight_->finished; }

  // Queues `work`; `done` gets its value on the loop. 0, with `done` moved from; or
  // libuv's error, with `done` left to the caller (and `work` never run).
  int start(Work work, Done& done) {
    auto job = std::make_shared<Job>();
    job->work = std::move(work);
    job->request.data = job.get();
    job->self = job;
    if (const int rc = uv_queue_work(loop_, &job->request, &Job::on_work, &Job::on_after_work);
        rc != 0) {
      job->self.reset();
      return rc;
    }
    // libuv calls back on a later loop iteration, never from in here.
    job->done = std::move(done);
    in_flight_ = std::move(job);
    return 0;
  }

  // `done` will not be called. Succeeds in taking the job back only while it is still
  // queued; a running read cannot be interrupted, and stuck() keeps saying so until it
  // returns. Either way on_after_work frees the job.
  void cancel() {
    if (!in_flight_ || in_flight_->finished) return;
    in_flight_->abandoned = true;
    // Dropped now: it may hold references to things being torn down.
    in_flight_->done = nullptr;
    if (uv_cancel(reinterpret_cast<uv_req_t*>(&in_flight_->request)) == 0) in_flight_.reset();
  }

 private:
  struct Job {
    uv_work_t request{};
    std::shared_ptr<Job> self;  // libuv's reference, from uv_queue_work to on_after_work
    Work work;                  // pool thread only
    Value value{};              // written on the pool thread, read after it
    Done done;                  // loop thread only
    bool abandoned = false;     // cancel() was called: never call `done`
    bool finished = false;      // on_after_work ran: libuv no longer holds `request`

    static void on_work(uv_work_t* request) {
      Job* job = static_cast<Job*>(request->data);
      job->value = job->work();
    }

    static void on_after_work(uv_work_t* request, int status) {
      // From here on this function, not libuv, keeps the job alive: `done` may destroy the
      // probe (and with it the PoolCheck's reference), never this job.
      std::shared_ptr<Job> job = std::move(static_cast<Job*>(request->data)->self);
      job->finished = true;
      // UV_ECANCELED only follows uv_cancel from cancel(), which also set `abandoned`.
      if (job->abandoned || status == UV_ECANCELED) return;
      Done done = std::move(job->done);
      done(std::move(job->value));
    }
  };

  uv_loop_t* loop_;
  std::shared_ptr<Job> in_flight_;
};

}  // namespace covet::probes
