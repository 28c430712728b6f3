#pragma once
// TCP probe: connect to host:port and close at once. "Is anything accepting there": the
// cheapest liveness check for an app that has no health endpoint. A host name is resolved
// on every check (uv_getaddrinfo, on libuv's thread pool), so a moved service is followed.

#include <uv.h>

#include "config/config.h"
#include "config/host_port.h"
#include "probes/probe.h"

namespace covet::probes {

class TcpProbe final : public Probe {
 public:
  TcpProbe(uv_loop_t* loop, config::TcpProbeConfig config);
  // Abandons a check in flight; its handles close (and free) on the loop after we are gone.
  ~TcpProbe() override;
  TcpProbe(const TcpProbe&) = delete;
  TcpProbe& operator=(const TcpProbe&) = delete;

  void start(Completion done) override;
  void cancel() override;

 private:
  struct Attempt;
  void finish(ProbeResult result);

  uv_loop_t* loop_;
  config::TcpProbeConfig config_;
  config::HostPort target_;       // port 0 when the address does not parse (the loader rejects it)
  Attempt* in_flight_ = nullptr;  // owns itself; points back here until finished or abandoned
  Completion done_;
};

}  // namespace covet::probes
