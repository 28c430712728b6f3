#include "probes/memory.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <string_view>
#include <vector>

#include "probes/procfs.h"

namespace covet::probes {
namespace {

struct ReadingDescriptor {
  std::string_view name;
  std::string_view help;
  bool counter;
};
constexpr ReadingDescriptor kWorkingSetBytes{
    "covet_sidecar_memory_working_set_bytes",
    "Memory in use minus reclaimable inactive file pages: what the kubelet evicts on.", false};
constexpr ReadingDescriptor kUsageBytes{"covet_sidecar_memory_usage_bytes",
                                        "Memory in use, page cache included.", false};
constexpr ReadingDescriptor kLimitBytes{
    "covet_sidecar_memory_limit_bytes",
    "Memory limit the working set is compared with (cgroup limit, capped at MemTotal).", false};
constexpr ReadingDescriptor kOomKillsTotal{
    "covet_sidecar_memory_oom_kills_total",
    "Processes the kernel's OOM killer killed in this memory cgroup.", true};
constexpr ReadingDescriptor kPressureStallSecondsTotal{
    "covet_sidecar_memory_pressure_stall_seconds_total",
    "Time tasks in this memory cgroup stalled waiting for memory (PSI); kind=some: at least "
    "one task, kind=full: all non-idle tasks.",
    true};

constexpr std::string_view kSourceMeminfo = "meminfo";

// The two cgroup versions differ only in file names and formats; one table row each drives
// the same measuring code.
struct CgroupLayout {
  std::string_view source;  // the `source` label and detail
  std::string_view usage_file;
  std::string_view limit_file;
  std::optional<ResourceLimit> (*parse_limit)(std::string_view);
  std::string_view inactive_file_key;  // in memory.stat
  std::string_view oom_kill_file;      // holds an "oom_kill N" line
  std::string_view pressure_file;      // empty: the version has none per cgroup
};
constexpr CgroupLayout kCgroupV2{
    .source = "cgroup_v2",
    .usage_file = "memory.current",
    .limit_file = "memory.max",
    .parse_limit = &parse_cgroup_v2_memory_max,
    .inactive_file_key = "inactive_file",
    .oom_kill_file = "memory.events",
    .pressure_file = "memory.pressure",
};
// total_inactive_file includes child cgroups, as memory.usage_in_bytes does with
// use_hierarchy (the default on every kernel that matters). v1 has no per-cgroup PSI:
// /proc/pressure/memory is the whole machine's, not this container's.
constexpr CgroupLayout kCgroupV1{
    .source = "cgroup_v1",
    .usage_file = "memory.usage_in_bytes",
    .limit_file = "memory.limit_in_bytes",
    .parse_limit = &parse_cgroup_v1_memory_limit,
    .inactive_file_key = "total_inactive_file",
    .oom_kill_file = "memory.oom_control",
    .pressure_file = "",
};

// What was measured in the cgroup, before any fallback or threshold.
struct CgroupMemory {
  std::uint64_t usage_bytes = 0;
  std::uint64_t inactive_file_bytes = 0;
  ResourceLimit limit;
  std::optional<std::uint64_t> oom_kills;
  std::optional<Pressure> pressure;
};

struct CgroupMeasurement {
  std::optional<CgroupMemory> memory;
  std::string error;  // "read PATH: reason" / "parse PATH: reason" when !memory
};

bool has_parent_component(std::string_view path) {
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    if (path.substr(0, slash) == "..") return true;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return false;
}

// Directories that may hold this process's cgroup files, most specific first:
// ROOT/PATH is right on a host; ROOT itself is what a container sees when its own cgroup is
// mounted at ROOT while /proc/self/cgroup still names the host's path (no cgroup
// namespace). A path with ".." lies outside our cgroup namespace and cannot be under ROOT.
std::vector<std::string> candidate_dirs(const std::string& root, const std::string& path) {
  std::vector<std::string> dirs;
  if (path != "/" && !has_parent_component(path)) dirs.push_back(root + path);
  dirs.push_back(root);
  return dirs;
}

std::optional<std::string> find_cgroup_dir(const std::vector<std::string>& candidates,
                                           std::string_view usage_file) {
  for (const std::string& dir : candidates) {
    std::string usage_path = dir + "/" + std::string(usage_file);
    if (::access(usage_path.c_str(), F_OK) == 0) return dir;
  }
  return std::nullopt;
}

std::string parse_error(const std::string& path, std::string_view what) {
  return "parse " + path + ": " + std::string(what);
}

CgroupMeasurement measure_cgroup(const std::string& dir, const CgroupLayout& layout) {
  auto read = [&dir](std::string_view file) {
    std::string path = dir + "/" + std::string(file);
    return std::pair{path, read_small_file(path)};
  };
  CgroupMemory memory;

  auto [usage_path, usage_file] = read(layout.usage_file);
  if (!usage_file.ok()) return {std::nullopt, usage_file.error};
  auto usage = parse_single_u64(usage_file.contents);
  if (!usage) return {std::nullopt, parse_error(usage_path, "not a byte count")};
  memory.usage_bytes = *usage;

  auto [limit_path, limit_file] = read(layout.limit_file);
  if (!limit_file.ok()) return {std::nullopt, limit_file.error};
  auto limit = layout.parse_limit(limit_file.contents);
  if (!limit) return {std::nullopt, parse_error(limit_path, "not a byte count")};
  memory.limit = *limit;

  auto [stat_path, stat_file] = read("memory.stat");
  if (!stat_file.ok()) return {std::nullopt, stat_file.error};
  // Without the key the working set is the whole usage, which over-states it; cAdvisor
  // (and so the kubelet) does the same.
  memory.inactive_file_bytes =
      parse_flat_keyed_u64(stat_file.contents, layout.inactive_file_key).value_or(0);

  // oom_kill appeared in 4.13 and PSI in 4.20: older kernels simply lack the readings.
  if (auto [path, oom_file] = read(layout.oom_kill_file); oom_file.ok()) {
    memory.oom_kills = parse_flat_keyed_u64(oom_file.contents, "oom_kill");
  }
  if (!layout.pressure_file.empty()) {
    if (auto [path, pressure_file] = read(layout.pressure_file); pressure_file.ok()) {
      memory.pressure = parse_pressure(pressure_file.contents);
    }
  }
  return {memory, ""};
}

// "512MiB", "1.5GiB": limits are almost always set in binary units.
std::string format_bytes(std::uint64_t bytes) {
  constexpr std::array<std::string_view, 5> kUnits{"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  std::uint64_t divisor = 1;
  while (unit + 1 < kUnits.size() && bytes / divisor >= 1024) {
    divisor *= 1024;
    ++unit;
  }
  if (bytes % divisor == 0) return fmt::format("{}{}", bytes / divisor, kUnits[unit]);
  return fmt::format("{:.1f}{}", static_cast<double>(bytes) / static_cast<double>(divisor),
                     kUnits[unit]);
}

ProbeResult io_error(std::string message) {
  ProbeResult result;
  result.status = Status::failing;
  result.reason = "io_error";
  result.error = std::move(message);
  return result;
}

void add_reading(ProbeResult& result, const ReadingDescriptor& descriptor, double value,
                 std::vector<std::pair<std::string, std::string>> labels) {
  result.readings.push_back(Reading{std::string(descriptor.name), std::string(descriptor.help),
                                    std::move(labels), value, descriptor.counter});
}

}  // namespace

MemoryProbe::MemoryProbe(config::MemoryProbeConfig config) : config_(std::move(config)) {}

void MemoryProbe::start(Completion done) { done(check_now()); }

ProbeResult MemoryProbe::check_now() const {
  const std::string& cgroup_root = config_.cgroup_root;
  const std::string& proc_root = config_.proc_root;

  ProcCgroup cgroup;
  FileContents cgroup_file = read_small_file(proc_root + "/self/cgroup");
  if (cgroup_file.ok()) {
    cgroup = parse_proc_cgroup(cgroup_file.contents);
  } else if (cgroup_file.error_code != ENOENT) {
    return io_error(cgroup_file.error);
  }  // ENOENT: a kernel without cgroups; /proc/meminfo is all there is.

  // v2 first: on a hybrid host both lines exist, but the memory controller lives in only
  // one hierarchy, and only there is memory.current / memory.usage_in_bytes present.
  const CgroupLayout* layout = nullptr;
  std::optional<std::string> cgroup_dir;
  if (cgroup.v2_path) {
    cgroup_dir =
        find_cgroup_dir(candidate_dirs(cgroup_root, *cgroup.v2_path), kCgroupV2.usage_file);
    if (cgroup_dir) layout = &kCgroupV2;
  }
  if (!layout && cgroup.v1_memory_path) {
    cgroup_dir = find_cgroup_dir(candidate_dirs(cgroup_root + "/memory", *cgroup.v1_memory_path),
                                 kCgroupV1.usage_file);
    if (cgroup_dir) layout = &kCgroupV1;
  }

  std::optional<CgroupMemory> cgroup_memory;
  if (layout) {
    CgroupMeasurement measured = measure_cgroup(*cgroup_dir, *layout);
    if (!measured.memory) return io_error(std::move(measured.error));
    cgroup_memory = measured.memory;
  }

  // meminfo supplies the limit when the cgroup has none, and caps a cgroup limit set above
  // the machine's memory (the working set can never reach such a limit).
  bool needs_meminfo = !cgroup_memory || cgroup_memory->limit.unlimited;
  std::string meminfo_path = proc_root + "/meminfo";
  FileContents meminfo_file = read_small_file(meminfo_path);
  std::optional<MemInfo> meminfo;
  if (meminfo_file.ok()) meminfo = parse_meminfo(meminfo_file.contents);
  if (needs_meminfo && !meminfo_file.ok()) return io_error(meminfo_file.error);
  if (needs_meminfo && !meminfo) {
    return io_error(parse_error(meminfo_path, "no MemTotal and MemAvailable lines"));
  }

  std::string_view source;
  std::string_view limit_kind;
  std::uint64_t usage_bytes = 0;
  std::uint64_t working_set_bytes = 0;
  std::uint64_t limit_bytes = 0;
  if (needs_meminfo) {
    source = kSourceMeminfo;
    limit_kind = "node memory (MemTotal)";
    limit_bytes = meminfo->total_bytes;
    usage_bytes = meminfo->total_bytes - std::min(meminfo->available_bytes, meminfo->total_bytes);
    working_set_bytes = usage_bytes;
  } else {
    source = layout->source;
    limit_kind = "cgroup limit";
    usage_bytes = cgroup_memory->usage_bytes;
    working_set_bytes = usage_bytes - std::min(cgroup_memory->inactive_file_bytes, usage_bytes);
    limit_bytes = cgroup_memory->limit.value;
    if (meminfo && meminfo->total_bytes < limit_bytes) {
      limit_bytes = meminfo->total_bytes;
      limit_kind = "node memory (MemTotal, below the cgroup limit)";
    }
  }
  if (limit_bytes == 0) {
    return io_error(
        fmt::format("memory limit from {}: 0 bytes; cannot compute a percentage", source));
  }

  ProbeResult result;
  double percent = static_cast<double>(working_set_bytes) / static_cast<double>(limit_bytes) * 100;
  std::string_view used_what = needs_meminfo ? "memory used" : "memory working set";
  bool failing = percent >= config_.fail_percent;
  bool warning = !failing && percent >= config_.warn_percent;
  result.status = failing ? Status::failing : warning ? Status::warning : Status::passing;
  if (failing || warning) {
    result.reason = "threshold";
    result.error = fmt::format("{} {:.1f}% ({}) of the {} {} is at or above the {} threshold {:g}%",
                               used_what, percent, format_bytes(working_set_bytes),
                               format_bytes(limit_bytes), limit_kind, failing ? "fail" : "warn",
                               failing ? config_.fail_percent : config_.warn_percent);
  }

  result.detail = {{"source", std::string(source)},
                   {"used_bytes", std::to_string(working_set_bytes)},
                   {"limit_bytes", std::to_string(limit_bytes)},
                   {"percent", fmt::format("{:.1f}", percent)}};
  // A pointer, not a copied optional: g++ 12 at -O2 misreads the copy as maybe-uninitialized.
  const std::uint64_t* oom_kills =
      cgroup_memory && cgroup_memory->oom_kills ? &*cgroup_memory->oom_kills : nullptr;
  if (oom_kills) result.detail.emplace_back("oom_kills", std::to_string(*oom_kills));

  std::vector<std::pair<std::string, std::string>> source_label{{"source", std::string(source)}};
  add_reading(result, kWorkingSetBytes, static_cast<double>(working_set_bytes), source_label);
  add_reading(result, kUsageBytes, static_cast<double>(usage_bytes), source_label);
  add_reading(result, kLimitBytes, static_cast<double>(limit_bytes), source_label);
  if (oom_kills) add_reading(result, kOomKillsTotal, static_cast<double>(*oom_kills), {});
  if (cgroup_memory && cgroup_memory->pressure) {
    const Pressure& pressure = *cgroup_memory->pressure;
    for (auto [kind, line] :
         {std::pair{"some", &pressure.some}, std::pair{"full", &pressure.full}}) {
      if (!*line) continue;
      // PSI totals are in microseconds.
      add_reading(result, kPressureStallSecondsTotal,
                  static_cast<double>((*line)->total_microseconds) / 1e6, {{"kind", kind}});
    }
  }
  return result;
}

}  // namespace covet::probes
