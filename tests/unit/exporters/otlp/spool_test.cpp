// The disk spool against real files in a temporary directory, driven by a real loop. Each
// test counts its callbacks and closes the spool, so the loop ends with no handle open.

#include "exporters/otlp/spool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/logging.h"
#include "exporters/otlp/spool_segment.h"

namespace covet::otlp {
namespace {

namespace fs = std::filesystem;
using Fsync = SpoolOptions::Fsync;

constexpr std::uint64_t record_overhead = spool::record_header_bytes;

// A payload that tells which append it was: the checks compare bytes, not just sizes.
std::string payload_for(std::uint64_t i, std::size_t size) {
  std::string p(size, '\0');
  for (std::size_t k = 0; k < size; ++k) p[k] = static_cast<char>((i * 131 + k * 7) & 0xff);
  return p;
}

std::shared_ptr<const std::string> shared(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (spool::parse_segment_file_name(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/covet-spool-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/spool";
    ASSERT_EQ(uv_loop_init(&loop_), 0);
  }

  void TearDown() override {
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open";
    fs::remove_all(fs::path(dir_).parent_path());
  }

  SpoolOptions options(Fsync fsync = Fsync::always) {
    SpoolOptions o;
    o.dir = dir_;
    o.max_bytes = 64 << 20;
    o.fsync = fsync;
    return o;
  }

  std::unique_ptr<Spool> open(SpoolOptions o) {
    std::string error;
    auto spool = Spool::open(&loop_, std::move(o), log_, error);
    EXPECT_TRUE(spool) << error;
    return spool;
  }

  void run_until(const bool& flag) {
    while (!flag) uv_run(&loop_, UV_RUN_ONCE);
  }

  std::optional<std::uint64_t> append(Spool& spool, std::string payload, std::uint32_t spans = 1) {
    bool called = false;
    std::optional<std::uint64_t> result;
    EXPECT_TRUE(
        spool.append(shared(std::move(payload)), spans, [&](std::optional<std::uint64_t> sequence) {
          called = true;
          result = sequence;
        }));
    run_until(called);
    return result;
  }

  std::vector<SpoolRecord> read(Spool& spool, std::size_t max_bytes = 1 << 30) {
    bool called = false;
    std::vector<SpoolRecord> result;
    spool.read(max_bytes, [&](std::vector<SpoolRecord> records) {
      called = true;
      result = std::move(records);
    });
    run_until(called);
    return result;
  }

  // Everything waiting, in one read.
  std::vector<std::uint64_t> read_sequences(Spool& spool) {
    std::vector<std::uint64_t> out;
    for (const SpoolRecord& r : read(spool)) out.push_back(r.sequence);
    return out;
  }

  void close(std::unique_ptr<Spool>& spool) {
    bool closed = false;
    spool->close([&] { closed = true; });
    run_until(closed);
    spool.reset();
  }

  std::string dir_;
  uv_loop_t loop_{};
  std::ostringstream log_lines_;
  Logger log_{config::LogFormat::text, config::LogLevel::debug,
              std::make_shared<spdlog::logger>(
                  "spool_test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_lines_))};
};

TEST_F(SpoolTest, AppendsAreReadInOrderAndAcknowledgedOutOfOrder) {
  auto spool = open(options());
  for (std::uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(append(*spool, payload_for(i, 100 + i), static_cast<std::uint32_t>(i + 1)), i);
  }
  EXPECT_EQ(spool->pending_records(), 3u);
  EXPECT_EQ(spool->pending_spans(), 6u);
  EXPECT_EQ(spool->bytes(), 3 * record_overhead + 303);

  const std::vector<SpoolRecord> records = read(*spool);
  ASSERT_EQ(records.size(), 3u);
  for (std::uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(records[i].sequence, i);
    EXPECT_EQ(records[i].spans, i + 1);
    EXPECT_EQ(*records[i].payload, payload_for(i, 100 + i));
  }
  EXPECT_TRUE(read(*spool).empty()) << "handed out twice without rewind()";

  spool->acknowledge(1);
  spool->acknowledge(1);   // repeated: ignored
  spool->acknowledge(99);  // unknown: ignored
  EXPECT_EQ(spool->pending_records(), 2u);
  EXPECT_EQ(spool->pending_spans(), 4u);
  spool->rewind();
  EXPECT_EQ(read_sequences(*spool), (std::vector<std::uint64_t>{0, 2}));
  spool->acknowledge(0);
  spool->acknowledge(2);
  EXPECT_EQ(spool->pending_records(), 0u);
  spool->rewind();
  EXPECT_TRUE(read(*spool).empty());
  close(spool);
}

TEST_F(SpoolTest, AppendsInFlightTogetherAreCalledBackInOrder) {
  // Appends made while a batch is being written go together as the next batch.
  SpoolOptions o = options();
  o.segment_bytes = 5000;  // batches span segment changes too
  auto spool = open(o);
  std::vector<std::uint64_t> called;
  for (std::uint64_t i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        spool->append(shared(payload_for(i, 1000)), 1, [&](std::optional<std::uint64_t> sequence) {
          ASSERT_TRUE(sequence);
          called.push_back(*sequence);
        }));
  }
  while (called.size() < 50) uv_run(&loop_, UV_RUN_ONCE);
  const std::vector<SpoolRecord> records = read(*spool);
  ASSERT_EQ(called.size(), 50u);
  ASSERT_EQ(records.size(), 50u);
  for (std::uint64_t i = 0; i < 50; ++i) {
    EXPECT_EQ(called[i], i);
    EXPECT_EQ(*records[i].payload, payload_for(i, 1000));
  }
  close(spool);
}

TEST_F(SpoolTest, ReadStopsAtMaxBytesButReturnsAtLeastOneRecord) {
  auto spool = open(options());
  for (std::uint64_t i = 0; i < 4; ++i) append(*spool, payload_for(i, 100));
  EXPECT_EQ(read(*spool, 1).size(), 1u);
  EXPECT_EQ(read(*spool, 250).size(), 2u);
  EXPECT_EQ(read(*spool, 250).size(), 1u);
  EXPECT_TRUE(read(*spool, 250).empty());
  close(spool);
}

TEST_F(SpoolTest, CloseFinishesPendingAppendsThenCallsClosedLast) {
  auto spool = open(options());
  std::vector<std::string> events;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(spool->append(shared(payload_for(i, 1000)), 1, [&](std::optional<std::uint64_t> s) {
      events.push_back("appended " + (s ? std::to_string(*s) : std::string("failed")));
    }));
  }
  bool closed = false;
  spool->close([&] {
    events.push_back("closed");
    closed = true;
  });
  EXPECT_FALSE(spool->append(shared("late"), 1, [](std::optional<std::uint64_t>) {}));
  run_until(closed);
  spool.reset();
  EXPECT_EQ(events, (std::vector<std::string>{"appended 0", "appended 1", "appended 2", "closed"}));

  spool = open(options());
  EXPECT_EQ(spool->replayed_records(), 3u);
  EXPECT_EQ(read_sequences(*spool), (std::vector<std::uint64_t>{0, 1, 2}));
  close(spool);
}

TEST_F(SpoolTest, RestartReplaysTheUnacknowledgedRecordsInOrder) {
  auto spool = open(options());
  for (std::uint64_t i = 0; i < 10; ++i) append(*spool, payload_for(i, 500), 2);
  ASSERT_EQ(read(*spool).size(), 10u);
  for (std::uint64_t i = 0; i < 4; ++i) spool->acknowledge(i);
  close(spool);

  spool = open(options());
  EXPECT_EQ(spool->replayed_records(), 6u);
  EXPECT_EQ(spool->replayed_spans(), 12u);
  EXPECT_EQ(spool->pending_records(), 6u);
  const std::vector<SpoolRecord> records = read(*spool);
  ASSERT_EQ(records.size(), 6u);
  for (std::uint64_t k = 0; k < 6; ++k) {
    EXPECT_EQ(records[k].sequence, 4 + k);
    EXPECT_EQ(*records[k].payload, payload_for(4 + k, 500));
  }
  // New records continue the sequence after the replayed ones.
  EXPECT_EQ(append(*spool, "new"), 10u);
  EXPECT_EQ(read_sequences(*spool), (std::vector<std::uint64_t>{10}));
  close(spool);
}

TEST_F(SpoolTest, AcknowledgedAboveTheWatermarkIsReplayedAgain) {
  // At-least-once: the watermark keeps the contiguous acknowledged prefix only.
  auto spool = open(options());
  for (std::uint64_t i = 0; i < 4; ++i) append(*spool, payload_for(i, 10));
  read(*spool);
  spool->acknowledge(0);
  spool->acknowledge(2);
  close(spool);
  spool = open(options());
  EXPECT_EQ(read_sequences(*spool), (std::vector<std::uint64_t>{1, 2, 3}));
  close(spool);
}

TEST_F(SpoolTest, AcknowledgedSegmentsAreDeleted) {
  SpoolOptions o = options();
  o.segment_bytes = 1;  // one record per segment
  auto spool = open(o);
  for (std::uint64_t i = 0; i < 5; ++i) append(*spool, payload_for(i, 200));
  EXPECT_EQ(segment_files(dir_).size(), 5u);
  read(*spool);
  for (std::uint64_t i = 0; i < 4; ++i) spool->acknowledge(i);
  read(*spool);  // the worker runs in order: the deletes are done after this
  EXPECT_EQ(segment_files(dir_), std::vector<std::string>{spool::segment_file_name(4)});
  EXPECT_EQ(spool->bytes(), record_overhead + 200);
  // The segment being written stays until the next one starts.
  spool->acknowledge(4);
  read(*spool);
  EXPECT_EQ(segment_files(dir_).size(), 1u);
  EXPECT_EQ(append(*spool, "next"), 5u);
  EXPECT_EQ(segment_files(dir_), std::vector<std::string>{spool::segment_file_name(5)});
  spool->acknowledge(5);
  close(spool);
  // Fully acknowledged at close: deleted by the next open.
  spool = open(o);
  EXPECT_EQ(spool->replayed_records(), 0u);
  EXPECT_TRUE(segment_files(dir_).empty());
  EXPECT_EQ(append(*spool, "after"), 6u);
  close(spool);
}

TEST_F(SpoolTest, OverBudgetDropsTheOldestSegmentsAndCounts) {
  SpoolOptions o = options();
  const std::uint64_t record = record_overhead + 1000;
  o.max_bytes = 10 * record;  // segments capped at 2.5 records: 3 records each
  auto spool = open(o);
  for (std::uint64_t i = 0; i < 20; ++i) {
    ASSERT_EQ(append(*spool, payload_for(i, 1000), 2), i);
    EXPECT_LE(spool->bytes(), o.max_bytes);
  }
  EXPECT_GT(spool->dropped_records(), 0u);
  EXPECT_EQ(spool->dropped_records() % 3, 0u) << "whole segments go";
  EXPECT_EQ(spool->dropped_spans(), 2 * spool->dropped_records());
  EXPECT_EQ(spool->dropped_bytes(), record * spool->dropped_records());
  EXPECT_EQ(spool->dropped_records() + spool->pending_records(), 20u);
  const std::vector<SpoolRecord> records = read(*spool);
  ASSERT_EQ(records.size(), spool->pending_records());
  for (std::size_t k = 0; k < records.size(); ++k) {
    EXPECT_EQ(records[k].sequence, spool->dropped_records() + k);
    EXPECT_EQ(*records[k].payload, payload_for(records[k].sequence, 1000));
  }
  std::uint64_t on_disk = 0;
  for (const std::string& name : segment_files(dir_)) on_disk += fs::file_size(dir_ + "/" + name);
  EXPECT_EQ(on_disk, spool->bytes());
  EXPECT_NE(log_lines_.str().find("deleted the oldest segment"), std::string::npos);
  // A record that cannot fit even alone is refused, and nothing is dropped for it.
  const std::uint64_t dropped = spool->dropped_records();
  EXPECT_FALSE(spool->append(shared(std::string(o.max_bytes, 'x')), 1,
                             [](std::optional<std::uint64_t>) { FAIL(); }));
  EXPECT_EQ(spool->dropped_records(), dropped);
  close(spool);
}

TEST_F(SpoolTest, BudgetSmallerThanTwoRecordsDropsTheSegmentBeingWritten) {
  SpoolOptions o = options();
  o.max_bytes = record_overhead + 1000;
  auto spool = open(o);
  EXPECT_EQ(append(*spool, payload_for(0, 1000)), 0u);
  EXPECT_EQ(append(*spool, payload_for(1, 1000)), 1u);
  EXPECT_EQ(spool->dropped_records(), 1u);
  EXPECT_EQ(read_sequences(*spool), (std::vector<std::uint64_t>{1}));
  close(spool);
}

TEST_F(SpoolTest, TruncatedTailIsCutOffAndAppendsAfterRecoveryAreReadBack) {
  auto spool = open(options());
  for (std::uint64_t i = 0; i < 3; ++i) append(*spool, payload_for(i, 300));
  close(spool);
  const std::string file = dir_ + "/" + spool::segment_file_name(0);
  const auto full = fs::file_size(file);
  fs::resize_file(file, full - 5);

  spool = open(options());
  EXPECT_EQ(spool->replayed_records(), 2u);
  EXPECT_EQ(fs::file_size(file), 2 * (record_overhead + 300)) << "the torn record is cut off";
  const std::string log = log_lines_.str();
  EXPECT_NE(log.find("incomplete record at the end of the last segment"), std::string::npos);
  EXPECT_NE(log.find(file), std::string::npos);
  EXPECT_NE(log.find("offset=" + std::to_string(2 * (record_overhead + 300))), std::string::npos);
  const std::optional<std::uint64_t> next = append(*spool, payload_for(9, 50));
  ASSERT_TRUE(next);
  const std::vector<SpoolRecord> records = read(*spool);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(*records[0].payload, payload_for(0, 300));
  EXPECT_EQ(*records[1].payload, payload_for(1, 300));
  EXPECT_EQ(records[2].sequence, *next);
  EXPECT_EQ(*records[2].payload, payload_for(9, 50));
  close(spool);

  // And that survives one more restart untouched.
  spool = open(options());
  EXPECT_EQ(spool->replayed_records(), 3u);
  close(spool);
}

// Flips bits of the byte at `offset` of `file`.
void flip_byte(const std::string& file, std::uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x40));
}

TEST_F(SpoolTest, FlippedByteEndsItsSegment) {
  SpoolOptions o = options();
  o.segment_bytes = 3000;  // records of 1024 bytes: three per segment
  auto spool = open(o);
  for (std::uint64_t i = 0; i < 6; ++i) append(*spool, payload_for(i, 1000));
  close(spool);
  ASSERT_EQ(segment_files(dir_).size(), 2u);
  const std::uint64_t record = record_overhead + 1000;
  // In the middle of the first (not the last) segment: its rest is skipped, not cut.
  flip_byte(dir_ + "/" + spool::segment_file_name(0), record + 500);
  // In the last segment: treated as the torn end of a crash, cut off there.
  flip_byte(dir_ + "/" + spool::segment_file_name(3), record + 20);

  spool = open(o);
  EXPECT_EQ(spool->replayed_records(), 2u);
  EXPECT_EQ(spool->corrupt_bytes(), 2 * record);
  EXPECT_EQ(fs::file_size(dir_ + "/" + spool::segment_file_name(0)), 3 * record);
  EXPECT_EQ(fs::file_size(dir_ + "/" + spool::segment_file_name(3)), record);
  const std::string log = log_lines_.str();
  EXPECT_NE(log.find("corrupt record, the rest of the segment is skipped"), std::string::npos);
  EXPECT_NE(log.find("record checksum mismatch"), std::string::npos);
  const std::optional<std::uint64_t> next = append(*spool, payload_for(42, 10));
  ASSERT_TRUE(next);
  // 4 and 5 were cut off, never delivered: their numbers may be given again, in order.
  EXPECT_EQ(*next, 4u);
  const std::vector<SpoolRecord> records = read(*spool);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].sequence, 0u);
  EXPECT_EQ(records[1].sequence, 3u);
  EXPECT_EQ(*records[1].payload, payload_for(3, 1000));
  EXPECT_EQ(*records[2].payload, payload_for(42, 10));
  for (const SpoolRecord& r : records) spool->acknowledge(r.sequence);
  close(spool);
}

TEST_F(SpoolTest, RecordCorruptedAfterOpenIsSkippedWhenRead) {
  auto spool = open(options());
  for (std::uint64_t i = 0; i < 3; ++i) append(*spool, payload_for(i, 100));
  flip_byte(dir_ + "/" + spool::segment_file_name(0), record_overhead + 100 + 50);
  EXPECT_EQ(read_sequences(*spool), (std::vector<std::uint64_t>{0, 2}));
  EXPECT_EQ(spool->unreadable_records(), 1u);
  EXPECT_EQ(spool->pending_records(), 2u);
  EXPECT_NE(log_lines_.str().find("unreadable record"), std::string::npos);
  close(spool);
}

TEST_F(SpoolTest, SecondSpoolOnTheSameDirIsRefused) {
  auto spool = open(options());
  std::string error;
  EXPECT_EQ(Spool::open(&loop_, options(), log_, error), nullptr);
  EXPECT_EQ(error, "spool dir " + dir_ + " is in use by another process");
  close(spool);
  // Released with the first one.
  spool = open(options());
  close(spool);
}

TEST_F(SpoolTest, DirIsCreatedPrivate) {
  auto spool = open(options());
  struct stat st {};
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  close(spool);
}

TEST_F(SpoolTest, OpenRefusesAFileInPlaceOfTheDir) {
  fs::create_directories(fs::path(dir_).parent_path());
  std::ofstream(dir_) << "x";
  std::string error;
  EXPECT_EQ(Spool::open(&loop_, options(), log_, error), nullptr);
  EXPECT_EQ(error, "opening spool dir " + dir_ + ": not a directory");
}

TEST_F(SpoolTest, EveryFsyncPolicyWritesAndReplays) {
  for (Fsync policy : {Fsync::always, Fsync::interval, Fsync::never}) {
    SpoolOptions o = options(policy);
    o.fsync_interval = std::chrono::milliseconds(5);
    auto spool = open(o);
    const std::uint64_t base = spool->replayed_records();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(append(*spool, payload_for(i, 64)));
    // Lets the interval timer fire at least once.
    uv_sleep(10);
    uv_run(&loop_, UV_RUN_NOWAIT);
    close(spool);
    spool = open(o);
    EXPECT_EQ(spool->replayed_records(), base + 5);
    close(spool);
  }
}

TEST_F(SpoolTest, WriteFailureIsReportedOnceAndTheNextWriteWorks) {
  // Fails even for root: the segment's path is taken by a directory.
  auto spool = open(options());
  const std::string blocker = dir_ + "/" + spool::segment_file_name(0);
  ASSERT_TRUE(fs::create_directory(blocker));
  EXPECT_EQ(append(*spool, "one"), std::nullopt);
  EXPECT_EQ(append(*spool, "two"), std::nullopt);
  EXPECT_EQ(spool->write_failures(), 2u);
  EXPECT_EQ(spool->pending_records(), 0u);
  EXPECT_EQ(spool->bytes(), 0u);
  const std::string log = log_lines_.str();
  const auto first = log.find("append failed");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(log.find("append failed", first + 1), std::string::npos) << "logged once: " << log;
  EXPECT_NE(log.find("Is a directory"), std::string::npos);

  fs::remove(blocker);
  const std::optional<std::uint64_t> three = append(*spool, "three");
  ASSERT_TRUE(three);
  const std::vector<SpoolRecord> records = read(*spool);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(*records[0].payload, "three");
  close(spool);
  spool = open(options());
  EXPECT_EQ(read_sequences(*spool), std::vector<std::uint64_t>{*three});
  close(spool);
}

// Runs in the forked child: appends records with fsync always, keeping a few in flight, and
// writes each sequence to `fd` once its callback said it is on disk. Never returns.
[[noreturn]] void append_until_killed(const std::string& dir, int fd) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::ostringstream lines;
  Logger log(config::LogFormat::text, config::LogLevel::warn,
             std::make_shared<spdlog::logger>(
                 "child", std::make_shared<spdlog::sinks::ostream_sink_st>(lines)));
  SpoolOptions o;
  o.dir = dir;
  o.max_bytes = 1ull << 32;
  o.segment_bytes = 1 << 20;  // several segments, so kills land during rotations too
  std::string error;
  auto spool = Spool::open(&loop, o, log, error);
  if (!spool) ::_exit(2);
  std::uint64_t next = 0;
  std::function<void()> append_next;
  append_next = [&] {
    const std::uint64_t i = next++;
    spool->append(shared(payload_for(i, 1000 + (i * 7919) % 60000)), 1,
                  [&, i](std::optional<std::uint64_t> sequence) {
                    if (!sequence || *sequence != i) ::_exit(3);
                    if (::write(fd, &i, sizeof i) != sizeof i) ::_exit(4);
                    append_next();
                  });
  };
  for (int k = 0; k < 4; ++k) append_next();
  uv_run(&loop, UV_RUN_DEFAULT);
  ::_exit(5);
}

TEST_F(SpoolTest, SigkillLosesNothingAcknowledgedAndLeavesNoCorruptRecord) {
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      append_until_killed(dir_ + "/round" + std::to_string(round), fds[1]);
    }
    ::close(fds[1]);
    std::vector<std::uint64_t> reported;
    std::uint64_t sequence = 0;
    const std::size_t kill_after = 100 + 150 * static_cast<std::size_t>(round);
    while (::read(fds[0], &sequence, sizeof sequence) == sizeof sequence) {
      reported.push_back(sequence);
      if (reported.size() == kill_after) ::kill(child, SIGKILL);
    }
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exit " << status;
    ASSERT_GE(reported.size(), kill_after);

    SpoolOptions o = options();
    o.dir = dir_ + "/round" + std::to_string(round);
    auto spool = open(o);
    const std::vector<SpoolRecord> records = read(*spool);
    EXPECT_EQ(spool->unreadable_records(), 0u);
    EXPECT_EQ(spool->replayed_records(), records.size());
    ASSERT_GE(records.size(), reported.size()) << "round " << round;
    for (std::size_t k = 0; k < records.size(); ++k) {
      // Contiguous from 0: nothing in the middle is missing, nothing torn is handed out.
      ASSERT_EQ(records[k].sequence, k);
      ASSERT_EQ(*records[k].payload, payload_for(k, 1000 + (k * 7919) % 60000));
    }
    for (std::uint64_t s : reported) ASSERT_LT(s, records.size()) << "acknowledged, then lost";
    close(spool);
  }
}

}  // namespace
}  // namespace covet::otlp
