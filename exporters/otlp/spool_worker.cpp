#include "exporters/otlp/spool_worker.h"

#include <cassert>
#include <system_error>
#include <utility>

namespace covet::otlp::detail {

SpoolWorker::SpoolWorker(uv_loop_t* loop) : loop_(loop) {}

SpoolWorker::~SpoolWorker() {
  // A running thread or a pending close callback would use a freed object.
  assert(closed_ || (async_ == nullptr && !thread_.joinable()));
}

bool SpoolWorker::start(std::string& error) {
  auto* async = new uv_async_t;
  if (const int rc = uv_async_init(loop_, async, &SpoolWorker::on_async); rc != 0) {
    delete async;  // never initialised: no close callback
    error = std::string("uv_async_init: ") + uv_strerror(rc);
    return false;
  }
  async->data = this;
  async_ = async;
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    error = std::string("starting the spool thread: ") + e.what();
    uv_close(reinterpret_cast<uv_handle_t*>(async_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
    async_ = nullptr;
    return false;
  }
  return true;
}

void SpoolWorker::post(Job job) {
  assert(async_ != nullptr && !closing_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void SpoolWorker::close(std::function<void()> closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(closed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  // The thread's last uv_async_send brings us to drain(), which finishes the close.
}

void SpoolWorker::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        thread_done_ = true;
        break;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Completion completion = job();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      completions_.push_back(std::move(completion));
    }
    uv_async_send(async_);
  }
  uv_async_send(async_);
}

void SpoolWorker::on_async(uv_async_t* async) { static_cast<SpoolWorker*>(async->data)->drain(); }

void SpoolWorker::drain() {
  std::deque<Completion> batch;
  bool finished = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(completions_);
    // Read with the swap: when true, `batch` holds every completion there will be.
    finished = thread_done_;
  }
  for (Completion& completion : batch) {
    if (completion) completion();
  }
  if (!finished || async_ == nullptr) return;
  // The thread has nothing left but returning (its last uv_async_send may still be running:
  // join waits for it, so the handle is not closed under it).
  thread_.join();
  uv_close(reinterpret_cast<uv_handle_t*>(async_), &SpoolWorker::on_closed);
  async_ = nullptr;
}

void SpoolWorker::on_closed(uv_handle_t* handle) {
  auto* self = static_cast<SpoolWorker*>(handle->data);
  delete reinterpret_cast<uv_async_t*>(handle);
  self->closed_ = true;
  // Moved out first: `closed` may destroy this object.
  if (std::function<void()> closed = std::move(self->on_closed_)) closed();
}

}  // namespace covet::otlp::detail
