#include "agent/health/model.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace covet::health {
namespace {

using namespace std::chrono_literals;
using probes::ProbeResult;
using probes::Status;

ProbeResult result(Status s, std::string error = "") {
  ProbeResult r;
  r.status = s;
  r.error = std::move(error);
  if (s == Status::failing) r.reason = "test";
  return r;
}

class HealthModelTest : public ::testing::Test {
 protected:
  std::size_t add(std::string name, unsigned roles = config::kDefaultRoles,
                  std::uint32_t failure_threshold = 3, std::uint32_t success_threshold = 1) {
    return model.add_check(
        CheckSpec{std::move(name), "disk", roles, 10s, failure_threshold, success_threshold});
  }
  bool ready(std::vector<std::string_view> exclude = {}) {
    return model.evaluate(Endpoint::readiness, exclude).ok;
  }
  bool live() { return model.evaluate(Endpoint::liveness, {}).ok; }
  bool started() { return model.evaluate(Endpoint::startup, {}).ok; }

  testing::FakeClock clock;
  HealthModel model{clock};
};

TEST_F(HealthModelTest, UnknownUntilFirstResultIsNotReadyButAlive) {
  add("db", config::kReadiness | config::kLiveness | config::kStartup);
  EXPECT_EQ(model.checks()[0].effective, Status::unknown);
  EXPECT_FALSE(ready());
  EXPECT_TRUE(live());
  EXPECT_FALSE(started());
}

TEST_F(HealthModelTest, OneSuccessMakesReadyWithDefaultThreshold) {
  auto db = add("db");
  auto t = model.record(db, result(Status::passing));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->from, Status::unknown);
  EXPECT_EQ(t->to, Status::passing);
  EXPECT_TRUE(ready());
  EXPECT_TRUE(started());
}

TEST_F(HealthModelTest, OneBlipDoesNotFlipReadiness) {
  auto db = add("db", config::kDefaultRoles, 3);
  model.record(db, result(Status::passing));
  EXPECT_FALSE(model.record(db, result(Status::failing, "connect: refused")).has_value());
  EXPECT_FALSE(model.record(db, result(Status::failing, "connect: refused")).has_value());
  EXPECT_TRUE(ready());
  EXPECT_EQ(model.checks()[db].consecutive_failures, 2u);
  EXPECT_EQ(model.checks()[db].last_error, "connect: refused");
  auto t = model.record(db, result(Status::failing, "connect: refused"));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, Status::failing);
  EXPECT_FALSE(ready());
}

TEST_F(HealthModelTest, SuccessInBetweenResetsTheFailureCount) {
  auto db = add("db", config::kDefaultRoles, 2);
  model.record(db, result(Status::passing));
  model.record(db, result(Status::failing));
  model.record(db, result(Status::passing));
  model.record(db, result(Status::failing));
  EXPECT_TRUE(ready());
}

TEST_F(HealthModelTest, RecoveryNeedsSuccessThreshold) {
  auto db = add("db", config::kDefaultRoles, 1, 3);
  model.record(db, result(Status::failing));
  EXPECT_FALSE(ready());
  model.record(db, result(Status::passing));
  model.record(db, result(Status::passing));
  EXPECT_FALSE(ready());
  model.record(db, result(Status::passing));
  EXPECT_TRUE(ready());
}

TEST_F(HealthModelTest, WarningCountsAsReadyAndDegradesOverall) {
  auto disk = add("disk");
  model.record(disk, result(Status::warning, "free space 12% below warn threshold 15%"));
  EXPECT_TRUE(ready());
  EXPECT_EQ(model.overall(), Overall::degraded);
  auto verdict = model.evaluate(Endpoint::readiness, {});
  ASSERT_EQ(verdict.lines.size(), 1u);
  EXPECT_EQ(verdict.lines[0].text, "ok (warning: free space 12% below warn threshold 15%)");
}

TEST_F(HealthModelTest, PassingToWarningIsImmediate) {
  auto disk = add("disk", config::kDefaultRoles, 3, 3);
  model.record(disk, result(Status::passing));
  model.record(disk, result(Status::passing));
  model.record(disk, result(Status::passing));
  auto t = model.record(disk, result(Status::warning, "low"));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, Status::warning);
}

TEST_F(HealthModelTest, StaleResultCountsAsFailing) {
  auto db = add("db");  // interval 10s: stale after 30s
  model.record(db, result(Status::passing));
  clock.advance(30s);
  EXPECT_TRUE(model.refresh().empty());
  EXPECT_TRUE(ready());
  clock.advance(1ms);
  auto transitions = model.refresh();
  ASSERT_EQ(transitions.size(), 1u);
  EXPECT_EQ(transitions[0].to, Status::failing);
  EXPECT_FALSE(ready());
  EXPECT_TRUE(model.checks()[db].stale);
  auto verdict = model.evaluate(Endpoint::readiness, {});
  EXPECT_NE(verdict.lines[0].text.find("stale: no result for 30s"), std::string::npos)
      << verdict.lines[0].text;
  // A fresh result ends staleness.
  auto t = model.record(db, result(Status::passing));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->to, Status::passing);
  EXPECT_TRUE(ready());
}

TEST_F(HealthModelTest, CheckThatNeverReportsBecomesStale) {
  add("db");
  clock.advance(31s);
  model.refresh();
  EXPECT_EQ(model.checks()[0].effective, Status::failing);
  EXPECT_EQ(model.overall(), Overall::unhealthy);
}

TEST_F(HealthModelTest, RolesSelectEndpoints) {
  auto live_only = add("app", config::kLiveness, 1);
  auto report_only = add("extra", 0, 1);
  auto ready_only = add("db", config::kReadiness, 1);
  model.record(live_only, result(Status::passing));
  model.record(report_only, result(Status::failing));
  model.record(ready_only, result(Status::passing));
  EXPECT_TRUE(ready());
  EXPECT_TRUE(live());
  EXPECT_TRUE(started());  // no startup checks at all
  // Report-only failing degrades, does not make unhealthy.
  EXPECT_EQ(model.overall(), Overall::degraded);
  model.record(live_only, result(Status::failing, "GET /health/live: 500"));
  EXPECT_FALSE(live());
  EXPECT_TRUE(ready());
  EXPECT_EQ(model.overall(), Overall::unhealthy);
}

TEST_F(HealthModelTest, LivenessNeverDependsOnReadinessChecks) {
  auto db = add("db", config::kReadiness | config::kStartup, 1);
  model.record(db, result(Status::failing));
  EXPECT_TRUE(live());
  EXPECT_TRUE(model.evaluate(Endpoint::liveness, {}).lines.empty());
}

TEST_F(HealthModelTest, StartupLatchesAfterFirstPass) {
  auto db = add("db", config::kStartup | config::kReadiness, 1);
  model.record(db, result(Status::failing));
  EXPECT_FALSE(started());
  model.record(db, result(Status::passing));
  EXPECT_TRUE(started());
  model.record(db, result(Status::failing));
  EXPECT_FALSE(ready());
  EXPECT_TRUE(started());
}

TEST_F(HealthModelTest, StartupWaitsForEveryStartupCheck) {
  auto a = add("a", config::kStartup, 1);
  auto b = add("b", config::kStartup, 1);
  model.record(a, result(Status::passing));
  EXPECT_FALSE(started());
  model.record(b, result(Status::warning, "w"));
  EXPECT_TRUE(started());
}

TEST_F(HealthModelTest, ExcludeSkipsACheck) {
  auto db = add("db", config::kDefaultRoles, 1);
  auto cache = add("cache", config::kDefaultRoles, 1);
  model.record(db, result(Status::passing));
  model.record(cache, result(Status::failing, "connect: refused"));
  EXPECT_FALSE(ready());
  EXPECT_TRUE(ready({"cache"}));
  EXPECT_FALSE(ready({"db"}));
  EXPECT_FALSE(ready({"nonexistent"}));
  auto verdict = model.evaluate(Endpoint::readiness, {"cache"});
  ASSERT_EQ(verdict.lines.size(), 2u);
  EXPECT_TRUE(verdict.lines[1].excluded);
  EXPECT_EQ(verdict.lines[1].text, "excluded: ok");
}

TEST_F(HealthModelTest, DrainingFailsReadinessOnlyAndCannotBeExcluded) {
  auto db = add("db", config::kDefaultRoles | config::kLiveness, 1);
  model.record(db, result(Status::passing));
  model.set_draining();
  EXPECT_FALSE(ready());
  EXPECT_FALSE(ready({"shutdown", "db"}));
  EXPECT_TRUE(live());
  EXPECT_TRUE(started());
}

TEST_F(HealthModelTest, UnknownResultFromAProbeIsTreatedAsFailing) {
  auto db = add("db", config::kDefaultRoles, 1);
  model.record(db, ProbeResult{});
  EXPECT_EQ(model.checks()[db].effective, Status::failing);
  EXPECT_EQ(model.checks()[db].last_error, "probe returned no result");
}

TEST_F(HealthModelTest, GenerationChangesOnEveryResultAndTransition) {
  auto db = add("db");
  const auto g0 = model.generation();
  model.record(db, result(Status::passing));
  const auto g1 = model.generation();
  EXPECT_GT(g1, g0);
  model.refresh();
  EXPECT_EQ(model.generation(), g1);  // nothing changed
  model.set_draining();
  EXPECT_GT(model.generation(), g1);
}

TEST_F(HealthModelTest, OverallHealthyOnlyWhenAllPass) {
  auto a = add("a", config::kDefaultRoles, 1);
  auto b = add("b", config::kDefaultRoles, 1);
  model.record(a, result(Status::passing));
  EXPECT_EQ(model.overall(), Overall::degraded);  // b unknown
  model.record(b, result(Status::passing));
  EXPECT_EQ(model.overall(), Overall::healthy);
  model.record(b, result(Status::failing));
  EXPECT_EQ(model.overall(), Overall::unhealthy);
}

TEST_F(HealthModelTest, SinceChangesOnTransitionOnly) {
  auto db = add("db", config::kDefaultRoles, 1);
  model.record(db, result(Status::passing));
  const auto since = model.checks()[db].since;
  clock.advance(5s);
  model.record(db, result(Status::passing));
  EXPECT_EQ(model.checks()[db].since, since);
  model.record(db, result(Status::failing));
  EXPECT_EQ(model.checks()[db].since, since + 5s);
}

}  // namespace
}  // namespace covet::health
