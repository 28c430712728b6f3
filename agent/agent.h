#pragma once
// The running agent: one libuv loop owning the HTTP listener, the probe scheduler, the
// staleness timer and the signal handlers, wired to the health model and the metrics.
//
// Shutdown is a state of the loop. On the first SIGTERM/SIGINT readiness fails at once
// (liveness does not), the listener keeps answering for drain_delay so the endpoints
// controller can take the pod out of Services, then the server drains: no new
// connections, busy ones finish their request. The process exits 0 once drained, or when
// grace_period (counted from the signal) runs out. A second signal skips the waiting.

#include <uv.h>

#include <memory>
#include <optional>

#include "agent/clock.h"
#include "agent/health/endpoints.h"
#include "agent/health/model.h"
#include "agent/http/server.h"
#include "agent/logging.h"
#include "agent/metrics_endpoint.h"
#include "agent/router.h"
#include "agent/service_notifier.h"
#include "config/config.h"
#include "exporters/metrics/exposition.h"
#include "exporters/metrics/probe_metrics.h"
#include "exporters/otlp/grpc_receiver.h"
#include "exporters/otlp/http_receiver.h"
#include "exporters/otlp/pipeline.h"
#include "exporters/scrape/scraper.h"
#include "probes/scheduler.h"

namespace prometheus {
class Registry;
}

namespace covet {

class Agent {
 public:
  Agent(config::Config config, Logger& log, const Clock& clock);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Runs until shut down. Returns the process exit code: 0 after a clean shutdown, 1 when
  // the agent could not start (the reason is logged).
  int run();

 private:
  void on_probe_result(std::size_t index, probes::ProbeResult result);
  void on_transitions(const std::vector<health::Transition>& transitions);
  void log_readiness_change();
  void begin_shutdown(int signum);
  void finish_shutdown();
  void close_everything();
  // OTLP: the pipeline, its receivers and the `traces` check, when otlp: is configured.
  // "" or why a receiver could not listen.
  std::string start_otlp();
  // After the drain delay: receivers stop accepting, then the queues are flushed. Calls
  // `done` once both are finished (at once without OTLP).
  void drain_otlp(std::function<void()> done);
  void one_drained();
  std::vector<prometheus::MetricFamily> agent_families() const;

  config::Config config_;
  Logger& log_;
  uv_loop_t loop_{};
  health::HealthModel model_;
  health::HealthEndpoints endpoints_;
  std::shared_ptr<prometheus::Registry> registry_;
  metrics::ProbeMetrics probe_metrics_;
  metrics::Exposition exposition_;
  std::unique_ptr<scrape::Scraper> scraper_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  std::unique_ptr<AgentRouter> router_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<probes::Scheduler> scheduler_;
  std::unique_ptr<otlp::Pipeline> pipeline_;
  std::unique_ptr<otlp::HttpReceiver> otlp_http_router_;
  std::unique_ptr<http::Server> otlp_http_server_;
  std::unique_ptr<otlp::GrpcReceiver> otlp_grpc_;
  // systemd: READY, STATUS, STOPPING and the watchdog pings; a no-op outside systemd.
  std::unique_ptr<ServiceNotifier> notifier_;
  std::size_t traces_check_ = 0;
  uv_timer_t traces_timer_{};  // feeds the `traces` check; initialized with OTLP only
  bool traces_timer_open_ = false;
  int drain_pending_ = 0;  // the listener and OTLP still draining after the drain delay

  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_timer_t refresh_timer_{};    // staleness: re-evaluate even when no result arrives
  uv_timer_t drain_timer_{};      // drain_delay after the signal
  uv_timer_t grace_timer_{};      // grace_period after the signal
  uv_timer_t memory_timer_{};     // spare buffers and free heap back to the kernel
  uv_timer_t hard_stop_timer_{};  // see finish_shutdown()
  bool hard_stop_armed_ = false;
  int open_handles_ = 0;
  bool shutting_down_ = false;
  bool closing_ = false;
  std::optional<bool> last_ready_;
};

}  // namespace covet
