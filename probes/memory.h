#pragma once
// Memory probe: the container's memory against its limit, as the kubelet sees it.
// cgroup v2 (memory.current, memory.max, memory.stat inactive_file, memory.events
// oom_kill, memory.pressure), cgroup v1 (memory.usage_in_bytes, memory.limit_in_bytes,
// memory.stat total_inactive_file, memory.oom_control), else /proc/meminfo when there is
// no limit. The working set (usage minus inactive file pages) is what gets compared with
// the thresholds: page cache is reclaimable and would otherwise page someone at 2am.
// Reads small files only, so it runs on the loop.

#include "config/config.h"
#include "probes/probe.h"

namespace covet::probes {

class MemoryProbe final : public Probe {
 public:
  explicit MemoryProbe(config::MemoryProbeConfig config);
  void start(Completion done) override;
  void cancel() override {}

  ProbeResult check_now() const;

 private:
  config::MemoryProbeConfig config_;
};

}  // namespace covet::probes
