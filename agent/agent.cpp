#include "agent/agent.h"

#include <fmt/format.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cassert>
#include <csignal>

#include "agent/heap.h"
#include "agent/process_metrics.h"
#include "config/duration.h"
#include "covet/version.h"
#include "probes/factory.h"

namespace covet {
namespace {

constexpr std::uint64_t kRefreshIntervalMs = 1000;
// How often memory that traffic no longer needs goes back to the kernel: often enough that
// resident memory falls back within seconds of a burst, rarely enough that traffic which
// keeps coming keeps its buffers (and malloc_trim's walk of the heap costs nothing).
constexpr std::uint64_t kMemoryReleaseIntervalMs = 5000;
// After grace_period the loop is stopped even if something (a statvfs stuck in the thread
// pool on a dead NFS mount) still holds it open.
constexpr std::uint64_t kHardStopSlackMs = 1000;

template <typename Handle>
uv_handle_t* as_handle(Handle* h) {
  return reinterpret_cast<uv_handle_t*>(h);
}

}  // namespace

Agent::Agent(config::Config config, Logger& log, const Clock& clock)
    : config_(std::move(config)),
      log_(log),
      model_(clock),
      endpoints_(model_, clock, kVersion),
      registry_(std::make_shared<prometheus::Registry>()),
      probe_metrics_(*registry_) {
  uv_loop_init(&loop_);
}

Agent::~Agent() {
  assert(open_handles_ == 0 && "Agent destroyed with handles open");
  // Every handle was closed by run(). uv_loop_close fails with EBUSY only when a job is
  // still stuck in the thread pool; the process is exiting then, so it is left to the OS.
  uv_loop_close(&loop_);
}

std::vector<prometheus::MetricFamily> Agent::agent_families() const {
  std::vector<prometheus::MetricFamily> families;
  auto info = metrics::gauge_family("covet_sidecar_build_info",
                                    "Always 1; the labels say which build is running.", 1);
  info.metric[0].label = {{"version", kVersion}, {"revision", kGitRevision}};
  families.push_back(std::move(info));
  families.push_back(metrics::gauge_family("covet_sidecar_draining",
                                           "1 after SIGTERM while the agent drains, else 0.",
                                           model_.draining() ? 1 : 0));
  // What /health/ready and /health/live answer now (1: 200, 0: 503): readiness flapping is
  // an alert on this, which no per-probe series can say (roles are not labels).
  families.push_back(
      metrics::gauge_family("covet_sidecar_ready", "1 while /health/ready answers 200, else 0.",
                            model_.evaluate(health::Endpoint::readiness, {}).ok ? 1 : 0));
  families.push_back(
      metrics::gauge_family("covet_sidecar_live", "1 while /health/live answers 200, else 0.",
                            model_.evaluate(health::Endpoint::liveness, {}).ok ? 1 : 0));
  if (server_) {
    const http::ServerStats& stats = server_->stats();
    families.push_back(metrics::counter_family("covet_sidecar_http_requests_total",
                                               "HTTP requests answered.", stats.requests));
    families.push_back(metrics::counter_family("covet_sidecar_http_connections_accepted_total",
                                               "HTTP connections accepted.",
                                               stats.connections_accepted));
    families.push_back(metrics::counter_family(
        "covet_sidecar_http_connections_rejected_total",
        "HTTP connections closed at once because server.max_connections were open.",
        stats.connections_rejected));
    families.push_back(metrics::counter_family(
        "covet_sidecar_http_bad_requests_total",
        "Requests refused as malformed or over a limit (400, 413, 431, 505).", stats.bad_requests));
    families.push_back(metrics::counter_family("covet_sidecar_http_timeouts_total",
                                               "Connections cut by the idle or request timeout.",
                                               stats.timeouts));
    families.push_back(metrics::gauge_family("covet_sidecar_http_open_connections",
                                             "HTTP connections open now.",
                                             static_cast<double>(server_->open_connections())));
  }
  return families;
}

int Agent::run() {
  // A peer that closes mid-response must cost us an EPIPE, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  notifier_ = std::make_unique<ServiceNotifier>(&loop_, log_);

  scheduler_ = std::make_unique<probes::Scheduler>(
      &loop_,
      [this](std::size_t index, probes::ProbeResult result) {
        on_probe_result(index, std::move(result));
      },
      static_cast<std::uint32_t>(uv_hrtime()));
  for (const config::ProbeConfig& probe : config_.probes) {
    health::CheckSpec spec{probe.name,
                           probe.type,
                           probe.roles,
                           probe.interval,
                           probe.failure_threshold,
                           probe.success_threshold};
    const std::size_t index = model_.add_check(spec);
    probe_metrics_.add_probe(probe.name, probe.type);
    scheduler_->add(index, probes::make_probe(&loop_, probe), probe.interval, probe.timeout);
  }

  scraper_ = std::make_unique<scrape::Scraper>(&loop_, config_.scrape, log_);
  exposition_.add(registry_);
  exposition_.add(probe_metrics_.readings());
  exposition_.add(std::make_shared<ProcessMetrics>());
  exposition_.add(
      std::make_shared<metrics::CallbackCollector>([this] { return agent_families(); }));
  exposition_.add(
      std::make_shared<metrics::CallbackCollector>([this] { return scraper_->families(); }));

  metrics_endpoint_ = std::make_unique<MetricsEndpoint>(exposition_, *scraper_);
  router_ = std::make_unique<AgentRouter>(endpoints_, *metrics_endpoint_);
  http::ServerLimits limits;
  limits.max_connections = config_.server.max_connections;
  limits.idle_timeout = config_.server.idle_timeout;
  limits.request_timeout = config_.server.request_timeout;
  server_ = std::make_unique<http::Server>(&loop_, *router_, limits, log_);

  for (uv_timer_t* timer : {&refresh_timer_, &drain_timer_, &grace_timer_, &memory_timer_}) {
    uv_timer_init(&loop_, timer);
    timer->data = this;
    ++open_handles_;
  }
  for (uv_signal_t* signal : {&sigterm_, &sigint_}) {
    uv_signal_init(&loop_, signal);
    signal->data = this;
    ++open_handles_;
  }

  // The trace receivers listen before the health endpoints: once /health answers (a native
  // sidecar's startupProbe lets the app start on it), spans are accepted too.
  std::string listen_error = start_otlp();
  if (listen_error.empty())
    listen_error = server_->listen(config_.listen.host, config_.listen.port);
  if (!listen_error.empty()) {
    log_.error("cannot start", {{"error", listen_error}});
    close_everything();
    uv_run(&loop_, UV_RUN_DEFAULT);
    return 1;
  }

  uv_signal_start(
      &sigterm_,
      [](uv_signal_t* s, int signum) { static_cast<Agent*>(s->data)->begin_shutdown(signum); },
      SIGTERM);
  uv_signal_start(
      &sigint_,
      [](uv_signal_t* s, int signum) { static_cast<Agent*>(s->data)->begin_shutdown(signum); },
      SIGINT);
  uv_timer_start(
      &refresh_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Agent*>(t->data);
        self->on_transitions(self->model_.refresh());
      },
      kRefreshIntervalMs, kRefreshIntervalMs);
  uv_timer_start(
      &memory_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Agent*>(t->data);
        if (self->pipeline_) self->pipeline_->release_spare_buffers();
        release_free_heap();
      },
      kMemoryReleaseIntervalMs, kMemoryReleaseIntervalMs);

  scheduler_->start();
  const std::string listen_text = fmt::format("{}:{}", config_.listen.host, server_->bound_port());
  const std::string probe_count = std::to_string(config_.probes.size());
  log_.info("covet-sidecar started",
            {{"version", kVersion}, {"listen", listen_text}, {"probes", probe_count}});
  // Ready for systemd means serving: the probes' verdicts are /health's business, and a
  // database that is down must not make the service fail to start.
  notifier_->ready("serving on " + listen_text + ", waiting for the first probe results");

  uv_run(&loop_, UV_RUN_DEFAULT);
  if (hard_stop_armed_) {
    uv_close(as_handle(&hard_stop_timer_), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);  // runs the close callback; never waits on the pool
  }
  log_.info("covet-sidecar stopped");
  return 0;
}

void Agent::on_probe_result(std::size_t index, probes::ProbeResult result) {
  probe_metrics_.observe_run(index, result);
  const auto& check = model_.checks()[index];
  const bool was_failing = check.last.status == probes::Status::failing;
  const bool failing = result.status == probes::Status::failing;
  if (failing && !was_failing && check.consecutive_failures + 1 < check.spec.failure_threshold) {
    // Below the threshold the state holds; say so once, at debug, so a flapping dependency
    // can be diagnosed without paging anyone.
    log_.debug("probe failed below threshold",
               {{"probe", check.spec.name}, {"error", result.error}});
  }
  // Said once when it appears, not every check: a role without a privilege stays so.
  for (const std::string& note : result.notes) {
    if (std::find(check.last.notes.begin(), check.last.notes.end(), note) ==
        check.last.notes.end()) {
      log_.warn("probe metrics degraded", {{"probe", check.spec.name}, {"error", note}});
    }
  }
  // The state metrics change only with a transition, and on_transitions sets them.
  auto transition = model_.record(index, std::move(result));
  if (transition) on_transitions({*transition});
}

void Agent::on_transitions(const std::vector<health::Transition>& transitions) {
  for (const health::Transition& t : transitions) {
    const health::CheckState& check = model_.checks()[t.index];
    probe_metrics_.set_state(t.index, t.to);
    const std::string from{probes::to_string(t.from)};
    const std::string to{probes::to_string(t.to)};
    if (t.to == probes::Status::failing) {
      const std::string error =
          check.stale ? "stale: no result within three intervals" : check.last_error;
      log_.warn("probe state changed", {{"probe", check.spec.name},
                                        {"from", from},
                                        {"to", to},
                                        {"reason", check.stale ? "stale" : check.last.reason},
                                        {"error", error}});
    } else if (t.to == probes::Status::warning) {
      log_.warn(
          "probe state changed",
          {{"probe", check.spec.name}, {"from", from}, {"to", to}, {"warning", check.last.error}});
    } else {
      log_.info("probe state changed", {{"probe", check.spec.name}, {"from", from}, {"to", to}});
    }
  }
  if (!transitions.empty()) log_readiness_change();
}

void Agent::log_readiness_change() {
  const bool ready = model_.evaluate(health::Endpoint::readiness, {}).ok;
  if (last_ready_ == ready) return;
  last_ready_ = ready;
  log_.info(ready ? "ready" : "not ready");
  if (shutting_down_) return;  // STOPPING's status stays
  notifier_->status(ready ? "ready" : "not ready: see /health/ready?verbose");
}

void Agent::begin_shutdown(int signum) {
  const std::string signal_name = signum == SIGTERM ? "SIGTERM" : "SIGINT";
  if (shutting_down_) {
    log_.warn("second signal: shutting down now", {{"signal", signal_name}});
    finish_shutdown();
    return;
  }
  shutting_down_ = true;
  model_.set_draining();
  notifier_->stopping("shutting down: draining");
  log_readiness_change();
  log_.info("shutdown started: readiness now fails",
            {{"signal", signal_name},
             {"drain_delay", config::format_duration(config_.shutdown.drain_delay)},
             {"grace_period", config::format_duration(config_.shutdown.grace_period)}});
  uv_timer_start(
      &drain_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Agent*>(t->data);
        self->log_.info("drain delay over: closing the listener, finishing in-flight requests");
        self->drain_pending_ = 2;
        self->server_->drain([self] { self->one_drained(); });
        self->drain_otlp([self] { self->one_drained(); });
      },
      static_cast<std::uint64_t>(config_.shutdown.drain_delay.count()), 0);
  uv_timer_start(
      &grace_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Agent*>(t->data);
        self->log_.warn("grace period over: closing remaining connections",
                        {{"open_connections", std::to_string(self->server_->open_connections())}});
        self->finish_shutdown();
      },
      static_cast<std::uint64_t>(config_.shutdown.grace_period.count()), 0);
}

std::string Agent::start_otlp() {
  if (!config_.otlp.enabled) return {};
  pipeline_ = std::make_unique<otlp::Pipeline>(&loop_, config_.otlp, log_);
  if (std::string error = pipeline_->start(); !error.empty()) return error;
  exposition_.add(
      std::make_shared<metrics::CallbackCollector>([this] { return pipeline_->families(); }));
  constexpr std::chrono::milliseconds kTracesCheckInterval{5000};
  traces_check_ = model_.add_check(
      health::CheckSpec{"traces", "otlp", config_.otlp.check_roles, kTracesCheckInterval, 1, 1});
  probe_metrics_.add_probe("traces", "otlp");
  uv_timer_init(&loop_, &traces_timer_);
  traces_timer_.data = this;
  traces_timer_open_ = true;
  ++open_handles_;
  uv_timer_start(
      &traces_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Agent*>(t->data);
        self->on_probe_result(self->traces_check_, self->pipeline_->check());
      },
      0, static_cast<std::uint64_t>(kTracesCheckInterval.count()));

  if (config_.otlp.http.enabled) {
    otlp_http_router_ =
        std::make_unique<otlp::HttpReceiver>(*pipeline_, config_.otlp.http.max_body_bytes);
    http::ServerLimits limits;
    limits.max_connections = config_.server.max_connections;
    limits.idle_timeout = config_.server.idle_timeout;
    // A 20 MiB body over a slow link takes longer than a health check may.
    limits.request_timeout =
        std::max(config_.server.request_timeout, std::chrono::milliseconds(30000));
    otlp_http_server_ = std::make_unique<http::Server>(&loop_, *otlp_http_router_, limits, log_);
    const config::ListenAddress& at = config_.otlp.http.listen;
    if (std::string error = otlp_http_server_->listen(at.host, at.port); !error.empty()) {
      return "otlp.http: " + error;
    }
    log_.info("OTLP/HTTP receiver listening",
              {{"listen", fmt::format("{}:{}", at.host, otlp_http_server_->bound_port())}});
  }
  if (config_.otlp.grpc.enabled) {
    otlp::GrpcLimits limits;
    limits.max_message_bytes = config_.otlp.grpc.max_body_bytes;
    limits.max_connections = config_.server.max_connections;
    limits.idle_timeout = config_.server.idle_timeout;
    // Each stream may buffer a whole message: this bounds one connection's memory too.
    limits.max_concurrent_streams = 16;
    otlp_grpc_ = std::make_unique<otlp::GrpcReceiver>(&loop_, *pipeline_, limits, log_);
    const config::ListenAddress& at = config_.otlp.grpc.listen;
    if (std::string error = otlp_grpc_->listen(at.host, at.port); !error.empty()) {
      return "otlp.grpc: " + error;
    }
    log_.info("OTLP/gRPC receiver listening",
              {{"listen", fmt::format("{}:{}", at.host, otlp_grpc_->bound_port())}});
  }
  return {};
}

void Agent::drain_otlp(std::function<void()> done) {
  if (!pipeline_) {
    done();
    return;
  }
  // The queues are flushed once both receivers have answered their last request.
  auto receivers = std::make_shared<int>(1 + (otlp_http_server_ ? 1 : 0) + (otlp_grpc_ ? 1 : 0));
  auto one_closed = [this, receivers, done = std::move(done)]() mutable {
    if (--*receivers > 0) return;
    log_.info("OTLP receivers closed: sending what is queued");
    pipeline_->flush(std::move(done));
  };
  if (otlp_http_server_) otlp_http_server_->drain(one_closed);
  if (otlp_grpc_) otlp_grpc_->drain(one_closed);
  one_closed();
}

void Agent::one_drained() {
  if (--drain_pending_ == 0) finish_shutdown();
}

void Agent::finish_shutdown() {
  if (closing_) return;
  close_everything();
  // Every handle is closing now. If the thread pool still holds a job (a hung statvfs),
  // uv_run would wait for it forever: stop the loop after a short slack instead.
  uv_timer_init(&loop_, &hard_stop_timer_);
  hard_stop_timer_.data = this;
  hard_stop_armed_ = true;
  uv_timer_start(
      &hard_stop_timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Agent*>(t->data);
        self->log_.warn("work still pending after shutdown: stopping the loop");
        uv_stop(&self->loop_);
      },
      kHardStopSlackMs, 0);
  // Unreferenced: this timer alone must not keep the loop running.
  uv_unref(as_handle(&hard_stop_timer_));
}

void Agent::close_everything() {
  closing_ = true;
  auto on_closed = [](uv_handle_t* h) { --static_cast<Agent*>(h->data)->open_handles_; };
  for (uv_timer_t* timer : {&refresh_timer_, &drain_timer_, &grace_timer_, &memory_timer_}) {
    uv_timer_stop(timer);
    uv_close(as_handle(timer), on_closed);
  }
  for (uv_signal_t* signal : {&sigterm_, &sigint_}) {
    uv_signal_stop(signal);
    uv_close(as_handle(signal), on_closed);
  }
  if (traces_timer_open_) {
    traces_timer_open_ = false;
    uv_timer_stop(&traces_timer_);
    uv_close(as_handle(&traces_timer_), on_closed);
  }
  if (otlp_http_server_) otlp_http_server_->close(nullptr);
  if (otlp_grpc_) otlp_grpc_->close(nullptr);
  if (pipeline_) pipeline_->close(nullptr);
  if (scheduler_) scheduler_->close(nullptr);
  if (server_) server_->close(nullptr);
  if (scraper_) scraper_->close(nullptr);
  if (notifier_) notifier_->close(nullptr);
}

}  // namespace covet
