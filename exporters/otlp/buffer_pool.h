#pragma once
// Recycles the buffers that received requests live in. A request of a few hundred KiB is
// above the allocator's mmap threshold (fixed at 128 KiB in agent/main.cpp to keep the
// scrape path's memory bounded), so without this every request would be a fresh mapping:
// a page fault per 4 KiB on the way in, an munmap on the way out, a quarter of a receiver's
// time for 288 KB requests (perf, bench/otlp.sh). Smaller requests come from the heap, but
// a batch's worth freed at once is trimmed off its top and faulted in again: 5.5 faults per
// 28 KB request without recycling, 1.4 with it. Exported requests hand their buffers back;
// the next requests are read into them.
//
// Thread-safe: a spool's writer thread may drop the last reference to a request. The
// spare buffers are bounded in bytes, so at most that much stays resident after a burst.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace covet::otlp {

class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  // Made through create(): the buffers it shares hold a weak reference back to it.
  static std::shared_ptr<BufferPool> create(std::size_t max_spare_bytes);

  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // An empty string with room for at least `bytes`: the smallest spare that fits and is at
  // most an eighth (or a page) larger, or a new allocation.
  std::string take(std::size_t bytes);
  // Keeps `buffer`'s memory for a later take() while the spares stay within the bound.
  void give_back(std::string buffer);
  // `buffer`, shared and immutable; its memory comes back here when the last reference
  // is dropped (or is freed, if the pool is gone by then).
  std::shared_ptr<const std::string> share(std::string buffer);

  std::size_t spare_bytes() const;
  std::size_t spare_buffers() const;

 private:
  explicit BufferPool(std::size_t max_spare_bytes);

  const std::size_t max_spare_bytes_;
  mutable std::mutex mutex_;
  std::vector<std::string> spares_;
  std::size_t spare_bytes_ = 0;
};

}  // namespace covet::otlp
