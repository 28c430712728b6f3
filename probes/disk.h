#pragma once
// Disk probe: statvfs on a path (free bytes, percent, free inodes) against warn and fail
// thresholds, plus an optional write check that catches a read-only remount.
//
// statvfs and the write check can block for a long time on a sick network filesystem, so
// they run on libuv's thread pool; the loop never waits on them. A check that is cancelled
// (timeout, shutdown) leaves its job to finish in the pool and discards the result.

#include <uv.h>

#include <memory>

#include "config/config.h"
#include "probes/pool_check.h"
#include "probes/probe.h"

namespace covet::probes {

class DiskProbe final : public Probe {
 public:
  DiskProbe(uv_loop_t* loop, config::DiskProbeConfig config, std::string proc_root = "/proc");
  ~DiskProbe() override;
  void start(Completion done) override;
  void cancel() override;

  // The blocking part, exposed for tests and for `covet-sidecar probe`.
  static ProbeResult check_now(const config::DiskProbeConfig& config, const std::string& proc_root);

 private:
  config::DiskProbeConfig config_;
  std::string proc_root_;
  PoolCheck<ProbeResult> pool_;
};

}  // namespace covet::probes
