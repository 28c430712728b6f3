#include "exporters/otlp/pipeline.h"

#include <fmt/format.h>
#include <prometheus/metric_family.h>

#include <algorithm>
#include <limits>

#include "agent/logging.h"

namespace covet::otlp {
namespace {

using Labels = std::vector<prometheus::ClientMetric::Label>;

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add_counter(prometheus::MetricFamily& f, Labels labels, double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = value;
  f.metric.push_back(std::move(m));
}

void add_gauge(prometheus::MetricFamily& f, Labels labels, double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

// A queue this full is worth a warning before it starts refusing or dropping.
constexpr double kWarnFill = 0.8;
// An export failure this recent still shows in the check.
constexpr auto kRecentFailure = std::chrono::minutes(1);
// Memory of exported requests kept for the next ones (see buffer_pool.h): always a 4 MiB
// batch's worth, and under load as much as the largest queue has free (the memory a full
// queue holds anyway), until release_spare_buffers().
constexpr std::size_t kSpareBufferFloorBytes = 4 * 1024 * 1024;
// How long a request may wait for room in a full queue before it is answered 503. Half a
// second: a sender told 503 waits a whole Retry-After second, and a 4 MiB batch leaves the
// queue in milliseconds while the destination keeps up. How many bytes of requests may
// wait at once: an eighth of the smallest queue that pushes back, kept free in each such
// queue (has_room), so that a queue and the requests waiting to enter it hold no more
// than its max_bytes together.
// Not less: a waiting request holds its connection, so its sender sends nothing more,
// while one refused at once may be sent again at once (by a sender that ignores
// Retry-After), and reading it again costs about as much as taking it. With a 4 MiB cap, 16
// connections sending 288 KB requests into the default 64 MiB queue had two refused at once over
// and over: 12% of the requests answered 503, their bodies read for nothing (bench/otlp.sh).
constexpr std::uint64_t kAdmissionWaitMs = 500;

// What a request takes in a queue, allowing for the attributes enrichment may add.
std::size_t queued_size_estimate(std::size_t request_bytes, std::size_t attributes) {
  return request_bytes + 64 * attributes;
}

std::size_t largest_queue_bytes(const config::OtlpConfig& config) {
  std::uint64_t largest = 0;
  for (const config::OtlpExporterConfig& exporter : config.exporters) {
    largest = std::max(largest, exporter.queue_max_bytes);
  }
  return static_cast<std::size_t>(largest);
}

}  // namespace

Pipeline::Pipeline(uv_loop_t* loop, const config::OtlpConfig& config, Logger& log)
    : config_(config),
      log_(log),
      buffers_(BufferPool::create(kSpareBufferFloorBytes, largest_queue_bytes(config))),
      multi_(loop),
      loop_(loop) {
  uv_timer_init(loop_, &wait_timer_);
  wait_timer_.data = this;
  for (const auto& [key, value] : config_.resource) {
    if (!value.empty()) resource_.emplace_back(key, value);
  }
  std::uint64_t seed = uv_hrtime();
  for (const config::OtlpExporterConfig& exporter : config_.exporters) {
    destinations_.push_back(std::make_unique<Destination>(loop, multi_, exporter, log_, seed++));
  }
  bool pushes_back = false;
  std::size_t budget = std::numeric_limits<std::size_t>::max();
  for (const auto& destination : destinations_) {
    if (destination->on_full() != config::OnFull::backpressure || destination->spooled()) continue;
    pushes_back = true;
    budget = std::min(budget, static_cast<std::size_t>(destination->max_bytes() / 8));
    // Requests leaving a queue may let the first waiting one in, on the next loop turn
    // (not from inside the destination's own callback).
    destination->on_room([this] {
      if (!waiting_.empty()) uv_timer_start(&wait_timer_, &Pipeline::on_wait_timer, 0, 0);
    });
  }
  waiting_budget_ = pushes_back ? budget : 0;
  for (std::string_view protocol : {protocol_grpc, protocol_http_protobuf, protocol_http_json}) {
    received_spans_[std::string(protocol)] = 0;
  }
  // Every reason is exported from the start, at 0; a receiver's own reasons
  // (unsupported_encoding, unimplemented) join when they first occur.
  for (std::string_view reason :
       {"invalid", "queue_full", "too_large", "malformed", "unsupported_media_type", "shutdown"}) {
    refused_spans_[std::string(reason)] = 0;
    refused_requests_[std::string(reason)] = 0;
  }
}

Pipeline::~Pipeline() = default;

void Pipeline::count_refused(std::string_view reason, std::uint64_t spans) {
  refused_spans_[std::string(reason)] += spans;
  ++refused_requests_[std::string(reason)];
}

void Pipeline::refused_request(std::string_view reason) { count_refused(reason, 0); }

// With room for one ResourceSpans' enrichment (the SDKs send one), so that the same
// buffers serve as received and as enriched requests when they are recycled.
std::size_t Pipeline::buffer_bytes(std::size_t request_bytes) const {
  return resource_.empty() ? request_bytes : enriched_size_bound(request_bytes, 1, resource_);
}

std::string Pipeline::buffer(std::size_t bytes) { return buffers_->take(buffer_bytes(bytes)); }

std::string Pipeline::buffer_to_overwrite(std::size_t bytes) {
  return buffers_->take_for_overwrite(buffer_bytes(bytes));
}

void Pipeline::release_spare_buffers() {
  buffers_->trim();
  for (const auto& destination : destinations_) destination->release_idle_memory();
}

std::size_t Pipeline::waiting_reserve(const Destination& destination) const {
  const bool keeps_waiting_budget =
      destination.on_full() == config::OnFull::backpressure && !destination.spooled();
  return keeps_waiting_budget ? waiting_budget_ : 0;
}

bool Pipeline::has_room(const Destination& destination, std::size_t bytes) const {
  return destination.fits(bytes + waiting_reserve(destination));
}

const Destination* Pipeline::full_destination(std::size_t request_bytes) const {
  const std::size_t bytes = queued_size_estimate(request_bytes, resource_.size());
  for (const auto& destination : destinations_) {
    if (destination->on_full() == config::OnFull::backpressure && !has_room(*destination, bytes)) {
      return destination.get();
    }
  }
  return nullptr;
}

void Pipeline::refuse(std::string request, const Done& done, std::string_view reason,
                      std::uint64_t spans, std::string message) {
  count_refused(reason, spans);
  buffers_->give_back(std::move(request));
  done(Admission{Admission::Outcome::full, std::move(message), 0, std::chrono::seconds(1)});
}

void Pipeline::refuse_full(std::string request, const Done& done) {
  const Destination* full = full_destination(request.size());
  refuse(std::move(request), done, "queue_full", 0,
         full != nullptr ? "queue full for destination " + full->name() + ": retry later"
                         : "queue full: retry later");
}

void Pipeline::submit(std::string request, std::string_view protocol, Done done) {
  // Backpressure is all or nothing: a request is queued for every destination or refused.
  // It is decided before the request is validated, so that under overload a 503 costs less
  // than an acceptance.
  if (waiting_.empty() && full_destination(request.size()) == nullptr) {
    admit(std::move(request), protocol, std::move(done));
    return;
  }
  if (!abandoned_ && waiting_bytes_ + request.size() <= waiting_budget_) {
    waiting_bytes_ += request.size();
    waiting_.push_back(
        Waiting{std::move(request), protocol, std::move(done), uv_now(loop_) + kAdmissionWaitMs});
    if (waiting_.size() == 1) {
      uv_timer_start(&wait_timer_, &Pipeline::on_wait_timer, kAdmissionWaitMs, 0);
    }
    return;
  }
  refuse_full(std::move(request), done);
}

void Pipeline::on_wait_timer(uv_timer_t* timer) {
  static_cast<Pipeline*>(timer->data)->serve_waiting();
}

void Pipeline::serve_waiting() {
  while (!waiting_.empty()) {
    Waiting& front = waiting_.front();
    const bool fits = !abandoned_ && full_destination(front.request.size()) == nullptr;
    const bool expired = abandoned_ || uv_now(loop_) >= front.deadline_ms;
    if (!fits && !expired) break;
    Waiting waiting = std::move(front);
    waiting_.pop_front();
    waiting_bytes_ -= waiting.request.size();
    if (fits) {
      admit(std::move(waiting.request), waiting.protocol, std::move(waiting.done));
    } else if (abandoned_) {
      refuse(std::move(waiting.request), waiting.done, "shutdown", 0, "shutting down");
    } else {
      refuse_full(std::move(waiting.request), waiting.done);
    }
  }
  if (waiting_.empty()) {
    uv_timer_stop(&wait_timer_);
    return;
  }
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t deadline = waiting_.front().deadline_ms;
  uv_timer_start(&wait_timer_, &Pipeline::on_wait_timer, deadline > now ? deadline - now : 0, 0);
}

void Pipeline::admit(std::string request, std::string_view protocol, Done done) {
  const ValidationResult valid = validate_export_request(request);
  if (!valid.ok) {
    count_refused("invalid", valid.spans);
    buffers_->give_back(std::move(request));
    done(Admission{Admission::Outcome::invalid, valid.error, 0, {}});
    return;
  }
  if (abandoned_) {
    // After the grace period nothing leaves any more: the sender should go elsewhere.
    refuse(std::move(request), done, "shutdown", valid.spans, "shutting down");
    return;
  }
  if (const auto counter = received_spans_.find(protocol); counter != received_spans_.end()) {
    counter->second += valid.spans;
  }
  if (valid.spans == 0) {
    buffers_->give_back(std::move(request));
    done(Admission{});
    return;
  }
  std::shared_ptr<const std::string> shared;
  if (resource_.empty()) {
    shared = buffers_->share(std::move(request));
  } else {
    const std::size_t room = enriched_size_bound(request.size(), valid.resource_spans, resource_);
    shared = buffers_->share(enrich_resources(request, resource_, buffers_->take(room)));
    buffers_->give_back(std::move(request));
  }
  // Answered once every destination holds the request (in memory at once; on disk after a
  // spool write).
  struct Pending {
    std::size_t waiting = 0;
    std::size_t dropped_everywhere = 0;
    bool failed = false;
    Done done;
  };
  auto pending = std::make_shared<Pending>();
  pending->waiting = destinations_.size();
  pending->dropped_everywhere = valid.spans;
  pending->done = std::move(done);
  for (const auto& destination : destinations_) {
    destination->offer(shared, static_cast<std::uint32_t>(valid.spans),
                       [pending](std::optional<std::size_t> dropped) {
                         if (!dropped) {
                           pending->failed = true;
                         } else {
                           pending->dropped_everywhere =
                               std::min(pending->dropped_everywhere, *dropped);
                         }
                         if (--pending->waiting > 0) return;
                         Admission admission;
                         if (pending->failed) {
                           // A spool write failed: the request is not safe yet, so it is
                           // not acknowledged. (Another destination may send it anyway: a
                           // retry then delivers it twice there, which at-least-once allows.)
                           admission.outcome = Admission::Outcome::full;
                           admission.message = "spool write failed: retry later";
                         } else if (pending->dropped_everywhere > 0) {
                           // drop_newest: the spans are gone, and the sender is told so (a
                           // partial success is not retried).
                           admission.rejected_spans = pending->dropped_everywhere;
                           admission.message = "queue full: spans dropped (on_full: drop_newest)";
                         }
                         pending->done(std::move(admission));
                       });
  }
}

std::string Pipeline::start() {
  for (const auto& destination : destinations_) {
    if (std::string error = destination->open_spool(); !error.empty()) return error;
  }
  return {};
}

void Pipeline::flush(std::function<void()> done) {
  auto remaining = std::make_shared<std::size_t>(destinations_.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  if (destinations_.empty()) {
    (*shared_done)();
    return;
  }
  for (const auto& destination : destinations_) {
    destination->flush([remaining, shared_done] {
      if (--*remaining == 0 && *shared_done) (*shared_done)();
    });
  }
}

void Pipeline::abandon() {
  if (abandoned_) return;
  abandoned_ = true;
  serve_waiting();  // refuses every waiting request: nothing will make room any more
  for (const auto& destination : destinations_) {
    const std::uint64_t lost = destination->abandon();
    if (lost > 0) {
      log_.error("spans lost at shutdown: the grace period ended before they were exported",
                 {{"destination", destination->name()}, {"spans", std::to_string(lost)}});
    }
  }
}

void Pipeline::close(std::function<void()> closed) {
  abandon();
  auto remaining = std::make_shared<std::size_t>(destinations_.size() + 2);
  auto shared_closed = std::make_shared<std::function<void()>>(std::move(closed));
  auto one_closed = [remaining, shared_closed] {
    if (--*remaining == 0 && *shared_closed) (*shared_closed)();
  };
  for (const auto& destination : destinations_) destination->close(one_closed);
  multi_.close(one_closed);
  wait_timer_closed_ = one_closed;
  uv_close(reinterpret_cast<uv_handle_t*>(&wait_timer_),
           [](uv_handle_t* handle) { static_cast<Pipeline*>(handle->data)->wait_timer_closed_(); });
}

std::vector<prometheus::MetricFamily> Pipeline::families() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  auto received = family("covet_sidecar_otlp_received_spans_total",
                         "Spans accepted from the app, by receiver protocol.", MetricType::Counter);
  for (const auto& [protocol, spans] : received_spans_) {
    add_counter(received, {{"protocol", protocol}}, static_cast<double>(spans));
  }
  out.push_back(std::move(received));
  auto refused = family("covet_sidecar_otlp_refused_spans_total",
                        "Spans refused on arrival, by reason (the sender was told; it retries "
                        "queue_full). Requests refused before their spans could be counted "
                        "show in covet_sidecar_otlp_refused_requests_total.",
                        MetricType::Counter);
  auto refused_requests =
      family("covet_sidecar_otlp_refused_requests_total",
             "Export requests refused on arrival, by reason.", MetricType::Counter);
  for (const auto& [reason, spans] : refused_spans_) {
    add_counter(refused, {{"reason", reason}}, static_cast<double>(spans));
  }
  for (const auto& [reason, requests] : refused_requests_) {
    add_counter(refused_requests, {{"reason", reason}}, static_cast<double>(requests));
  }
  out.push_back(std::move(refused));
  out.push_back(std::move(refused_requests));

  auto exported = family("covet_sidecar_otlp_exported_spans_total",
                         "Spans the destination accepted.", MetricType::Counter);
  auto dropped = family("covet_sidecar_otlp_dropped_spans_total",
                        "Spans accepted from the app that will never reach the destination, by "
                        "reason: queue_full (on_full drop_*), rejected (a status not to retry), "
                        "partial_success (the destination refused them), shutdown.",
                        MetricType::Counter);
  auto queue_spans =
      family("covet_sidecar_otlp_queue_spans",
             "Spans queued for the destination, in flight included.", MetricType::Gauge);
  auto queue_bytes =
      family("covet_sidecar_otlp_queue_bytes",
             "Bytes queued for the destination, in flight included.", MetricType::Gauge);
  auto queue_max = family("covet_sidecar_otlp_queue_max_bytes",
                          "The destination's queue bound (queue.max_bytes).", MetricType::Gauge);
  auto spool_bytes =
      family("covet_sidecar_otlp_spool_bytes",
             "Bytes in the destination's disk spool (0 without one).", MetricType::Gauge);
  auto spool_max = family("covet_sidecar_otlp_spool_max_bytes",
                          "The destination's spool budget (spool.max_bytes; 0 without a spool).",
                          MetricType::Gauge);
  auto replayed = family("covet_sidecar_otlp_spool_replayed_spans_total",
                         "Spans found in the spool at start, not acknowledged before the stop: "
                         "sent again, so some may arrive twice (at-least-once).",
                         MetricType::Counter);
  auto retries = family("covet_sidecar_otlp_export_retries_total",
                        "Export attempts that failed and were retried.", MetricType::Counter);
  auto duration =
      family("covet_sidecar_otlp_export_duration_seconds",
             "Time each export attempt took, failed ones included.", MetricType::Histogram);
  for (const auto& destination : destinations_) {
    const Labels labels{{"destination", destination->name()}};
    const DestinationStats& stats = destination->stats();
    add_counter(exported, labels, static_cast<double>(stats.exported_spans));
    for (std::string_view reason : {"queue_full", "rejected", "partial_success", "shutdown"}) {
      const auto found = stats.dropped_spans.find(std::string(reason));
      add_counter(dropped, {{"destination", destination->name()}, {"reason", std::string(reason)}},
                  found == stats.dropped_spans.end() ? 0 : static_cast<double>(found->second));
    }
    if (destination->spooled()) {
      add_counter(dropped, {{"destination", destination->name()}, {"reason", "spool_full"}},
                  static_cast<double>(destination->spool_dropped_spans()));
    }
    add_gauge(queue_spans, labels, static_cast<double>(destination->queued_spans()));
    add_gauge(queue_bytes, labels, static_cast<double>(destination->queued_bytes()));
    add_gauge(queue_max, labels, static_cast<double>(destination->max_bytes()));
    add_gauge(spool_bytes, labels, static_cast<double>(destination->spool_bytes()));
    add_gauge(spool_max, labels, static_cast<double>(destination->spool_max_bytes()));
    add_counter(replayed, labels, static_cast<double>(destination->spool_replayed_spans()));
    add_counter(retries, labels, static_cast<double>(stats.retries));
    prometheus::ClientMetric histogram;
    histogram.label = labels;
    histogram.histogram.sample_count = stats.duration_count;
    histogram.histogram.sample_sum = stats.duration_sum;
    for (std::size_t i = 0; i < kExportDurationBuckets.size(); ++i) {
      histogram.histogram.bucket.push_back({stats.duration_buckets[i], kExportDurationBuckets[i]});
    }
    histogram.histogram.bucket.push_back(
        {stats.duration_count, std::numeric_limits<double>::infinity()});
    duration.metric.push_back(std::move(histogram));
  }
  for (auto* f : {&exported, &dropped, &queue_spans, &queue_bytes, &queue_max, &spool_bytes,
                  &spool_max, &replayed, &retries, &duration}) {
    out.push_back(std::move(*f));
  }
  return out;
}

probes::ProbeResult Pipeline::check() const {
  probes::ProbeResult result;
  result.status = probes::Status::passing;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> problems;
  bool failing = false;
  for (const auto& destination : destinations_) {
    // Against what the queue takes before it refuses: 100% is "full", as the check says.
    const std::uint64_t capacity = destination->max_bytes() - waiting_reserve(*destination);
    const double fill = static_cast<double>(destination->queued_bytes()) /
                        static_cast<double>(std::max<std::uint64_t>(capacity, 1));
    const std::optional<std::chrono::steady_clock::time_point> oldest = destination->oldest();
    const double age = oldest ? std::chrono::duration<double>(now - *oldest).count() : 0.0;
    const DestinationStats& stats = destination->stats();
    const bool recent_failure =
        !stats.last_error.empty() && now - stats.last_failure_at < kRecentFailure;
    const std::string& name = destination->name();
    result.detail.emplace_back(name + ".queue_fill_percent", fmt::format("{:.1f}", fill * 100));
    result.detail.emplace_back(name + ".queued_spans", std::to_string(destination->queued_spans()));
    result.detail.emplace_back(name + ".oldest_span_age_seconds", fmt::format("{:.1f}", age));
    if (destination->spooled()) {
      result.detail.emplace_back(name + ".spool_bytes", std::to_string(destination->spool_bytes()));
    }
    if (recent_failure) result.detail.emplace_back(name + ".last_export_error", stats.last_error);
    // Not ready to take more: refusing (backpressure) or losing (drop_*) the next request.
    if (!has_room(*destination, 1024)) {
      failing = true;
      problems.push_back(fmt::format("{}: queue full ({:.0f}%)", name, fill * 100));
    } else if (fill >= kWarnFill) {
      problems.push_back(fmt::format("{}: queue {:.0f}% full", name, fill * 100));
    } else if (recent_failure) {
      problems.push_back(name + ": export failing: " + stats.last_error);
    }
  }
  if (!problems.empty()) {
    result.status = failing ? probes::Status::failing : probes::Status::warning;
    result.reason = failing ? "queue_full" : "degraded";
    for (const std::string& problem : problems) {
      if (!result.error.empty()) result.error += "; ";
      result.error += problem;
    }
  }
  return result;
}

}  // namespace covet::otlp
