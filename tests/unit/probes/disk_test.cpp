#include "probes/disk.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

namespace covet::probes {
namespace {

const std::string kFixtures = COVET_FIXTURES_DIR;

std::optional<std::string> detail(const ProbeResult& result, const std::string& key) {
  for (const auto& [name, value] : result.detail) {
    if (name == key) return value;
  }
  return std::nullopt;
}

const Reading* find_reading(const ProbeResult& result, const std::string& name) {
  for (const Reading& reading : result.readings) {
    if (reading.name == name) return &reading;
  }
  return nullptr;
}

std::string label(const Reading& reading, const std::string& key) {
  for (const auto& [name, value] : reading.labels) {
    if (name == key) return value;
  }
  return "<absent>";
}

class DiskProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/covet-disk-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    config_.path = dir_;
    // Inode thresholds off unless a test sets them: the machine's real numbers vary.
    config_.warn_free_inodes_percent = 0;
    config_.fail_free_inodes_percent = 0;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  config::DiskProbeConfig config_;
};

// ---- check_now: the blocking part -------------------------------------------------------

TEST_F(DiskProbeTest, RealDirectoryPassesWithReadings) {
  config_.warn_free_percent = 0;
  config_.fail_free_percent = 0;
  ProbeResult result = DiskProbe::check_now(config_, "/proc");
  EXPECT_EQ(result.status, Status::passing) << result.error;
  EXPECT_TRUE(result.error.empty());
  EXPECT_TRUE(result.reason.empty());
  EXPECT_EQ(detail(result, "path"), dir_);
  EXPECT_TRUE(detail(result, "mountpoint"));
  EXPECT_TRUE(detail(result, "free_bytes"));
  EXPECT_TRUE(detail(result, "free_percent"));

  for (const char* name : {"node_filesystem_avail_bytes", "node_filesystem_size_bytes",
                           "node_filesystem_files_free", "node_filesystem_files"}) {
    const Reading* reading = find_reading(result, name);
    ASSERT_NE(reading, nullptr) << name;
    EXPECT_FALSE(reading->counter);
    EXPECT_FALSE(reading->help.empty());
    EXPECT_NE(label(*reading, "mountpoint"), "<absent>");
    EXPECT_FALSE(label(*reading, "device").empty()) << name;
    EXPECT_FALSE(label(*reading, "fstype").empty()) << name;
  }
  EXPECT_GT(find_reading(result, "node_filesystem_avail_bytes")->value, 0);
  EXPECT_GT(find_reading(result, "node_filesystem_size_bytes")->value,
            find_reading(result, "node_filesystem_avail_bytes")->value);
}

TEST_F(DiskProbeTest, WarnThresholdAtOneHundredPercentWarns) {
  config_.warn_free_percent = 100;  // "<=": every disk is at or below 100% free
  config_.fail_free_percent = 0;
  ProbeResult result = DiskProbe::check_now(config_, kFixtures + "/proc");
  EXPECT_EQ(result.status, Status::warning);
  EXPECT_EQ(result.reason, "threshold");
  // Labels from the fixture's mountinfo: the temporary directory is under its /tmp.
  std::string prefix = "free space " + *detail(result, "free_percent") + "% on " + dir_ +
                       " (mount /tmp) is at or below the warn threshold 100%";
  EXPECT_EQ(result.error, prefix);
  const Reading* avail = find_reading(result, "node_filesystem_avail_bytes");
  ASSERT_NE(avail, nullptr);
  EXPECT_EQ(label(*avail, "mountpoint"), "/tmp");
  EXPECT_EQ(label(*avail, "device"), "tmpfs-on-top");
  EXPECT_EQ(label(*avail, "fstype"), "tmpfs");
}

TEST_F(DiskProbeTest, FailThresholdFails) {
  config_.warn_free_percent = 100;
  config_.fail_free_percent = 99.9;
  ProbeResult result = DiskProbe::check_now(config_, "/proc");
  // A brand-new empty file system could be above 99.9% free; this machine's is not.
  EXPECT_EQ(result.status, Status::failing) << result.error;
  EXPECT_EQ(result.reason, "threshold");
  EXPECT_NE(result.error.find("is at or below the fail threshold 99.9%"), std::string::npos)
      << result.error;
  // Readings are there whatever the status.
  EXPECT_NE(find_reading(result, "node_filesystem_avail_bytes"), nullptr);
}

TEST_F(DiskProbeTest, InodeThresholds) {
  config_.warn_free_percent = 0;
  config_.fail_free_percent = 0;
  config_.warn_free_inodes_percent = 100;
  ProbeResult result = DiskProbe::check_now(config_, "/proc");
  if (!detail(result, "inodes_free_percent")) GTEST_SKIP() << "no inode counts here (btrfs?)";
  EXPECT_EQ(result.status, Status::warning);
  EXPECT_EQ(result.reason, "threshold");
  EXPECT_EQ(result.error.rfind("free inodes ", 0), 0u) << result.error;
}

TEST_F(DiskProbeTest, MountUnknownFallsBackToPathAndEmptyLabels) {
  ProbeResult result = DiskProbe::check_now(config_, "/nonexistent-proc");
  EXPECT_NE(result.status, Status::unknown);
  EXPECT_EQ(detail(result, "mountpoint"), dir_);
  const Reading* size = find_reading(result, "node_filesystem_size_bytes");
  ASSERT_NE(size, nullptr);
  EXPECT_EQ(label(*size, "mountpoint"), dir_);
  EXPECT_EQ(label(*size, "device"), "");
  EXPECT_EQ(label(*size, "fstype"), "");
}

TEST_F(DiskProbeTest, MissingPathIsNotFound) {
  config_.path = dir_ + "/does-not-exist";
  ProbeResult result = DiskProbe::check_now(config_, "/proc");
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "not_found");
  EXPECT_EQ(result.error, "statvfs " + config_.path + ": no such file or directory");
  EXPECT_TRUE(result.readings.empty());
}

TEST_F(DiskProbeTest, PathThroughAFileIsAnIoError) {
  std::string file = dir_ + "/plain-file";
  ::close(::open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  config_.path = file + "/below";
  ProbeResult result = DiskProbe::check_now(config_, "/proc");
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "io_error");
  EXPECT_EQ(result.error, "statvfs " + config_.path + ": not a directory");
}

TEST_F(DiskProbeTest, WriteCheckPassesAndLeavesNothingBehind) {
  config_.warn_free_percent = 0;
  config_.fail_free_percent = 0;
  config_.write_check = true;
  ProbeResult result = DiskProbe::check_now(config_, "/proc");
  EXPECT_EQ(result.status, Status::passing) << result.error;
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(DiskProbeTest, WriteCheckSkipsNamesAlreadyTaken) {
  config_.warn_free_percent = 0;
  config_.fail_free_percent = 0;
  config_.write_check = true;
  // A file a crashed run with the same pid left behind.
  std::string leftover = dir_ + "/.covet-sidecar-write-check." + std::to_string(::getpid()) + ".0";
  ::close(::open(leftover.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  ProbeResult result = DiskProbe::check_now(config_, "/proc");
  EXPECT_EQ(result.status, Status::passing) << result.error;
  EXPECT_TRUE(std::filesystem::exists(leftover));  // not ours to delete
}

TEST_F(DiskProbeTest, WriteCheckFailsWhereWritesFail) {
  // Neither a read-only bind mount nor an unprivileged user is available here; /proc
  // refuses file creation even to root.
  config::DiskProbeConfig config;
  config.path = "/proc";
  config.warn_free_percent = 0;
  config.fail_free_percent = 0;
  config.warn_free_inodes_percent = 0;
  config.fail_free_inodes_percent = 0;
  config.write_check = true;
  ProbeResult result = DiskProbe::check_now(config, "/proc");
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_FALSE(result.reason.empty());
  EXPECT_EQ(result.error.rfind("write check in /proc: ", 0), 0u) << result.error;
}

// ---- start()/cancel() on a real loop ----------------------------------------------------

TEST_F(DiskProbeTest, StartCompletesOnceOnTheLoop) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  DiskProbe probe(&loop, config_);
  int calls = 0;
  std::thread::id callback_thread;
  probe.start([&](ProbeResult result) {
    ++calls;
    callback_thread = std::this_thread::get_id();
    EXPECT_NE(result.status, Status::unknown);
    EXPECT_FALSE(result.readings.empty());
  });
  EXPECT_EQ(calls, 0);  // statvfs runs in the pool: never inline
  EXPECT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(callback_thread, std::this_thread::get_id());

  // And again, on the same probe.
  probe.start([&](ProbeResult) { ++calls; });
  EXPECT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(calls, 2);
  probe.cancel();  // nothing in flight: a no-op
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST_F(DiskProbeTest, CancelledCheckNeverCompletes) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  DiskProbe probe(&loop, config_);
  int calls = 0;
  probe.start([&](ProbeResult) { ++calls; });
  probe.cancel();
  EXPECT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST_F(DiskProbeTest, ProbeDestroyedWithCheckInFlight) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  int calls = 0;
  {
    DiskProbe probe(&loop, config_);
    probe.start([&](ProbeResult) { ++calls; });
  }
  EXPECT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

// A check that hangs, made deterministic: the probe reads PROC_ROOT/self/mountinfo, and here
// that is a FIFO, so the pool thread blocks in it until the test lets go, as it would in a
// statvfs on a dead NFS mount.
class HangingDiskCheck : public DiskProbeTest {
 protected:
  void SetUp() override {
    DiskProbeTest::SetUp();
    proc_root_ = dir_ + "/proc";
    std::filesystem::create_directories(proc_root_ + "/self");
    ASSERT_EQ(::mkfifo((proc_root_ + "/self/mountinfo").c_str(), 0600), 0);
    ASSERT_EQ(uv_loop_init(&loop_), 0);
  }
  void TearDown() override {
    release();
    EXPECT_EQ(uv_run(&loop_, UV_RUN_DEFAULT), 0);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    DiskProbeTest::TearDown();
  }

  // Returns once a pool thread is blocked reading the FIFO: opening the write end succeeds
  // only while a reader is there, and holding it open keeps the reader waiting for data.
  void wait_until_blocked() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (writer_ < 0 && std::chrono::steady_clock::now() < deadline) {
      writer_ = ::open((proc_root_ + "/self/mountinfo").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (writer_ < 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_GE(writer_, 0) << "the check never reached the FIFO";
  }
  // The reader sees end of file and the check finishes. The FIFO goes too, so that later
  // checks find no mountinfo instead of blocking again.
  void release() {
    ::unlink((proc_root_ + "/self/mountinfo").c_str());
    if (writer_ >= 0) ::close(writer_);
    writer_ = -1;
  }

  std::string proc_root_;
  uv_loop_t loop_;
  int writer_ = -1;
};

TEST_F(HangingDiskCheck, StuckCheckIsSkippedUntilItReturns) {
  DiskProbe probe(&loop_, config_, proc_root_);
  int first_calls = 0;
  probe.start([&](ProbeResult) { ++first_calls; });
  wait_until_blocked();
  probe.cancel();  // the scheduler's timeout

  int second_calls = 0;
  ProbeResult second;
  probe.start([&](ProbeResult result) {
    ++second_calls;
    second = std::move(result);
  });
  // Reported at once, without taking another pool thread.
  EXPECT_EQ(second_calls, 1);
  EXPECT_EQ(second.status, Status::failing);
  EXPECT_EQ(second.reason, "timeout");
  EXPECT_EQ(second.error, "disk check on " + dir_ +
                              ": the previous check has not returned yet (unresponsive file "
                              "system?); skipping checks until it does");

  release();
  EXPECT_EQ(uv_run(&loop_, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(first_calls, 0);  // cancelled: never reported

  // Recovered: the next check runs normally.
  int third_calls = 0;
  probe.start([&](ProbeResult result) {
    ++third_calls;
    EXPECT_NE(result.status, Status::unknown);
  });
  EXPECT_EQ(third_calls, 0);
  EXPECT_EQ(uv_run(&loop_, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(third_calls, 1);
}

TEST_F(HangingDiskCheck, ProbeDestroyedWhileItsCheckIsBlocked) {
  int calls = 0;
  {
    DiskProbe probe(&loop_, config_, proc_root_);
    probe.start([&](ProbeResult) { ++calls; });
    wait_until_blocked();
  }
  // The job outlives the probe, finishes, and frees itself without touching the probe.
  release();
  EXPECT_EQ(uv_run(&loop_, UV_RUN_DEFAULT), 0);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace covet::probes
