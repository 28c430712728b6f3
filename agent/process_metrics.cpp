#include "agent/process_metrics.h"

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>
#include <unistd.h>

#include <filesystem>
#include <limits>
#include <optional>
#include <system_error>

#include "probes/procfs.h"

namespace covet {
namespace {

// The names and help texts of the Prometheus client libraries' process collector
// (client_golang's), so the usual dashboards work.
struct FamilyDescriptor {
  const char* name;
  const char* help;
  prometheus::MetricType type;
};
constexpr FamilyDescriptor kCpuSecondsTotal{"process_cpu_seconds_total",
                                            "Total user and system CPU time spent in seconds.",
                                            prometheus::MetricType::Counter};
constexpr FamilyDescriptor kResidentMemoryBytes{"process_resident_memory_bytes",
                                                "Resident memory size in bytes.",
                                                prometheus::MetricType::Gauge};
constexpr FamilyDescriptor kVirtualMemoryBytes{
    "process_virtual_memory_bytes", "Virtual memory size in bytes.", prometheus::MetricType::Gauge};
constexpr FamilyDescriptor kOpenFds{"process_open_fds", "Number of open file descriptors.",
                                    prometheus::MetricType::Gauge};
constexpr FamilyDescriptor kMaxFds{"process_max_fds", "Maximum number of open file descriptors.",
                                   prometheus::MetricType::Gauge};
constexpr FamilyDescriptor kStartTimeSeconds{
    "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
    prometheus::MetricType::Gauge};
constexpr FamilyDescriptor kThreads{"process_threads", "Number of OS threads in the process.",
                                    prometheus::MetricType::Gauge};

void add_family(std::vector<prometheus::MetricFamily>& families, const FamilyDescriptor& descriptor,
                std::optional<double> value) {
  if (!value) return;  // the file behind it was unreadable: drop this metric only
  prometheus::ClientMetric metric;
  if (descriptor.type == prometheus::MetricType::Counter) {
    metric.counter.value = *value;
  } else {
    metric.gauge.value = *value;
  }
  families.push_back(prometheus::MetricFamily{
      descriptor.name, descriptor.help, descriptor.type, {std::move(metric)}});
}

// "/proc/self" -> "/proc": /proc/stat (boot time) sits next to the process directories.
std::string parent_dir(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::optional<double> count_open_fds(const std::string& fd_dir) {
  // The directory stream opened here is itself one of the descriptors counted, as in every
  // other client library.
  std::error_code error;
  std::filesystem::directory_iterator entries(fd_dir, error);
  if (error) return std::nullopt;
  double count = 0;
  for (auto end = std::filesystem::directory_iterator(); entries != end; entries.increment(error)) {
    if (error) return std::nullopt;
    ++count;
  }
  return count;
}

std::optional<double> max_open_fds(const std::string& limits_path) {
  probes::FileContents limits = probes::read_small_file(limits_path);
  if (!limits.ok()) return std::nullopt;
  auto limit = probes::parse_proc_limits_max_open_files(limits.contents);
  if (!limit) return std::nullopt;
  return limit->unlimited ? std::numeric_limits<double>::infinity()
                          : static_cast<double>(limit->value);
}

}  // namespace

ProcessMetrics::ProcessMetrics(std::string proc_self) : proc_self_(std::move(proc_self)) {}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  std::optional<probes::ProcPidStat> stat;
  if (probes::FileContents file = probes::read_small_file(proc_self_ + "/stat"); file.ok()) {
    stat = probes::parse_proc_pid_stat(file.contents);
  }
  // Kernel constants, not configuration; sysconf does not fail for these two.
  const double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page_size_bytes = static_cast<double>(::sysconf(_SC_PAGESIZE));

  std::optional<double> cpu_seconds, resident_bytes, virtual_bytes, threads, start_time;
  if (stat) {
    cpu_seconds = static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks_per_second;
    resident_bytes = static_cast<double>(stat->rss_pages) * page_size_bytes;
    virtual_bytes = static_cast<double>(stat->vsize_bytes);
    threads = static_cast<double>(stat->num_threads);
    if (auto boot_time = probes::read_boot_time_seconds(parent_dir(proc_self_))) {
      start_time = static_cast<double>(*boot_time) +
                   static_cast<double>(stat->starttime_ticks) / ticks_per_second;
    }
  }

  std::vector<prometheus::MetricFamily> families;
  add_family(families, kCpuSecondsTotal, cpu_seconds);
  add_family(families, kResidentMemoryBytes, resident_bytes);
  add_family(families, kVirtualMemoryBytes, virtual_bytes);
  add_family(families, kOpenFds, count_open_fds(proc_self_ + "/fd"));
  add_family(families, kMaxFds, max_open_fds(proc_self_ + "/limits"));
  add_family(families, kStartTimeSeconds, start_time);
  add_family(families, kThreads, threads);
  return families;
}

}  // namespace covet
