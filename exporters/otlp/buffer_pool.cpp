#include "exporters/otlp/buffer_pool.h"

#include <algorithm>
#include <utility>

namespace covet::otlp {
namespace {

// A spare smaller than this is not worth a lock: the allocator serves it from its free
// lists, and a few of them freed at once are not enough to trim the heap.
constexpr std::size_t kMinRecycledBytes = 16 * 1024;
// Spares beyond this many are freed, whatever their bytes: the vector holding them is
// reserved once, and a thousand of the smallest are 16 MiB.
constexpr std::size_t kMaxSpares = 1024;

}  // namespace

std::shared_ptr<BufferPool> BufferPool::create(std::size_t floor_bytes, std::size_t budget_bytes) {
  return std::shared_ptr<BufferPool>(
      new BufferPool(floor_bytes, std::max(floor_bytes, budget_bytes)));
}

BufferPool::BufferPool(std::size_t floor_bytes, std::size_t budget_bytes)
    : floor_bytes_(floor_bytes), budget_bytes_(budget_bytes) {
  // Room for every spare there may be, so give_back (run by a shared buffer's deleter,
  // where an exception would terminate) never allocates.
  spares_.reserve(std::min(budget_bytes / kMinRecycledBytes + 1, kMaxSpares));
}

bool BufferPool::keeps(std::size_t capacity) const {
  if (spares_.size() == spares_.capacity()) return false;
  const std::size_t spares = spare_bytes_ + capacity;
  return spares <= floor_bytes_ || spares + shared_bytes_ <= budget_bytes_;
}

std::string BufferPool::take(std::size_t bytes) {
  std::string buffer = take_spare(bytes);
  buffer.clear();
  buffer.reserve(bytes);
  return buffer;
}

std::string BufferPool::take_for_overwrite(std::size_t bytes) {
  std::string buffer = take_spare(bytes);
  buffer.reserve(bytes);
  return buffer;
}

std::string BufferPool::take_spare(std::size_t bytes) {
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
    taken_since_trim_ += bytes;
  }
  return buffer;
}

void BufferPool::give_back(std::string buffer) {
  const std::size_t capacity = buffer.capacity();
  if (capacity < kMinRecycledBytes) return;
  const std::lock_guard lock(mutex_);
  if (!keeps(capacity)) return;  // freed as `buffer` goes
  spare_bytes_ += capacity;
  spares_.push_back(std::move(buffer));
}

std::shared_ptr<const std::string> BufferPool::share(std::string buffer) {
  std::weak_ptr<BufferPool> pool = weak_from_this();
  const std::size_t capacity = buffer.capacity();
  {
    // Before the shared_ptr exists: if making it throws, the deleter has already run.
    const std::lock_guard lock(mutex_);
    shared_bytes_ += capacity;
  }
  return std::shared_ptr<const std::string>(
      new std::string(std::move(buffer)),
      [pool = std::move(pool), capacity](std::string* returned) {
        const std::unique_ptr<std::string> owned(returned);
        if (const std::shared_ptr<BufferPool> alive = pool.lock()) {
          {
            const std::lock_guard lock(alive->mutex_);
            alive->shared_bytes_ -= capacity;
          }
          alive->give_back(std::move(*owned));
        }
      });
}

void BufferPool::trim() {
  std::vector<std::string> freed;
  {
    const std::lock_guard lock(mutex_);
    const std::size_t kept = std::max(floor_bytes_, taken_since_trim_);
    taken_since_trim_ = 0;
    while (spare_bytes_ > kept && !spares_.empty()) {
      spare_bytes_ -= spares_.back().capacity();
      freed.push_back(std::move(spares_.back()));
      spares_.pop_back();
    }
  }
  // `freed` goes here, outside the lock.
}

std::size_t BufferPool::spare_bytes() const {
  const std::lock_guard lock(mutex_);
  return spare_bytes_;
}

std::size_t BufferPool::spare_buffers() const {
  const std::lock_guard lock(mutex_);
  return spares_.size();
}

std::size_t BufferPool::shared_bytes() const {
  const std::lock_guard lock(mutex_);
  return shared_bytes_;
}

}  // namespace covet::otlp
