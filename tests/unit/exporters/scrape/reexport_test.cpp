// Re-export of the app's page: rules, extra labels (exported_ on a clash), the series limit
// cutting between series, and the app's families kept apart from ours.

#include "exporters/scrape/reexport.h"

#include <gtest/gtest.h>

#include "exporters/scrape/exposition_parser.h"
#include "exporters/scrape/exposition_writer.h"

namespace covet::scrape {
namespace {

using config::ScrapeRule;
using config::ScrapeRuleAction;
using config::ScrapeTargetConfig;

Page parsed(std::string_view text, Format format = Format::prometheus_text) {
  ParseResult result = parse_exposition(text, format);
  EXPECT_TRUE(result.page.has_value()) << result.error.to_string();
  return result.page ? std::move(*result.page) : Page{};
}

std::string written(const Page& page) {
  std::string out;
  write_families(page, page.format, out);
  return out;
}

// Our families: a process gauge without labels and a counter of our own.
Page own_page() {
  return parsed(
      "# TYPE process_resident_memory_bytes gauge\n"
      "process_resident_memory_bytes 4096\n"
      "# TYPE covet_sidecar_http_requests_total counter\n"
      "covet_sidecar_http_requests_total 3\n");
}

struct Reexported {
  Page page;
  ReexportOutcome outcome;
};

Reexported run(std::string_view text, const ScrapeTargetConfig& target,
               Format format = Format::prometheus_text) {
  Reexported r{parsed(text, format), {}};
  const ReexportPlan plan(target);
  const OwnNames own(own_page());
  r.outcome = reexport(r.page, plan, own);
  return r;
}

ScrapeRule rule(ScrapeRuleAction action, std::string metric, std::string label = "",
                std::string regex = "", std::string to = "") {
  return ScrapeRule{action, std::move(metric), std::move(label), std::move(regex), std::move(to)};
}

constexpr std::string_view kPage =
    "# TYPE http_requests_total counter\n"
    "http_requests_total{route=\"/\",code=\"200\"} 10\n"
    "http_requests_total{route=\"/debug/pprof\",code=\"200\"} 2\n"
    "# TYPE go_goroutines gauge\n"
    "go_goroutines 12\n"
    "# TYPE latency_seconds histogram\n"
    "latency_seconds_bucket{route=\"/\",le=\"0.1\"} 1\n"
    "latency_seconds_bucket{route=\"/\",le=\"+Inf\"} 2\n"
    "latency_seconds_sum{route=\"/\"} 0.3\n"
    "latency_seconds_count{route=\"/\"} 2\n"
    "latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 0\n"
    "latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 1\n"
    "latency_seconds_sum{route=\"/x\"} 0.5\n"
    "latency_seconds_count{route=\"/x\"} 1\n";

TEST(Reexport, WithoutRulesEverySeriesIsServedAsItCame) {
  ScrapeTargetConfig target;
  Reexported r = run(kPage, target);
  EXPECT_EQ(written(r.page), written(parsed(kPage)));
  EXPECT_EQ(r.outcome.samples_parsed, 11u);
  EXPECT_EQ(r.outcome.samples_kept, 11u);
  EXPECT_EQ(r.outcome.dropped_by_limit, 0u);
}

TEST(Reexport, DropAndKeepByMetricActOnWholeFamilies) {
  ScrapeTargetConfig target;
  target.rules = {rule(ScrapeRuleAction::drop, "go_.*")};
  Reexported dropped = run(kPage, target);
  ASSERT_EQ(dropped.page.families.size(), 2u);
  EXPECT_EQ(dropped.page.families[0].name, "http_requests_total");

  // A sample name matches too: `_bucket` names the whole histogram, never half of it.
  target.rules = {rule(ScrapeRuleAction::keep, "latency_seconds_bucket")};
  Reexported kept = run(kPage, target);
  ASSERT_EQ(kept.page.families.size(), 1u);
  EXPECT_EQ(kept.page.families[0].samples.size(), 8u);
}

TEST(Reexport, RegexesAreAnchored) {
  ScrapeTargetConfig target;
  target.rules = {rule(ScrapeRuleAction::drop, "http")};
  EXPECT_EQ(run(kPage, target).page.families.size(), 3u);
}

TEST(Reexport, OpenMetricsCountersAreNamedAsOnTheirSamples) {
  ScrapeTargetConfig target;
  target.rules = {rule(ScrapeRuleAction::drop, "http_requests_total")};
  Reexported r = run(
      "# TYPE http_requests counter\nhttp_requests_total 1\n# TYPE up_ok gauge\nup_ok 1\n# EOF\n",
      target, Format::openmetrics);
  ASSERT_EQ(r.page.families.size(), 1u);
  EXPECT_EQ(r.page.families[0].name, "up_ok");
}

TEST(Reexport, DropAndKeepByLabelValueActOnSeries) {
  ScrapeTargetConfig target;
  target.rules = {rule(ScrapeRuleAction::drop, "", "route", "/debug/.*")};
  Reexported r = run(kPage, target);
  ASSERT_EQ(r.page.families[0].samples.size(), 1u);
  EXPECT_EQ(r.page.families[0].samples[0].value, 10);
  EXPECT_EQ(r.page.families.size(), 3u);  // go_goroutines has no route: "" does not match

  // keep with a metric applies to that family only; a missing label is "".
  target.rules = {rule(ScrapeRuleAction::keep, "latency_seconds", "route", "/x")};
  r = run(kPage, target);
  ASSERT_EQ(r.page.families.size(), 3u);
  EXPECT_EQ(r.page.families[0].samples.size(), 2u);
  EXPECT_EQ(r.page.families[2].samples.size(), 4u);
  EXPECT_EQ(r.page.families[2].samples[0].labels[0].value, "/x");
}

TEST(Reexport, AFamilyEmptiedByALabelRuleIsRemoved) {
  ScrapeTargetConfig target;
  target.rules = {rule(ScrapeRuleAction::drop, "http_requests_total", "code", "200")};
  Reexported r = run(kPage, target);
  ASSERT_EQ(r.page.families.size(), 2u);
  EXPECT_EQ(r.page.families[0].name, "go_goroutines");
}

TEST(Reexport, RenameLabelReplacesAnExistingLabelOfTheNewName) {
  ScrapeTargetConfig target;
  target.rules = {rule(ScrapeRuleAction::rename_label, "", "code", "", "status")};
  Reexported r = run("m{code=\"200\",status=\"old\"} 1\nother{code=\"5\"} 2\n", target);
  EXPECT_EQ(written(r.page),
            "# TYPE m untyped\nm{status=\"200\"} 1\n# TYPE other untyped\nother{status=\"5\"} 2\n");
  target.rules = {rule(ScrapeRuleAction::rename_label, "other", "code", "", "status")};
  r = run("m{code=\"200\"} 1\nother{code=\"5\"} 2\n", target);
  EXPECT_EQ(written(r.page),
            "# TYPE m untyped\nm{code=\"200\"} 1\n# TYPE other untyped\nother{status=\"5\"} 2\n");
}

TEST(Reexport, RulesApplyInOrder) {
  ScrapeTargetConfig target;
  target.rules = {rule(ScrapeRuleAction::rename_label, "", "route", "", "path"),
                  rule(ScrapeRuleAction::drop, "", "path", "/debug/.*")};
  Reexported r = run(kPage, target);
  EXPECT_EQ(r.page.families[0].samples.size(), 1u);
  EXPECT_EQ(r.page.families[0].samples[0].labels[0].name, "path");
}

TEST(Reexport, ExtraLabelsNeverOverwriteTheAppsOwn) {
  ScrapeTargetConfig target;
  target.labels = {{"pod", "web-1"}, {"namespace", "prod"}};
  Reexported r = run("a{pod=\"app-says\",exported_pod=\"x\"} 1\nb 2\n", target);
  EXPECT_EQ(written(r.page),
            "# TYPE a untyped\n"
            "a{exported_exported_pod=\"app-says\",exported_pod=\"x\",pod=\"web-1\",namespace="
            "\"prod\"} 1\n"
            "# TYPE b untyped\nb{pod=\"web-1\",namespace=\"prod\"} 2\n");
}

TEST(Reexport, TheLimitCutsBetweenSeriesAndCountsTheRest) {
  ScrapeTargetConfig target;
  // 3 counter + gauge = 3; the first histogram series (4 samples) would make 7.
  target.max_series = 6;
  Reexported r = run(kPage, target);
  ASSERT_EQ(r.page.families.size(), 2u);
  EXPECT_EQ(r.outcome.dropped_by_limit, 8u);
  EXPECT_EQ(r.outcome.samples_kept, 3u);

  target.max_series = 7;
  r = run(kPage, target);
  ASSERT_EQ(r.page.families.size(), 3u);
  EXPECT_EQ(r.page.families[2].samples.size(), 4u);  // one whole histogram series
  EXPECT_EQ(r.outcome.dropped_by_limit, 4u);

  // The same page is cut the same way every time.
  EXPECT_EQ(written(run(kPage, target).page), written(r.page));
}

TEST(Reexport, TheLimitCountsAfterRules) {
  ScrapeTargetConfig target;
  target.max_series = 3;
  target.rules = {rule(ScrapeRuleAction::drop, "latency_seconds")};
  Reexported r = run(kPage, target);
  EXPECT_EQ(r.outcome.dropped_by_limit, 0u);
  EXPECT_EQ(r.outcome.samples_kept, 3u);
}

TEST(Reexport, AnUnboundedLabelIsCutAtTheLimit) {
  std::string page = "# TYPE hits_total counter\n";
  for (int i = 0; i < 100000; ++i)
    page += "hits_total{endpoint=\"/item/" + std::to_string(i) + "\"} 1\n";
  ScrapeTargetConfig target;
  target.max_series = 1000;
  Reexported r = run(page, target);
  EXPECT_EQ(r.outcome.samples_kept, 1000u);
  EXPECT_EQ(r.outcome.dropped_by_limit, 99000u);
  EXPECT_EQ(r.page.families[0].samples.back().labels[0].value, "/item/999");
}

TEST(Reexport, AnIdenticalSeriesOfOursDropsTheAppsFamily) {
  ScrapeTargetConfig target;
  Reexported r =
      run("# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1e9\n"
          "# TYPE app_up gauge\napp_up 1\n",
          target);
  ASSERT_EQ(r.page.families.size(), 1u);
  EXPECT_EQ(r.page.families[0].name, "app_up");
  EXPECT_EQ(r.outcome.dropped_by_clash, 1u);
  EXPECT_EQ(r.outcome.clashing_families, std::vector<std::string>{"process_resident_memory_bytes"});
  EXPECT_TRUE(r.outcome.merged.empty());
}

TEST(Reexport, ADistinctSeriesOfOurFamilyIsMergedIntoIt) {
  ScrapeTargetConfig target;
  target.labels = {{"container", "app"}};
  Reexported r = run(
      "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1e9\n", target);
  EXPECT_TRUE(r.page.families.empty());
  ASSERT_EQ(r.outcome.merged.size(), 1u);
  EXPECT_EQ(r.outcome.merged[0].name, "process_resident_memory_bytes");
  EXPECT_EQ(r.outcome.merged[0].samples[0].labels, (std::vector<Label>{{"container", "app"}}));
  EXPECT_EQ(r.outcome.samples_kept, 1u);
  EXPECT_EQ(r.outcome.dropped_by_clash, 0u);
}

TEST(Reexport, AnOpenMetricsCounterClashesByItsSampleName) {
  ScrapeTargetConfig target;
  target.labels = {{"container", "app"}};
  Reexported r =
      run("# TYPE covet_sidecar_http_requests counter\ncovet_sidecar_http_requests_total 5\n"
          "covet_sidecar_http_requests_created 1.7e9\n# EOF\n",
          target, Format::openmetrics);
  ASSERT_EQ(r.outcome.merged.size(), 1u);
  EXPECT_EQ(r.outcome.merged[0].name, "covet_sidecar_http_requests_total");
  ASSERT_EQ(r.outcome.merged[0].samples.size(), 1u);  // _created has no place in our family
}

TEST(Reexport, AFamilyOfAnotherTypeUnderOurNameIsDropped) {
  ScrapeTargetConfig target;
  target.labels = {{"container", "app"}};
  Reexported r = run(
      "# TYPE process_resident_memory_bytes counter\nprocess_resident_memory_bytes 1\n", target);
  EXPECT_TRUE(r.page.families.empty());
  EXPECT_TRUE(r.outcome.merged.empty());
  EXPECT_EQ(r.outcome.dropped_by_clash, 1u);
}

TEST(Reexport, AsTextFamilyNamesOpenMetricsTypesTheTextWay) {
  Page page = parsed(
      "# TYPE build info\nbuild_info{version=\"1\"} 1\n"
      "# TYPE jobs counter\njobs_total 3\njobs_created 1.5\n# EOF\n",
      Format::openmetrics);
  MetricFamily info = as_text_family(page.families[0], Format::openmetrics);
  EXPECT_EQ(info.name, "build_info");
  EXPECT_EQ(info.type, MetricType::gauge);
  MetricFamily counter = as_text_family(page.families[1], Format::openmetrics);
  EXPECT_EQ(counter.name, "jobs_total");
  EXPECT_EQ(counter.samples.size(), 1u);
}

}  // namespace
}  // namespace covet::scrape
