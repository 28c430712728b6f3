#include "exporters/otlp/buffer_pool.h"

#include <algorithm>
#include <utility>

namespace covet::otlp {
namespace {

// A spare smaller than this is not worth a lock: the allocator serves it from its free
// lists, and a few of them freed at once are not enough to trim the heap.
constexpr std::size_t kMinRecycledBytes = 16 * 1024;

}  // namespace

std::shared_ptr<BufferPool> BufferPool::create(std::size_t max_spare_bytes) {
  return std::shared_ptr<BufferPool>(new BufferPool(max_spare_bytes));
}

BufferPool::BufferPool(std::size_t max_spare_bytes) : max_spare_bytes_(max_spare_bytes) {
  // Room for every spare the bound allows, so give_back (run by a shared buffer's deleter,
  // where an exception would terminate) never allocates.
  spares_.reserve(max_spare_bytes / kMinRecycledBytes + 1);
}

std::string BufferPool::take(std::size_t bytes) {
  std::string buffer;
  if (bytes >= kMinRecycledBytes) {
    const std::lock_guard lock(mutex_);
    // A spare much larger than asked would hold memory the queue does not count (it counts
    // request bytes), so it must fit closely: at most an eighth over, or a page.
    const std::size_t largest = bytes + std::max<std::size_t>(bytes / 8, 4096);
    std::size_t best = spares_.size();
    for (std::size_t i = 0; i < spares_.size(); ++i) {
      const std::size_t capacity = spares_[i].capacity();
      if (capacity >= bytes && capacity <= largest &&
          (best == spares_.size() || capacity < spares_[best].capacity())) {
        best = i;
      }
    }
    if (best != spares_.size()) {
      buffer = std::move(spares_[best]);
      if (best + 1 != spares_.size()) spares_[best] = std::move(spares_.back());
      spares_.pop_back();
      spare_bytes_ -= buffer.capacity();
    }
  }
  buffer.clear();
  buffer.reserve(bytes);
  return buffer;
}

void BufferPool::give_back(std::string buffer) {
  const std::size_t capacity = buffer.capacity();
  if (capacity < kMinRecycledBytes) return;
  const std::lock_guard lock(mutex_);
  if (spare_bytes_ + capacity > max_spare_bytes_) return;  // freed as `buffer` goes
  spare_bytes_ += capacity;
  spares_.push_back(std::move(buffer));
}

std::shared_ptr<const std::string> BufferPool::share(std::string buffer) {
  std::weak_ptr<BufferPool> pool = weak_from_this();
  return std::shared_ptr<const std::string>(
      new std::string(std::move(buffer)), [pool = std::move(pool)](std::string* shared) {
        const std::unique_ptr<std::string> owned(shared);
        if (const std::shared_ptr<BufferPool> alive = pool.lock()) {
          alive->give_back(std::move(*owned));
        }
      });
}

std::size_t BufferPool::spare_bytes() const {
  const std::lock_guard lock(mutex_);
  return spare_bytes_;
}

std::size_t BufferPool::spare_buffers() const {
  const std::lock_guard lock(mutex_);
  return spares_.size();
}

}  // namespace covet::otlp
