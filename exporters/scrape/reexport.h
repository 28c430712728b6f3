#pragma once
// What happens to the app's page between parsing it and serving it beside our own metrics:
// the target's rules, its extra labels, the series limit, and the separation from our own
// metric names. Pure functions over a Page, so they run on a pool thread and are unit-tested
// without sockets.
//
// Order: rules (on the app's own labels, so a rule reads like the app's page) → extra
// labels → series limit → name clashes with our families.

#include <cstddef>
#include <memory>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "exporters/scrape/exposition.h"

namespace covet::scrape {

// A target's rules and labels, compiled once from its config and then only read (shared
// with pool threads).
class ReexportPlan {
 public:
  // The loader has checked every regex; one that still fails throws std::regex_error.
  explicit ReexportPlan(const config::ScrapeTargetConfig& target);

  struct Rule {
    config::ScrapeRuleAction action;
    bool has_metric = false;
    std::regex metric;
    std::string label;  // keep/drop by label value; rename_label: the old name
    std::regex value;
    std::string to;
  };

  const std::vector<Rule>& rules() const { return rules_; }
  const std::vector<Label>& extra_labels() const { return extra_labels_; }
  std::size_t max_series() const { return max_series_; }

 private:
  std::vector<Rule> rules_;
  std::vector<Label> extra_labels_;
  std::size_t max_series_;
};

// Our own families at the time of a fetch, in Prometheus-text naming (a counter is named
// `x_total`), to tell the app's families apart from ours.
class OwnNames {
 public:
  explicit OwnNames(const Page& own);

  // The family of ours that the app's family clashes with, or null. `app` is in the naming
  // of `format`.
  const MetricFamily* clash(const MetricFamily& app, Format format) const;
  bool taken(const std::string& name) const { return names_.count(name) != 0; }

 private:
  Page own_;
  std::unordered_map<std::string, const MetricFamily*> names_;  // family and sample names
};

struct ReexportOutcome {
  std::size_t samples_parsed = 0;
  std::size_t samples_kept = 0;      // what is served: on the page and in `merged`
  std::size_t dropped_by_limit = 0;  // past max_series
  std::size_t dropped_by_clash = 0;  // series identical to ours, or a family of another type
  std::vector<std::string> clashing_families;  // their names, for one log line
  // The app's samples of families we export too (process_* from any client library), in
  // Prometheus-text naming, served inside our family of that name: one family per name is
  // all the formats allow. Only when every series differs from ours (an extra label).
  std::vector<MetricFamily> merged;
};

// Applies `plan` to `page` in place and moves the app's share of our families out of it.
ReexportOutcome reexport(Page& page, const ReexportPlan& plan, const OwnNames& own);

// The name Prometheus text gives `app`, a family of a page in `format` (`x_total` for an
// OpenMetrics counter `x`).
std::string text_name(const MetricFamily& app, Format format);

// The samples of `app` (a family of a page in `format`) renamed as Prometheus text names
// them: what merging into our family needs. OpenMetrics `_created` samples are left out.
MetricFamily as_text_family(const MetricFamily& app, Format format);

}  // namespace covet::scrape
