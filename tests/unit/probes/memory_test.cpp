#include "probes/memory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace covet::probes {
namespace {

const std::string kFixtures = COVET_FIXTURES_DIR;

config::MemoryProbeConfig fixture_config(const std::string& cgroup_tree,
                                         const std::string& proc_dir) {
  config::MemoryProbeConfig config;
  config.cgroup_root = kFixtures + "/" + cgroup_tree;
  config.proc_root = kFixtures + "/" + proc_dir;
  return config;
}

std::optional<std::string> detail(const ProbeResult& result, const std::string& key) {
  for (const auto& [name, value] : result.detail) {
    if (name == key) return value;
  }
  return std::nullopt;
}

const Reading* find_reading(const ProbeResult& result, const std::string& name,
                            const std::string& label_value = "") {
  for (const Reading& reading : result.readings) {
    if (reading.name != name) continue;
    if (label_value.empty()) return &reading;
    for (const auto& [key, value] : reading.labels) {
      if (value == label_value) return &reading;
    }
  }
  return nullptr;
}

// ---- cgroup v2: 416MiB current, 32MiB inactive_file, 512MiB max -> 384MiB = 75.0% ----

TEST(MemoryProbe, CgroupV2PassingBelowThresholds) {
  MemoryProbe probe(fixture_config("cgroup-v2", "proc-cgroup2"));
  ProbeResult result = probe.check_now();
  EXPECT_EQ(result.status, Status::passing) << result.error;
  EXPECT_TRUE(result.error.empty());
  EXPECT_TRUE(result.reason.empty());
  EXPECT_EQ(detail(result, "source"), "cgroup_v2");
  EXPECT_EQ(detail(result, "used_bytes"), "402653184");
  EXPECT_EQ(detail(result, "limit_bytes"), "536870912");
  EXPECT_EQ(detail(result, "percent"), "75.0");
  EXPECT_EQ(detail(result, "oom_kills"), "3");

  const Reading* working_set = find_reading(result, "covet_sidecar_memory_working_set_bytes");
  ASSERT_NE(working_set, nullptr);
  EXPECT_EQ(working_set->value, 402653184);
  EXPECT_FALSE(working_set->counter);
  ASSERT_EQ(working_set->labels.size(), 1u);
  EXPECT_EQ(working_set->labels[0], (std::pair<std::string, std::string>{"source", "cgroup_v2"}));
  ASSERT_NE(find_reading(result, "covet_sidecar_memory_usage_bytes"), nullptr);
  EXPECT_EQ(find_reading(result, "covet_sidecar_memory_usage_bytes")->value, 436207616);
  EXPECT_EQ(find_reading(result, "covet_sidecar_memory_limit_bytes")->value, 536870912);

  const Reading* oom_kills = find_reading(result, "covet_sidecar_memory_oom_kills_total");
  ASSERT_NE(oom_kills, nullptr);
  EXPECT_EQ(oom_kills->value, 3);
  EXPECT_TRUE(oom_kills->counter);

  const Reading* some =
      find_reading(result, "covet_sidecar_memory_pressure_stall_seconds_total", "some");
  const Reading* full =
      find_reading(result, "covet_sidecar_memory_pressure_stall_seconds_total", "full");
  ASSERT_NE(some, nullptr);
  ASSERT_NE(full, nullptr);
  EXPECT_DOUBLE_EQ(some->value, 1.234567);
  EXPECT_DOUBLE_EQ(full->value, 0.234567);
  EXPECT_TRUE(some->counter);
}

TEST(MemoryProbe, CgroupV2WarningAtWarnThreshold) {
  auto config = fixture_config("cgroup-v2", "proc-cgroup2");
  config.warn_percent = 75;  // ">=": exactly at the threshold warns
  config.fail_percent = 90;
  ProbeResult result = MemoryProbe(config).check_now();
  EXPECT_EQ(result.status, Status::warning);
  EXPECT_EQ(result.reason, "threshold");
  EXPECT_EQ(result.error,
            "memory working set 75.0% (384MiB) of the 512MiB cgroup limit is at or above the warn "
            "threshold 75%");
}

TEST(MemoryProbe, CgroupV2FailingAtFailThreshold) {
  auto config = fixture_config("cgroup-v2", "proc-cgroup2");
  config.warn_percent = 50;
  config.fail_percent = 74.5;
  ProbeResult result = MemoryProbe(config).check_now();
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "threshold");
  EXPECT_EQ(result.error,
            "memory working set 75.0% (384MiB) of the 512MiB cgroup limit is at or above the fail "
            "threshold 74.5%");
  // Readings are reported whatever the status.
  EXPECT_NE(find_reading(result, "covet_sidecar_memory_working_set_bytes"), nullptr);
}

// ---- cgroup v2 with memory.max "max": falls back to meminfo (16000000 kB, 12000000 free)

TEST(MemoryProbe, CgroupV2UnlimitedFallsBackToMeminfo) {
  // The pod's path from proc-cgroup2 is not under cgroup-v2-max: the files sit at the root,
  // as a container without a cgroup namespace sees them.
  ProbeResult result = MemoryProbe(fixture_config("cgroup-v2-max", "proc-cgroup2")).check_now();
  EXPECT_EQ(result.status, Status::passing) << result.error;
  EXPECT_EQ(detail(result, "source"), "meminfo");
  EXPECT_EQ(detail(result, "limit_bytes"), std::to_string(16000000ull * 1024));
  EXPECT_EQ(detail(result, "used_bytes"), std::to_string(4000000ull * 1024));
  EXPECT_EQ(detail(result, "percent"), "25.0");
  // The cgroup's OOM kills and PSI still count.
  EXPECT_EQ(detail(result, "oom_kills"), "3");
  EXPECT_NE(find_reading(result, "covet_sidecar_memory_pressure_stall_seconds_total"), nullptr);
  const Reading* limit = find_reading(result, "covet_sidecar_memory_limit_bytes");
  ASSERT_NE(limit, nullptr);
  EXPECT_EQ(limit->labels[0].second, "meminfo");

  auto config = fixture_config("cgroup-v2-max", "proc-cgroup2");
  config.warn_percent = 20;
  ProbeResult warning = MemoryProbe(config).check_now();
  EXPECT_EQ(warning.status, Status::warning);
  EXPECT_EQ(warning.error,
            "memory used 25.0% (3.8GiB) of the 15.3GiB node memory (MemTotal) is at or above the "
            "warn threshold 20%");
}

// ---- cgroup v1: 300MiB usage, 100MiB total_inactive_file, 1GiB limit -> 19.53125% ----

TEST(MemoryProbe, CgroupV1) {
  auto config = fixture_config("cgroup-v1", "proc");
  config.warn_percent = 19.5;
  ProbeResult result = MemoryProbe(config).check_now();
  EXPECT_EQ(result.status, Status::warning);
  EXPECT_EQ(detail(result, "source"), "cgroup_v1");
  EXPECT_EQ(detail(result, "used_bytes"), std::to_string(200ull << 20));
  EXPECT_EQ(detail(result, "limit_bytes"), std::to_string(1ull << 30));
  EXPECT_EQ(detail(result, "percent"), "19.5");
  EXPECT_EQ(detail(result, "oom_kills"), "2");
  EXPECT_EQ(result.error,
            "memory working set 19.5% (200MiB) of the 1GiB cgroup limit is at or above the warn "
            "threshold 19.5%");
  // v1 has no per-cgroup PSI.
  EXPECT_EQ(find_reading(result, "covet_sidecar_memory_pressure_stall_seconds_total"), nullptr);
}

// ---- Built in a temporary directory: edge cases not worth a checked-in tree ------------

class TempCgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/covet-memory-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    write("proc/self/cgroup", "0::/\n");
    std::filesystem::copy_file(kFixtures + "/proc/meminfo", root_ + "/proc/meminfo");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void write(const std::string& relative_path, const std::string& contents) {
    std::filesystem::path path = root_ + "/" + relative_path;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << contents;
  }

  config::MemoryProbeConfig config() const {
    config::MemoryProbeConfig config;
    config.cgroup_root = root_ + "/cgroup";
    config.proc_root = root_ + "/proc";
    return config;
  }

  std::string root_;
};

TEST_F(TempCgroupTree, LimitAboveMemTotalIsCappedAtMemTotal) {
  write("cgroup/memory.current", "8192000000\n");
  write("cgroup/memory.max", std::to_string(64ull << 30) + "\n");
  write("cgroup/memory.stat", "inactive_file 0\n");
  ProbeResult result = MemoryProbe(config()).check_now();
  EXPECT_EQ(detail(result, "source"), "cgroup_v2");
  EXPECT_EQ(detail(result, "limit_bytes"), std::to_string(16000000ull * 1024));
  EXPECT_EQ(detail(result, "percent"), "50.0");
  // No memory.events or memory.pressure: those readings are simply absent.
  EXPECT_FALSE(detail(result, "oom_kills"));
  EXPECT_EQ(find_reading(result, "covet_sidecar_memory_oom_kills_total"), nullptr);
}

TEST_F(TempCgroupTree, InactiveFileAboveUsageClampsWorkingSetAtZero) {
  write("cgroup/memory.current", "100\n");
  write("cgroup/memory.max", "1000\n");
  write("cgroup/memory.stat", "inactive_file 500\n");
  ProbeResult result = MemoryProbe(config()).check_now();
  EXPECT_EQ(detail(result, "used_bytes"), "0");
  EXPECT_EQ(result.status, Status::passing);
}

TEST_F(TempCgroupTree, GarbageLimitIsAnIoErrorNamingTheFile) {
  write("cgroup/memory.current", "100\n");
  write("cgroup/memory.max", "lots\n");
  write("cgroup/memory.stat", "inactive_file 0\n");
  ProbeResult result = MemoryProbe(config()).check_now();
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "io_error");
  EXPECT_EQ(result.error, "parse " + root_ + "/cgroup/memory.max: not a byte count");
}

TEST_F(TempCgroupTree, MissingMemoryStatIsAnIoError) {
  write("cgroup/memory.current", "100\n");
  write("cgroup/memory.max", "1000\n");
  ProbeResult result = MemoryProbe(config()).check_now();
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "io_error");
  EXPECT_EQ(result.error, "read " + root_ + "/cgroup/memory.stat: no such file or directory");
}

TEST_F(TempCgroupTree, NoCgroupAtAllUsesMeminfo) {
  ProbeResult result = MemoryProbe(config()).check_now();
  EXPECT_EQ(detail(result, "source"), "meminfo");
  EXPECT_EQ(result.status, Status::passing);
}

TEST_F(TempCgroupTree, DotDotPathDoesNotEscapeTheRoot) {
  // Outside our cgroup namespace the kernel shows paths like "/../other".
  write("proc/self/cgroup", "0::/../escape\n");
  write("escape/memory.current", "1\n");
  write("cgroup/memory.current", "100\n");
  write("cgroup/memory.max", "1000\n");
  write("cgroup/memory.stat", "inactive_file 0\n");
  ProbeResult result = MemoryProbe(config()).check_now();
  EXPECT_EQ(detail(result, "used_bytes"), "100");
}

TEST_F(TempCgroupTree, UnreadableMeminfoWhenNeededIsAnIoError) {
  std::filesystem::remove(root_ + "/proc/meminfo");
  ProbeResult result = MemoryProbe(config()).check_now();
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "io_error");
  EXPECT_EQ(result.error, "read " + root_ + "/proc/meminfo: no such file or directory");
}

// ---- This machine (cgroup v1 in CI; v2 on most nodes) ---------------------------------

TEST(MemoryProbe, RealMachine) {
  MemoryProbe probe(config::MemoryProbeConfig{});
  ProbeResult result = probe.check_now();
  EXPECT_NE(result.status, Status::unknown);
  EXPECT_NE(result.reason, "io_error") << result.error;
  auto source = detail(result, "source");
  ASSERT_TRUE(source);
  EXPECT_TRUE(*source == "cgroup_v2" || *source == "cgroup_v1" || *source == "meminfo") << *source;
  auto limit = detail(result, "limit_bytes");
  ASSERT_TRUE(limit);
  EXPECT_GT(std::stoull(*limit), 0u);
}

TEST(MemoryProbe, StartCompletesSynchronouslyOnce) {
  MemoryProbe probe(fixture_config("cgroup-v2", "proc-cgroup2"));
  int calls = 0;
  Status status = Status::unknown;
  probe.start([&](ProbeResult result) {
    ++calls;
    status = result.status;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(status, Status::passing);
  probe.cancel();  // a no-op with nothing in flight
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace covet::probes
