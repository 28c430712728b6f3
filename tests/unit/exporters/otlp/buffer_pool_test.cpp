#include "exporters/otlp/buffer_pool.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace covet::otlp {
namespace {

constexpr std::size_t kKiB = 1024;

TEST(BufferPool, AnExportedRequestsMemoryServesTheNextRequest) {
  const auto pool = BufferPool::create(4096 * kKiB);
  std::string first = pool->take(300 * kKiB);
  first.assign(300 * kKiB, 'x');
  const char* memory = first.data();

  auto shared = pool->share(std::move(first));
  EXPECT_EQ(pool->spare_buffers(), 0u);
  shared.reset();  // the last reference: exported
  EXPECT_EQ(pool->spare_buffers(), 1u);
  EXPECT_GE(pool->spare_bytes(), 300 * kKiB);

  const std::string next = pool->take(280 * kKiB);
  EXPECT_TRUE(next.empty());
  EXPECT_EQ(next.data(), memory);
  EXPECT_EQ(pool->spare_buffers(), 0u);
  EXPECT_EQ(pool->spare_bytes(), 0u);
}

// For a reader that writes the next request over it: the spare comes as it went back, so
// no zeros are written first; take() still hands out an empty string.
TEST(BufferPool, ASpareTakenForOverwriteKeepsItsSize) {
  const auto pool = BufferPool::create(4096 * kKiB);
  std::string first = pool->take(300 * kKiB);
  first.assign(290 * kKiB, 'x');
  const char* memory = first.data();
  pool->give_back(std::move(first));

  std::string reused = pool->take_for_overwrite(295 * kKiB);
  EXPECT_EQ(reused.data(), memory);
  EXPECT_EQ(reused.size(), 290 * kKiB);
  EXPECT_GE(reused.capacity(), 295 * kKiB);
  pool->give_back(std::move(reused));
  EXPECT_TRUE(pool->take(295 * kKiB).empty());

  // Nothing recycled: an empty string with the room asked for.
  const std::string fresh = pool->take_for_overwrite(64 * kKiB);
  EXPECT_TRUE(fresh.empty());
  EXPECT_GE(fresh.capacity(), 64 * kKiB);
}

TEST(BufferPool, TakesTheSmallestSpareThatFits) {
  const auto pool = BufferPool::create(4096 * kKiB);
  std::string large = pool->take(1024 * kKiB);
  std::string small = pool->take(128 * kKiB);
  std::string medium = pool->take(512 * kKiB);
  const char* medium_memory = medium.data();
  pool->give_back(std::move(large));
  pool->give_back(std::move(small));
  pool->give_back(std::move(medium));
  ASSERT_EQ(pool->spare_buffers(), 3u);

  EXPECT_EQ(pool->take(480 * kKiB).data(), medium_memory);
  EXPECT_EQ(pool->spare_buffers(), 2u);
}

TEST(BufferPool, AMuchLargerSpareIsNotHandedToASmallerRequest) {
  // The queue counts a request's bytes, not its buffer's: a 1 MiB spare holding a 300 KiB
  // request would be memory nobody counts.
  const auto pool = BufferPool::create(4096 * kKiB);
  std::string large = pool->take(1024 * kKiB);
  const char* large_memory = large.data();
  pool->give_back(std::move(large));

  const std::string small = pool->take(300 * kKiB);
  EXPECT_NE(small.data(), large_memory);
  EXPECT_LT(small.capacity(), 1024 * kKiB);
  EXPECT_EQ(pool->spare_buffers(), 1u);
  // Up to an eighth larger is close enough.
  EXPECT_EQ(pool->take(1000 * kKiB).data(), large_memory);
}

TEST(BufferPool, NoSpareFitsMeansAFreshBufferOfTheSizeAsked) {
  const auto pool = BufferPool::create(4096 * kKiB);
  pool->give_back(pool->take(128 * kKiB));
  const std::string buffer = pool->take(2048 * kKiB);
  EXPECT_GE(buffer.capacity(), 2048 * kKiB);
  EXPECT_EQ(pool->spare_buffers(), 1u);  // the small spare stays
}

TEST(BufferPool, SparesStayWithinTheirBound) {
  const auto pool = BufferPool::create(1024 * kKiB);
  for (int i = 0; i < 10; ++i) pool->give_back(pool->take(300 * kKiB));
  // Each buffer was taken back before the next: one spare cycles.
  EXPECT_EQ(pool->spare_buffers(), 1u);

  std::vector<std::string> in_flight;
  for (int i = 0; i < 10; ++i) in_flight.push_back(pool->take(300 * kKiB));
  for (std::string& buffer : in_flight) pool->give_back(std::move(buffer));
  EXPECT_EQ(pool->spare_buffers(), 3u);  // 3 x 300 KiB fit in 1 MiB, a fourth does not
  EXPECT_LE(pool->spare_bytes(), 1024 * kKiB);
}

TEST(BufferPool, BeyondTheFloorSparesAndSharedRequestsStayWithinTheBudget) {
  const auto pool = BufferPool::create(512 * kKiB, 4096 * kKiB);
  std::vector<std::shared_ptr<const std::string>> queued;
  for (int i = 0; i < 10; ++i) queued.push_back(pool->share(pool->take(300 * kKiB)));
  EXPECT_EQ(pool->shared_bytes(), 3000 * kKiB);

  std::vector<std::string> refused;
  for (int i = 0; i < 5; ++i) refused.push_back(pool->take(300 * kKiB));
  for (std::string& buffer : refused) pool->give_back(std::move(buffer));
  EXPECT_EQ(pool->spare_buffers(), 3u);  // 3000 + 3 x 300 KiB within 4 MiB, a fourth is not

  // The queue empties: its buffers become spares, as many as the budget holds.
  queued.clear();
  EXPECT_EQ(pool->shared_bytes(), 0u);
  EXPECT_EQ(pool->spare_buffers(), 13u);  // 13 x 300 KiB = 3900 KiB
  EXPECT_LE(pool->spare_bytes(), 4096 * kKiB);
}

TEST(BufferPool, TrimKeepsWhatTheLastIntervalTookAndFreesTheRestOfABurst) {
  const auto pool = BufferPool::create(1024 * kKiB, 16384 * kKiB);
  std::vector<std::string> burst;
  for (int i = 0; i < 20; ++i) burst.push_back(pool->take(300 * kKiB));
  for (std::string& buffer : burst) pool->give_back(std::move(buffer));
  EXPECT_EQ(pool->spare_buffers(), 20u);

  pool->trim();  // the interval took 20 buffers: traffic like it would take them again
  EXPECT_EQ(pool->spare_buffers(), 20u);
  pool->give_back(pool->take(300 * kKiB));
  pool->trim();  // one buffer taken since: the floor's worth stays
  EXPECT_EQ(pool->spare_buffers(), 3u);
  EXPECT_LE(pool->spare_bytes(), 1024 * kKiB);
  pool->trim();
  EXPECT_EQ(pool->spare_buffers(), 3u);
}

TEST(BufferPool, SmallBuffersAreLeftToTheAllocator) {
  const auto pool = BufferPool::create(4096 * kKiB);
  pool->give_back(pool->take(8 * kKiB));
  auto shared = pool->share(pool->take(1 * kKiB));
  shared.reset();
  EXPECT_EQ(pool->spare_buffers(), 0u);
}

TEST(BufferPool, ASharedBufferOutlivingThePoolIsFreed) {
  auto pool = BufferPool::create(4096 * kKiB);
  auto shared = pool->share(pool->take(300 * kKiB));
  pool.reset();
  shared.reset();  // no pool to return to: under AddressSanitizer a leak or a bad access fails
}

TEST(BufferPool, ReferencesDroppedOnAnotherThreadComeBack) {
  // A spool's writer thread may hold the last reference to a request.
  const auto pool = BufferPool::create(64 * 1024 * kKiB);
  std::vector<std::shared_ptr<const std::string>> shared;
  for (int i = 0; i < 32; ++i) shared.push_back(pool->share(pool->take(256 * kKiB)));
  std::thread writer([moved = std::move(shared)]() mutable { moved.clear(); });
  for (int i = 0; i < 32; ++i) pool->give_back(pool->take(256 * kKiB));
  writer.join();
  EXPECT_GE(pool->spare_buffers(), 1u);
  EXPECT_LE(pool->spare_buffers(), 33u);
}

}  // namespace
}  // namespace covet::otlp
