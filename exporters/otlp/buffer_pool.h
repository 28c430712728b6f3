#pragma once
// Recycles the buffers that received requests live in. A request comes from the heap
// (below the 1 MiB mapping threshold, agent/heap.h), and memory freed there goes back to
// the kernel (at the heap's top at once, elsewhere every few seconds), to be faulted in
// again page by page when the next requests need it: a quarter of a receiver's time for
// 288 KB requests (perf, bench/otlp.sh), and 5.5 faults per 28 KB request without
// recycling, 1.4 with it. Exported requests hand their buffers back; the next requests are
// read into them.
//
// How much it keeps: spares up to `floor_bytes` always; beyond that, as long as the spares
// and the requests still out (shared, in a queue) together stay within `budget_bytes`, the
// memory a full queue holds anyway. A floor alone is too little under load: a 4 MiB batch
// exported while 16 connections deliver 288 KB requests leaves more buffers than the floor
// keeps, and the next ones are fresh memory again. trim(), called every few seconds,
// frees the spares beyond what the last interval took (and the floor), so a burst does not
// stay resident once the traffic is gone.
//
// Thread-safe: a spool's writer thread may drop the last reference to a request.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace covet::otlp {

class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  // Made through create(): the buffers it shares hold a weak reference back to it. A budget
  // below the floor is the floor.
  static std::shared_ptr<BufferPool> create(std::size_t floor_bytes, std::size_t budget_bytes = 0);

  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // An empty string with room for at least `bytes`: the smallest spare that fits and is at
  // most an eighth (or a page) larger, or a new allocation.
  std::string take(std::size_t bytes);
  // The same, except that a recycled buffer keeps the size and bytes it came back with
  // (an earlier request's), for a caller that writes over them: growing an empty string to
  // write into it writes zeros first (resize), 6% of a receiver's time for 288 KB requests
  // (perf, bench/otlp.sh). Never read what was not written.
  std::string take_for_overwrite(std::size_t bytes);
  // Keeps `buffer`'s memory for a later take() while the spares stay within the bound.
  void give_back(std::string buffer);
  // `buffer`, shared and immutable; its memory comes back here when the last reference
  // is dropped (or is freed, if the pool is gone by then).
  std::shared_ptr<const std::string> share(std::string buffer);
  // Frees the spares beyond the floor and beyond what take() handed out since the last trim.
  void trim();

  std::size_t spare_bytes() const;
  std::size_t spare_buffers() const;
  std::size_t shared_bytes() const;  // of the buffers share() gave out, not back yet

 private:
  BufferPool(std::size_t floor_bytes, std::size_t budget_bytes);
  // Whether a spare of `capacity` more bytes stays within the limits; under mutex_.
  bool keeps(std::size_t capacity) const;
  // A spare that fits `bytes` closely, as it came back, or an empty string.
  std::string take_spare(std::size_t bytes);

  const std::size_t floor_bytes_;
  const std::size_t budget_bytes_;
  mutable std::mutex mutex_;
  std::vector<std::string> spares_;  // never grows past its reserve (see the constructor)
  std::size_t spare_bytes_ = 0;
  std::size_t shared_bytes_ = 0;
  std::size_t taken_since_trim_ = 0;
};

}  // namespace covet::otlp
