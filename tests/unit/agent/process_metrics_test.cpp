#include "agent/process_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace covet {
namespace {

const prometheus::MetricFamily* find_family(const std::vector<prometheus::MetricFamily>& families,
                                            const std::string& name) {
  for (const auto& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

// The single sample's value, whichever of counter or gauge the family is.
std::optional<double> value_of(const std::vector<prometheus::MetricFamily>& families,
                               const std::string& name) {
  const prometheus::MetricFamily* family = find_family(families, name);
  if (family == nullptr || family->metric.size() != 1) return std::nullopt;
  const prometheus::ClientMetric& metric = family->metric.front();
  return family->type == prometheus::MetricType::Counter ? metric.counter.value
                                                         : metric.gauge.value;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(ProcessMetrics, ThisProcess) {
  ProcessMetrics metrics;
  auto families = metrics.Collect();
  EXPECT_EQ(families.size(), 7u);

  const prometheus::MetricFamily* cpu = find_family(families, "process_cpu_seconds_total");
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->type, prometheus::MetricType::Counter);
  EXPECT_FALSE(cpu->help.empty());
  EXPECT_GE(*value_of(families, "process_cpu_seconds_total"), 0);

  EXPECT_GT(value_of(families, "process_resident_memory_bytes").value_or(0), 1 << 20);
  EXPECT_GT(value_of(families, "process_virtual_memory_bytes").value_or(0),
            value_of(families, "process_resident_memory_bytes").value_or(0));
  // At least the directory stream that counted them.
  EXPECT_GT(value_of(families, "process_open_fds").value_or(0), 0);
  EXPECT_GE(value_of(families, "process_max_fds").value_or(0),
            value_of(families, "process_open_fds").value_or(1e300));
  // Not compared with getrlimit: valgrind reserves a few descriptors and reports less.
  EXPECT_GE(value_of(families, "process_threads").value_or(0), 1);

  double start = value_of(families, "process_start_time_seconds").value_or(0);
  EXPECT_LE(start, now_seconds() + 1);  // clock ticks round; allow a second
  EXPECT_GT(start, now_seconds() - 3600);
  EXPECT_EQ(find_family(families, "process_start_time_seconds")->type,
            prometheus::MetricType::Gauge);
}

TEST(ProcessMetrics, SerializesAsPrometheusText) {
  std::string text = prometheus::TextSerializer().Serialize(ProcessMetrics().Collect());
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos) << text;
}

TEST(ProcessMetrics, FixtureValuesAndAMissingFdDirectory) {
  // The fixture has stat, limits and ../stat (btime) but no fd/ directory.
  ProcessMetrics metrics(std::string(COVET_FIXTURES_DIR) + "/proc/self");
  auto families = metrics.Collect();
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double page_size = static_cast<double>(::sysconf(_SC_PAGESIZE));
  EXPECT_DOUBLE_EQ(*value_of(families, "process_cpu_seconds_total"), (250 + 125) / ticks);
  EXPECT_DOUBLE_EQ(*value_of(families, "process_resident_memory_bytes"), 3840 * page_size);
  EXPECT_DOUBLE_EQ(*value_of(families, "process_virtual_memory_bytes"), 104857600);
  EXPECT_DOUBLE_EQ(*value_of(families, "process_threads"), 7);
  EXPECT_DOUBLE_EQ(*value_of(families, "process_max_fds"), 20000);
  EXPECT_DOUBLE_EQ(*value_of(families, "process_start_time_seconds"), 1795549268 + 39142 / ticks);
  EXPECT_EQ(find_family(families, "process_open_fds"), nullptr);
  EXPECT_EQ(families.size(), 6u);
}

TEST(ProcessMetrics, NothingReadableMeansNoFamiliesAndNoThrow) {
  ProcessMetrics metrics("/nonexistent/proc/self");
  EXPECT_TRUE(metrics.Collect().empty());
  ProcessMetrics empty_path("");
  EXPECT_NO_THROW(empty_path.Collect());
}

}  // namespace
}  // namespace covet
