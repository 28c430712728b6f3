#pragma once
// One thread that runs blocking jobs (file writes, fsyncs, reads, unlinks) in the order they
// were posted, and runs what each job returns on the loop thread, in the same order, through
// a uv_async_t. One thread rather than libuv's shared pool: the spool's writes must land in
// order, and a slow fsync must not hold up DNS lookups or other users of the pool.
//
// Ownership: the Worker owns its thread and its uv_async_t (heap, freed in the close
// callback). close() lets every posted job run and every completion run, joins the thread,
// closes the handle, and calls `closed` last: the Worker may be destroyed inside it.

#include <uv.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace covet::otlp::detail {

class SpoolWorker {
 public:
  using Completion = std::function<void()>;
  // Runs on the worker thread; what it returns (may be empty) runs on the loop thread.
  using Job = std::function<Completion()>;

  explicit SpoolWorker(uv_loop_t* loop);
  // Asserts that close() finished, or that start() never succeeded.
  ~SpoolWorker();
  SpoolWorker(const SpoolWorker&) = delete;
  SpoolWorker& operator=(const SpoolWorker&) = delete;

  // Starts the thread; false with `error` set ("operation: reason") when it cannot.
  bool start(std::string& error);
  // Only between start() and close().
  void post(Job job);
  void close(std::function<void()> closed);

 private:
  static void on_async(uv_async_t* async);
  static void on_closed(uv_handle_t* handle);
  void run();
  void drain();

  uv_loop_t* loop_;
  uv_async_t* async_ = nullptr;  // heap: freed in its close callback
  std::thread thread_;
  bool closing_ = false;  // loop thread only
  bool closed_ = false;   // loop thread only
  std::function<void()> on_closed_;

  std::mutex mutex_;  // guards what follows
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::deque<Completion> completions_;
  bool stop_ = false;         // no more jobs will come: exit once the queue is empty
  bool thread_done_ = false;  // the thread has posted its last completion
};

}  // namespace covet::otlp::detail
