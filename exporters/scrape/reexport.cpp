#include "exporters/scrape/reexport.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

namespace covet::scrape {
namespace {

using config::ScrapeRuleAction;

bool family_matches(const std::regex& regex, const MetricFamily& family) {
  if (std::regex_match(family.name, regex)) return true;
  const std::string* previous = nullptr;
  for (const Sample& sample : family.samples) {
    // A family's samples share a handful of names (x_bucket, x_sum, x_count): test each once.
    if (previous != nullptr && *previous == sample.name) continue;
    if (std::regex_match(sample.name, regex)) return true;
    previous = &sample.name;
  }
  return false;
}

std::string_view label_value(const Sample& sample, std::string_view name) {
  for (const Label& label : sample.labels) {
    if (label.name == name) return label.value;
  }
  return {};
}

// Keep or drop the samples whose label matches, in the families `rule` applies to.
void filter_series(const ReexportPlan::Rule& rule, Page& page) {
  const bool keep = rule.action == ScrapeRuleAction::keep;
  // An unbounded label repeats its values across families; a regex per distinct value.
  std::unordered_map<std::string, bool> matched;
  auto matches = [&](std::string_view value) {
    auto [it, inserted] = matched.try_emplace(std::string(value), false);
    if (inserted) it->second = std::regex_match(it->first, rule.value);
    return it->second;
  };
  std::erase_if(page.families, [&](MetricFamily& family) {
    if (rule.has_metric && !family_matches(rule.metric, family)) return false;
    if (family.samples.empty()) return false;
    std::erase_if(family.samples, [&](const Sample& sample) {
      return matches(label_value(sample, rule.label)) != keep;
    });
    return family.samples.empty();  // emptied by this rule: nothing left to describe
  });
}

void rename_label(const ReexportPlan::Rule& rule, Page& page) {
  for (MetricFamily& family : page.families) {
    if (rule.has_metric && !family_matches(rule.metric, family)) continue;
    for (Sample& sample : family.samples) {
      auto from = std::find_if(sample.labels.begin(), sample.labels.end(),
                               [&](const Label& l) { return l.name == rule.label; });
      if (from == sample.labels.end()) continue;
      // The renamed label wins over one already named `to`, as a relabelling does.
      std::erase_if(sample.labels, [&](const Label& l) { return l.name == rule.to; });
      from = std::find_if(sample.labels.begin(), sample.labels.end(),
                          [&](const Label& l) { return l.name == rule.label; });
      from->name = rule.to;
    }
  }
}

void apply_rule(const ReexportPlan::Rule& rule, Page& page) {
  if (rule.action == ScrapeRuleAction::rename_label) {
    rename_label(rule, page);
  } else if (!rule.label.empty()) {
    filter_series(rule, page);
  } else {
    const bool keep = rule.action == ScrapeRuleAction::keep;
    std::erase_if(page.families, [&](const MetricFamily& family) {
      return family_matches(rule.metric, family) != keep;
    });
  }
}

bool has_label(const Sample& sample, std::string_view name) {
  return std::any_of(sample.labels.begin(), sample.labels.end(),
                     [&](const Label& l) { return l.name == name; });
}

// The app's label of the same name is kept as exported_NAME (exported_exported_NAME when
// that is taken too), the way Prometheus keeps a scraped label that clashes with a target
// label: nothing the app said is lost, and nothing is overwritten silently.
void add_extra_labels(const std::vector<Label>& extra, Page& page) {
  if (extra.empty()) return;
  for (MetricFamily& family : page.families) {
    for (Sample& sample : family.samples) {
      for (const Label& label : extra) {
        for (Label& existing : sample.labels) {
          if (existing.name != label.name) continue;
          std::string renamed = "exported_" + existing.name;
          while (has_label(sample, renamed)) renamed.insert(0, "exported_");
          existing.name = std::move(renamed);
          break;
        }
        sample.labels.push_back(label);
      }
    }
  }
}

bool grouped_by_series(MetricType type) {
  return type == MetricType::histogram || type == MetricType::summary ||
         type == MetricType::gaugehistogram;
}

// Whether samples `a` and `b` belong to one histogram or summary series: the same labels
// apart from le and quantile.
bool same_series(const Sample& a, const Sample& b) {
  auto skip = [](const Label& l) { return l.name == "le" || l.name == "quantile"; };
  auto ia = a.labels.begin();
  auto ib = b.labels.begin();
  while (true) {
    while (ia != a.labels.end() && skip(*ia)) ++ia;
    while (ib != b.labels.end() && skip(*ib)) ++ib;
    if (ia == a.labels.end() || ib == b.labels.end()) break;
    if (*ia != *ib) return false;
    ++ia;
    ++ib;
  }
  return ia == a.labels.end() && ib == b.labels.end();
}

// Keeps the page up to `limit` samples, in page order, cut between series: a histogram
// missing half its buckets would be a lie, a missing series only a gap. Everything after the
// first series that does not fit is dropped, so the same page is always cut the same way.
std::size_t enforce_limit(std::size_t limit, Page& page) {
  std::size_t kept = 0;
  std::size_t dropped = 0;
  auto family = page.families.begin();
  for (; family != page.families.end(); ++family) {
    std::size_t cut = 0;  // samples of this family that fit
    const std::size_t n = family->samples.size();
    bool full = false;
    while (cut < n) {
      std::size_t end = cut + 1;
      if (grouped_by_series(family->type)) {
        while (end < n && same_series(family->samples[cut], family->samples[end])) ++end;
      }
      if (kept + (end - cut) > limit) {
        full = true;
        break;
      }
      kept += end - cut;
      cut = end;
    }
    if (!full) continue;
    dropped += n - cut;
    family->samples.resize(cut);
    if (cut > 0) ++family;
    break;
  }
  for (auto rest = family; rest != page.families.end(); ++rest) dropped += rest->samples.size();
  page.families.erase(family, page.families.end());
  return dropped;
}

std::vector<Label> sorted_labels(std::vector<Label> labels) {
  std::sort(labels.begin(), labels.end(),
            [](const Label& a, const Label& b) { return a.name < b.name; });
  return labels;
}

bool shares_a_series(const MetricFamily& app, const MetricFamily& ours) {
  for (const Sample& theirs : app.samples) {
    const std::vector<Label> their_labels = sorted_labels(theirs.labels);
    for (const Sample& mine : ours.samples) {
      if (mine.name == theirs.name && sorted_labels(mine.labels) == their_labels) return true;
    }
  }
  return false;
}

std::size_t count_samples(const Page& page) {
  std::size_t n = 0;
  for (const MetricFamily& family : page.families) n += family.samples.size();
  return n;
}

void add_name(std::unordered_map<std::string, const MetricFamily*>& names, std::string name,
              const MetricFamily* family) {
  names.try_emplace(std::move(name), family);
}

}  // namespace

ReexportPlan::ReexportPlan(const config::ScrapeTargetConfig& target)
    : max_series_(target.max_series) {
  for (const config::ScrapeRule& rule : target.rules) {
    Rule compiled;
    compiled.action = rule.action;
    compiled.has_metric = !rule.metric.empty();
    if (compiled.has_metric) compiled.metric = std::regex(rule.metric, std::regex::ECMAScript);
    compiled.label = rule.label;
    if (!rule.label.empty() && rule.action != ScrapeRuleAction::rename_label) {
      compiled.value = std::regex(rule.regex, std::regex::ECMAScript);
    }
    compiled.to = rule.to;
    rules_.push_back(std::move(compiled));
  }
  for (const auto& [name, value] : target.labels) extra_labels_.push_back(Label{name, value});
}

OwnNames::OwnNames(const Page& own) : own_(own) {
  for (const MetricFamily& family : own_.families) {
    add_name(names_, family.name, &family);
    if (family.type == MetricType::counter && family.name.ends_with("_total")) {
      // The name OpenMetrics gives the family.
      add_name(names_, family.name.substr(0, family.name.size() - 6), &family);
    }
    for (const Sample& sample : family.samples) add_name(names_, sample.name, &family);
  }
}

const MetricFamily* OwnNames::clash(const MetricFamily& app, Format format) const {
  auto find = [&](const std::string& name) -> const MetricFamily* {
    auto it = names_.find(name);
    return it == names_.end() ? nullptr : it->second;
  };
  if (const MetricFamily* ours = find(app.name)) return ours;
  if (const MetricFamily* ours = find(text_name(app, format))) return ours;
  const std::string* previous = nullptr;
  for (const Sample& sample : app.samples) {
    if (previous != nullptr && *previous == sample.name) continue;
    if (const MetricFamily* ours = find(sample.name)) return ours;
    previous = &sample.name;
  }
  return nullptr;
}

std::string text_name(const MetricFamily& app, Format format) {
  if (format == Format::openmetrics && app.type == MetricType::counter) return app.name + "_total";
  if (format == Format::openmetrics && app.type == MetricType::info) return app.name + "_info";
  return app.name;
}

MetricFamily as_text_family(const MetricFamily& app, Format format) {
  MetricFamily text;
  text.name = text_name(app, format);
  text.type = app.type;
  text.help = app.help;
  if (format == Format::prometheus_text) {
    text.samples = app.samples;
    return text;
  }
  switch (app.type) {
    case MetricType::info:
      text.type = MetricType::gauge;
      break;
    case MetricType::stateset:
      text.type = MetricType::gauge;
      break;
    default:
      break;
  }
  const std::string created = app.name + "_created";
  for (const Sample& sample : app.samples) {
    if (sample.name != created) text.samples.push_back(sample);
  }
  return text;
}

ReexportOutcome reexport(Page& page, const ReexportPlan& plan, const OwnNames& own) {
  ReexportOutcome outcome;
  outcome.samples_parsed = count_samples(page);
  for (const ReexportPlan::Rule& rule : plan.rules()) apply_rule(rule, page);
  add_extra_labels(plan.extra_labels(), page);
  outcome.dropped_by_limit = enforce_limit(plan.max_series(), page);

  std::erase_if(page.families, [&](const MetricFamily& family) {
    const MetricFamily* ours = own.clash(family, page.format);
    if (ours == nullptr) return false;
    MetricFamily text = as_text_family(family, page.format);
    if (text.name == ours->name && text.type == ours->type && !shares_a_series(text, *ours)) {
      outcome.merged.push_back(std::move(text));
    } else {
      outcome.dropped_by_clash += family.samples.size();
      outcome.clashing_families.push_back(family.name);
    }
    return true;
  });
  outcome.samples_kept = count_samples(page);
  for (const MetricFamily& family : outcome.merged) outcome.samples_kept += family.samples.size();
  return outcome;
}

}  // namespace covet::scrape
