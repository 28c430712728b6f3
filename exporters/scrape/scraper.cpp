#include "exporters/scrape/scraper.h"

#include <array>
#include <string_view>

#include "exporters/scrape/page_pipeline.h"

namespace covet::scrape {
namespace {

// Every failure class a fetch can end in, exported at 0 from the start so a rate() over
// them works before the first failure.
constexpr std::array<std::string_view, 9> kFailureReasons{"timeout",   "refused",  "dns",
                                                          "tls",       "io_error", "http_status",
                                                          "too_large", "parse",    "credentials"};

prometheus::ClientMetric metric_for(const std::string& target) {
  prometheus::ClientMetric metric;
  metric.label.push_back({"target", target});
  return metric;
}

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type) {
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {}};
}

}  // namespace

Scraper::Scraper(uv_loop_t* loop, const std::vector<config::ScrapeTargetConfig>& targets,
                 Logger& log)
    : multi_(loop) {
  for (const config::ScrapeTargetConfig& target : targets) {
    targets_.push_back(std::make_unique<ScrapeTarget>(loop, multi_, target, log));
  }
}

Scraper::~Scraper() {
  for (auto& target : targets_) target->close();
  targets_.clear();  // before the multi they use
}

void Scraper::prepare(Format format, bool gzip, const OwnNamesSource& own,
                      std::function<void()> ready) {
  if (targets_.empty()) {
    ready();
    return;
  }
  // Shared by the targets' callbacks; the last one to come back calls `ready`.
  struct Countdown {
    std::size_t left;
    std::function<void()> ready;
  };
  auto countdown = std::make_shared<Countdown>(Countdown{targets_.size(), std::move(ready)});
  // Built once for all the targets that fetch now, and not at all when none does.
  std::shared_ptr<const OwnNames> built;
  const OwnNamesSource once = [&built, &own] {
    if (!built) built = own();
    return built;
  };
  for (auto& target : targets_) {
    target->prepare(format, gzip, once, [countdown] {
      if (--countdown->left == 0) countdown->ready();
    });
  }
}

void Scraper::merge_into(Page& own) const {
  for (const auto& target : targets_) {
    const ScrapeResult* result = target->result();
    if (result == nullptr || !result->ok) continue;
    for (const MetricFamily& app : result->merged) {
      for (MetricFamily& ours : own.families) {
        if (ours.name != app.name || ours.type != app.type) continue;
        ours.samples.insert(ours.samples.end(), app.samples.begin(), app.samples.end());
        break;
      }
    }
  }
}

void Scraper::append_text(Format format, std::string& out) const {
  for (const auto& target : targets_) {
    const ScrapeResult* result = target->result();
    if (result == nullptr || !result->ok) continue;
    if (const auto& text = result->text_by_format[format_index(format)]) {
      out += *text;
    } else {
      // Only when the pool could not take the conversion.
      out += convert_text(*result->source_text, result->source_format, format);
    }
  }
}

void Scraper::append_gzip(Format format, std::vector<const metrics::DeflateSegment*>& segments,
                          std::vector<metrics::DeflateSegment>& scratch) const {
  scratch.reserve(targets_.size());  // pointers into it must stay valid
  const std::size_t index = format_index(format);
  for (const auto& target : targets_) {
    const ScrapeResult* result = target->result();
    if (result == nullptr || !result->ok) continue;
    if (const auto& segment = result->gzip_by_format[index]) {
      segments.push_back(segment.get());
      continue;
    }
    std::string text;
    const std::shared_ptr<const std::string>& ready = result->text_by_format[index];
    if (!ready) text = convert_text(*result->source_text, result->source_format, format);
    scratch.push_back(metrics::deflate_segment(ready ? *ready : text, 1));
    segments.push_back(&scratch.back());
  }
}

std::vector<prometheus::MetricFamily> Scraper::families() const {
  if (targets_.empty()) return {};
  using prometheus::MetricType;
  auto up = family("covet_sidecar_scrape_up",
                   "1 when the target's last fetch gave a page that is served, else 0.",
                   MetricType::Gauge);
  auto duration = family("covet_sidecar_scrape_duration_seconds",
                         "Time the target's last fetch took, parsing included.", MetricType::Gauge);
  auto samples = family("covet_sidecar_scrape_samples",
                        "Samples of the target served by the last fetch, after rules and limits.",
                        MetricType::Gauge);
  auto failures = family("covet_sidecar_scrape_failures_total",
                         "Fetches of the target that failed, by reason.", MetricType::Counter);
  auto dropped = family("covet_sidecar_scrape_series_dropped_total",
                        "Series of the target left out: past max_series (limit) or named like "
                        "one of the sidecar's own (name_clash).",
                        MetricType::Counter);
  for (const auto& target : targets_) {
    const ScrapeResult* result = target->result();
    const TargetCounters& counters = target->counters();
    auto metric = metric_for(target->name());
    metric.gauge.value = result != nullptr && result->ok ? 1 : 0;
    up.metric.push_back(metric);
    metric.gauge.value = result != nullptr ? result->duration_seconds : 0;
    duration.metric.push_back(metric);
    metric.gauge.value = result != nullptr ? static_cast<double>(result->samples_kept) : 0;
    samples.metric.push_back(metric);
    for (std::string_view reason : kFailureReasons) {
      auto by_reason = metric_for(target->name());
      by_reason.label.push_back({"reason", std::string(reason)});
      auto it = counters.failures_by_reason.find(std::string(reason));
      by_reason.counter.value =
          it == counters.failures_by_reason.end() ? 0 : static_cast<double>(it->second);
      failures.metric.push_back(std::move(by_reason));
    }
    for (auto [reason, count] :
         {std::pair<const char*, std::uint64_t>{"limit", counters.dropped_by_limit},
          {"name_clash", counters.dropped_by_clash}}) {
      auto by_reason = metric_for(target->name());
      by_reason.label.push_back({"reason", reason});
      by_reason.counter.value = static_cast<double>(count);
      dropped.metric.push_back(std::move(by_reason));
    }
  }
  return {std::move(up), std::move(duration), std::move(samples), std::move(failures),
          std::move(dropped)};
}

void Scraper::close(std::function<void()> closed) {
  for (auto& target : targets_) target->close();
  multi_.close(std::move(closed));
}

}  // namespace covet::scrape
