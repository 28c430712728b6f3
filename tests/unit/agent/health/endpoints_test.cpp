#include "agent/health/endpoints.h"

#include <gtest/gtest.h>

#include "agent/health/render.h"
#include "tests/support/fake_clock.h"

namespace covet::health {
namespace {

using namespace std::chrono_literals;
using probes::Status;

probes::ProbeResult result(Status s, std::string error = "") {
  probes::ProbeResult r;
  r.status = s;
  r.error = std::move(error);
  r.latency = 1500us;
  return r;
}

class EndpointsTest : public ::testing::Test {
 protected:
  EndpointsTest() {
    db = model.add_check(CheckSpec{"db", "postgres", config::kDefaultRoles, 10s, 1, 1});
    cache = model.add_check(CheckSpec{"cache", "redis", config::kDefaultRoles, 10s, 1, 1});
  }
  testing::FakeClock clock;
  HealthModel model{clock};
  HealthEndpoints endpoints{model, clock, "1.2.3"};
  std::size_t db, cache;
};

TEST_F(EndpointsTest, QueryParsing) {
  auto q = parse_endpoint_query("verbose&exclude=db&exclude=cache&x=y");
  EXPECT_TRUE(q.verbose);
  ASSERT_EQ(q.exclude.size(), 2u);
  EXPECT_EQ(q.exclude[0], "db");
  EXPECT_EQ(q.exclude[1], "cache");
  EXPECT_FALSE(parse_endpoint_query("verbose=0").verbose);
  EXPECT_TRUE(parse_endpoint_query("verbose=1").verbose);
  EXPECT_TRUE(parse_endpoint_query("exclude=").exclude.empty());
  EXPECT_FALSE(parse_endpoint_query("").verbose);
}

TEST_F(EndpointsTest, ShortAnswersAndStatusCodes) {
  auto reply = endpoints.probe_endpoint(Endpoint::readiness, "");
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->body,
            "[-]db unknown: no result yet\n[-]cache unknown: no result yet\nready check failed\n");
  model.record(db, result(Status::passing));
  model.record(cache, result(Status::failing, "connect 127.0.0.1:6379: connection refused"));
  reply = endpoints.probe_endpoint(Endpoint::readiness, "");
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->body,
            "[-]cache failed: connect 127.0.0.1:6379: connection refused\nready check failed\n");
  model.record(cache, result(Status::passing));
  reply = endpoints.probe_endpoint(Endpoint::readiness, "");
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "ok\n");
  EXPECT_NE(reply->head.find("Content-Length: 3\r\n"), std::string::npos);
}

TEST_F(EndpointsTest, CachedReplyIsReusedUntilTheModelChanges) {
  model.record(db, result(Status::passing));
  model.record(cache, result(Status::passing));
  auto first = endpoints.probe_endpoint(Endpoint::readiness, "");
  auto second = endpoints.probe_endpoint(Endpoint::readiness, "");
  EXPECT_EQ(first.get(), second.get());
  model.record(cache, result(Status::failing, "boom"));
  auto third = endpoints.probe_endpoint(Endpoint::readiness, "");
  EXPECT_NE(third.get(), first.get());
  EXPECT_EQ(third->status, 503);
}

TEST_F(EndpointsTest, VerboseAndExclude) {
  model.record(db, result(Status::passing));
  model.record(cache, result(Status::failing, "connect: refused"));
  auto reply = endpoints.probe_endpoint(Endpoint::readiness, "verbose");
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->body, "[+]db ok\n[-]cache failed: connect: refused\nready check failed\n");
  reply = endpoints.probe_endpoint(Endpoint::readiness, "verbose&exclude=cache");
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "[+]db ok\n[+]cache excluded: ok\nready check passed\n");
  reply = endpoints.probe_endpoint(Endpoint::readiness, "exclude=cache");
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "ok\n");
}

TEST_F(EndpointsTest, LivenessWithNoLivenessChecksIsOk) {
  auto reply = endpoints.probe_endpoint(Endpoint::liveness, "verbose");
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "live check passed\n");
}

TEST_F(EndpointsTest, DrainingShowsInReadiness) {
  model.record(db, result(Status::passing));
  model.record(cache, result(Status::passing));
  model.set_draining();
  auto reply = endpoints.probe_endpoint(Endpoint::readiness, "");
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->body,
            "[-]shutdown failed: draining, the process is shutting down\nready check failed\n");
  EXPECT_EQ(endpoints.probe_endpoint(Endpoint::liveness, "")->status, 200);
}

TEST_F(EndpointsTest, SummaryJson) {
  probes::ProbeResult r = result(Status::passing);
  r.detail = {{"free_percent", "41.2"}, {"quote", "a\"b"}};
  model.record(db, r);
  clock.advance(2500ms);
  model.record(cache, result(Status::failing, "connect: refused"));
  auto reply = endpoints.summary();
  EXPECT_EQ(reply->status, 503);
  EXPECT_NE(reply->head.find("Content-Type: application/json"), std::string::npos);
  const std::string& body = reply->body;
  EXPECT_NE(body.find("\"status\":\"unhealthy\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"version\":\"1.2.3\""), std::string::npos);
  EXPECT_NE(body.find("\"uptime_seconds\":2.500"), std::string::npos) << body;
  EXPECT_NE(body.find("\"timestamp\":\"2026-11-24T00:00:02.500Z\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"db\":{\"type\":\"postgres\",\"status\":\"passing\""), std::string::npos);
  EXPECT_NE(body.find("\"latency_seconds\":0.001500"), std::string::npos);
  EXPECT_NE(body.find("\"detail\":{\"free_percent\":\"41.2\",\"quote\":\"a\\\"b\"}"),
            std::string::npos)
      << body;
  EXPECT_NE(
      body.find(
          "\"last_error\":{\"message\":\"connect: refused\",\"at\":\"2026-11-24T00:00:02.500Z\"}"),
      std::string::npos)
      << body;
  EXPECT_NE(body.find("\"roles\":[\"readiness\",\"startup\"]"), std::string::npos);
  model.record(cache, result(Status::passing));
  reply = endpoints.summary();
  EXPECT_EQ(reply->status, 200);
  EXPECT_NE(reply->body.find("\"status\":\"healthy\""), std::string::npos);
}

TEST(Rfc3339, FormatsMilliseconds) {
  std::chrono::system_clock::time_point t{std::chrono::sys_days{std::chrono::year{2026} / 1 / 2}};
  EXPECT_EQ(format_rfc3339(t + 3723004ms), "2026-01-02T01:02:03.004Z");
}

}  // namespace
}  // namespace covet::health
