#include "agent/probe_once.h"

#include <fmt/format.h>
#include <uv.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "probes/factory.h"
#include "probes/scheduler.h"

namespace covet {
namespace {

std::string summarize(const probes::ProbeResult& result) {
  if (!result.error.empty()) return result.error;
  std::string text;
  for (const auto& [key, value] : result.detail) {
    if (!text.empty()) text += ", ";
    text += key + "=" + value;
  }
  return text;
}

}  // namespace

int run_probes_once(const config::Config& config, std::ostream& out) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<std::optional<probes::ProbeResult>> results(config.probes.size());
  std::size_t pending = config.probes.size();
  // Interval far beyond the timeout: each probe runs exactly once before we close.
  probes::Scheduler scheduler(
      &loop,
      [&](std::size_t index, probes::ProbeResult result) {
        results[index] = std::move(result);
        if (--pending == 0) scheduler.close(nullptr);
      },
      1);
  for (std::size_t i = 0; i < config.probes.size(); ++i) {
    const config::ProbeConfig& probe = config.probes[i];
    scheduler.add(i, probes::make_probe(&loop, probe), std::chrono::hours(1), probe.timeout);
  }
  if (config.probes.empty()) scheduler.close(nullptr);
  scheduler.start();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);

  std::size_t name_width = 4;
  for (const auto& probe : config.probes) name_width = std::max(name_width, probe.name.size());
  out << fmt::format("{:<{}}  {:<7}  {:<8}  {:>9}  {}\n", "NAME", name_width, "TYPE", "STATUS",
                     "LATENCY", "DETAIL");
  bool all_ok = true;
  for (std::size_t i = 0; i < config.probes.size(); ++i) {
    const probes::ProbeResult result = results[i].value_or(probes::ProbeResult{});
    const bool ok =
        result.status == probes::Status::passing || result.status == probes::Status::warning;
    all_ok = all_ok && ok;
    out << fmt::format("{:<{}}  {:<7}  {:<8}  {:>7.1f}ms  {}\n", config.probes[i].name, name_width,
                       config.probes[i].type, probes::to_string(result.status),
                       std::chrono::duration<double, std::milli>(result.latency).count(),
                       summarize(result));
  }
  return all_ok ? 0 : 1;
}

}  // namespace covet
