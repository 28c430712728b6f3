#include "probes/http.h"

#include <gtest/gtest.h>

#include <optional>

#include "tests/support/test_http_server.h"

namespace covet::probes {
namespace {

using covet::testing::TestHttpServer;

class HttpProbeTest : public ::testing::Test {
 protected:
  void SetUp() override { uv_loop_init(&loop_); }
  void TearDown() override { EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open"; }

  config::HttpProbeConfig config_for(const std::string& path) {
    config::HttpProbeConfig config;
    config.url = server_.url(path);
    return config;
  }

  // One check, run to completion on the loop; counts completions. A watchdog timer
  // cancels a check that never ends, so a broken probe fails the test instead of hanging it.
  ProbeResult run(HttpProbe& probe) {
    int completions = 0;
    ProbeResult result;
    uv_timer_t watchdog;
    uv_timer_init(&loop_, &watchdog);
    watchdog.data = &probe;
    probe.start([&](ProbeResult r) {
      ++completions;
      result = std::move(r);
      uv_timer_stop(&watchdog);
    });
    if (completions == 0) {
      uv_timer_start(
          &watchdog,
          [](uv_timer_t* t) {
            ADD_FAILURE() << "the check did not end within 5s";
            static_cast<HttpProbe*>(t->data)->cancel();
          },
          5000, 0);
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(completions, 1);
    return result;
  }

  TestHttpServer server_;
  uv_loop_t loop_{};
};

std::string detail(const ProbeResult& result, const std::string& key) {
  for (const auto& [k, v] : result.detail) {
    if (k == key) return v;
  }
  return "";
}

TEST_F(HttpProbeTest, PassesOnAnExpectedStatusAndReusesTheConnection) {
  {
    HttpProbe probe(&loop_, config_for("/health/live"));
    for (int i = 0; i < 3; ++i) {
      const ProbeResult result = run(probe);
      EXPECT_EQ(result.status, Status::passing) << result.error;
      EXPECT_EQ(detail(result, "status_code"), "200");
      EXPECT_EQ(detail(result, "url"), server_.url("/health/live"));
      ASSERT_EQ(result.readings.size(), 1u);
      EXPECT_EQ(result.readings[0].name, "probe_http_status_code");
      EXPECT_EQ(result.readings[0].value, 200);
    }
  }
  EXPECT_EQ(server_.requests(), 3);
  EXPECT_EQ(server_.connections(), 1);
}

TEST_F(HttpProbeTest, UnexpectedStatusSaysWhatWasExpected) {
  server_.respond(500, "Internal Server Error", "boom");
  HttpProbe probe(&loop_, config_for("/health/live"));
  const ProbeResult result = run(probe);
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "status");
  EXPECT_EQ(result.error,
            "GET " + server_.url("/health/live") + ": 500 Internal Server Error, expected 200-399");
}

TEST_F(HttpProbeTest, ExpectedStatusListAndRanges) {
  server_.respond(503, "Service Unavailable", "");
  config::HttpProbeConfig config = config_for("/");
  config.expected_status = {{200, 200}, {500, 503}};
  HttpProbe probe(&loop_, config);
  EXPECT_EQ(run(probe).status, Status::passing);
  server_.respond(404, "Not Found", "");
  const ProbeResult result = run(probe);
  EXPECT_EQ(result.reason, "status");
  EXPECT_NE(result.error.find("404 Not Found, expected 200, 500-503"), std::string::npos)
      << result.error;
}

TEST_F(HttpProbeTest, BodyContains) {
  server_.respond(200, "OK", "{\"status\":\"UP\"}");
  config::HttpProbeConfig config = config_for("/");
  config.body_contains = "\"UP\"";
  HttpProbe probe(&loop_, config);
  EXPECT_EQ(run(probe).status, Status::passing);
  server_.respond(200, "OK", "{\"status\":\"DOWN\"}");
  const ProbeResult result = run(probe);
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "body");
  EXPECT_EQ(result.error,
            "GET " + server_.url("/") + ": response body does not contain \"\\\"UP\\\"\"");
}

TEST_F(HttpProbeTest, BodyBeyondTheBoundIsReadButNotCompared) {
  server_.respond(200, "OK", std::string(HttpProbe::kMaxBodyBytes + 10, 'x') + "needle");
  config::HttpProbeConfig config = config_for("/");
  config.body_contains = "needle";
  HttpProbe probe(&loop_, config);
  const ProbeResult result = run(probe);
  EXPECT_EQ(result.reason, "body");
  EXPECT_NE(result.error.find("first 65536 bytes"), std::string::npos) << result.error;
  config.body_contains = "xxx";
  HttpProbe found(&loop_, config);
  EXPECT_EQ(run(found).status, Status::passing);
}

TEST_F(HttpProbeTest, MethodAndHeadersAreSent) {
  config::HttpProbeConfig config = config_for("/");
  config.method = "HEAD";
  config.headers = {{"X-Probe", "covet"}, {"Accept", "text/plain"}};
  HttpProbe probe(&loop_, config);
  EXPECT_EQ(run(probe).status, Status::passing);
  const std::string request = server_.last_request();
  EXPECT_TRUE(request.starts_with("HEAD / HTTP/1.1\r\n")) << request;
  EXPECT_NE(request.find("X-Probe: covet\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("Accept: text/plain\r\n"), std::string::npos) << request;

  config.method = "POST";
  HttpProbe post(&loop_, config);
  EXPECT_EQ(run(post).status, Status::passing);
  EXPECT_TRUE(server_.last_request().starts_with("POST / HTTP/1.1\r\n"));
}

TEST_F(HttpProbeTest, RefusedWhenNothingListens) {
  config::HttpProbeConfig config;
  config.url = "http://127.0.0.1:1/health";
  HttpProbe probe(&loop_, config);
  const ProbeResult result = run(probe);
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "refused");
  EXPECT_TRUE(result.error.starts_with("GET http://127.0.0.1:1/health: ")) << result.error;
  EXPECT_EQ(result.readings.at(0).value, 0);
}

TEST_F(HttpProbeTest, TlsHandshakeFailureIsReasonTls) {
  // https:// against a server that drops the connection on the ClientHello.
  server_.set_mode(TestHttpServer::Mode::close);
  config::HttpProbeConfig config;
  config.url = "https://127.0.0.1:" + std::to_string(server_.port()) + "/";
  config.tls_verify = false;
  HttpProbe probe(&loop_, config);
  const ProbeResult result = run(probe);
  EXPECT_EQ(result.status, Status::failing);
  EXPECT_EQ(result.reason, "tls") << result.error;
}

TEST_F(HttpProbeTest, ConnectionClosedWithoutAnswerIsAnIoError) {
  server_.set_mode(TestHttpServer::Mode::close);
  HttpProbe probe(&loop_, config_for("/"));
  const ProbeResult result = run(probe);
  EXPECT_EQ(result.reason, "io_error");
}

TEST_F(HttpProbeTest, CancelAbandonsTheRequestWithoutACompletion) {
  server_.set_mode(TestHttpServer::Mode::hang);
  HttpProbe probe(&loop_, config_for("/"));
  int completions = 0;
  probe.start([&](ProbeResult) { ++completions; });
  uv_timer_t timer;
  uv_timer_init(&loop_, &timer);
  timer.data = &probe;
  uv_timer_start(
      &timer,
      [](uv_timer_t* t) {
        static_cast<HttpProbe*>(t->data)->cancel();
        uv_close(reinterpret_cast<uv_handle_t*>(t), nullptr);
      },
      100, 0);
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(completions, 0);
  // The next check works on a fresh connection.
  server_.set_mode(TestHttpServer::Mode::respond);
  EXPECT_EQ(run(probe).status, Status::passing);
  EXPECT_EQ(server_.connections(), 2);
}

}  // namespace
}  // namespace covet::probes
