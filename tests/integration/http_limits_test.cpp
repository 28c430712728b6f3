// What misbehaving clients get from the real binary: raw bytes over a socket.

#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/config_snippets.h"
#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kLimitsConfig = R"(
listen: 127.0.0.1:{PORT}
log: { format: json, level: info }
server: { max_connections: 4, idle_timeout: 1s, request_timeout: 500ms }
probes: []
)";

class HttpLimitsIT : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(sidecar.start()) << sidecar.logs(); }
  SidecarProcess sidecar{kLimitsConfig};
};

std::string status_line(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

TEST_F(HttpLimitsIT, ARefusedBodyIsReadAndDroppedNotAnsweredWithAReset) {
  // A client uploading a body the route refuses keeps sending until it reads the answer
  // (libcurl does). Had the server closed with those bytes unread, the kernel would answer
  // them with a reset, and the client would see a send error instead of the 413.
  RawConnection c(sidecar.port());
  ASSERT_TRUE(c.send("POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n"));
  ASSERT_TRUE(c.send(std::string(256 * 1024, 'x')));
  const std::string response = c.read_responses(1, 2s);
  EXPECT_EQ(status_line(response), "HTTP/1.1 413 Content Too Large") << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(c.send(std::string(1024 * 1024, 'x'))) << "reset while the client was sending";
  // The server still ends the connection, within its linger time.
  EXPECT_TRUE(c.wait_closed(5s));
}

TEST_F(HttpLimitsIT, PipelinedRequestsAnsweredInOrder) {
  RawConnection c(sidecar.port());
  ASSERT_TRUE(
      c.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
             "HEAD /health/ready HTTP/1.1\r\nHost: x\r\n\r\n"
             "GET /health/startup HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string all = c.read_responses(3, 5s);
  // The HEAD response has Content-Length but no body, so read_responses can't count it:
  // read the rest with a short wait.
  all += c.read_responses(1, 500ms);
  auto first = all.find("HTTP/1.1 200");
  auto second = all.find("HTTP/1.1 404");
  auto third = all.find("HTTP/1.1 200", second);
  auto fourth = all.find("HTTP/1.1 200", third + 1);
  ASSERT_NE(first, std::string::npos) << all;
  ASSERT_NE(second, std::string::npos) << all;
  ASSERT_NE(third, std::string::npos) << all;
  ASSERT_NE(fourth, std::string::npos) << all;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_LT(third, fourth);
}

TEST_F(HttpLimitsIT, MalformedRequestGets400ThenClose) {
  RawConnection c(sidecar.port());
  ASSERT_TRUE(c.send("GARBAGE\x01\x02 / HTTP/1.1\r\n\r\n"));
  std::string r = c.read_responses(1, 5s);
  EXPECT_EQ(status_line(r), "HTTP/1.1 400 Bad Request") << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.wait_closed(5s));
}

TEST_F(HttpLimitsIT, OversizedHeadersGet431) {
  RawConnection c(sidecar.port());
  std::string request =
      "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(17 * 1024, 'a') + "\r\n\r\n";
  ASSERT_TRUE(c.send(request));
  std::string r = c.read_responses(1, 5s);
  EXPECT_EQ(status_line(r), "HTTP/1.1 431 Request Header Fields Too Large") << r;
  EXPECT_TRUE(c.wait_closed(5s));
}

TEST_F(HttpLimitsIT, OversizedRequestLineGets431) {
  RawConnection c(sidecar.port());
  ASSERT_TRUE(
      c.send("GET /health/live?" + std::string(17 * 1024, 'q') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string r = c.read_responses(1, 5s);
  EXPECT_EQ(status_line(r), "HTTP/1.1 431 Request Header Fields Too Large") << r;
}

TEST_F(HttpLimitsIT, OversizedBodyGets413BeforeItIsSent) {
  RawConnection c(sidecar.port());
  ASSERT_TRUE(c.send("GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
  std::string r = c.read_responses(1, 5s);
  EXPECT_EQ(status_line(r), "HTTP/1.1 413 Content Too Large") << r;
  EXPECT_TRUE(c.wait_closed(5s));
}

TEST_F(HttpLimitsIT, ConnectionCloseIsHonoured) {
  RawConnection c(sidecar.port());
  ASSERT_TRUE(c.send("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string r = c.read_responses(1, 5s);
  EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.wait_closed(5s));
}

TEST_F(HttpLimitsIT, Http10ClosesByDefault) {
  RawConnection c(sidecar.port());
  ASSERT_TRUE(c.send("GET /health/live HTTP/1.0\r\n\r\n"));
  std::string r = c.read_responses(1, 5s);
  EXPECT_NE(r.find(" 200 OK"), std::string::npos) << r;
  EXPECT_TRUE(c.wait_closed(5s));
}

TEST_F(HttpLimitsIT, SlowClientIsCutOff) {
  RawConnection c(sidecar.port());
  // Slowloris: one byte every 100 ms keeps the connection busy but never finishes the
  // request. request_timeout is 500 ms.
  const std::string request =
      "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: "
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  bool cut = false;
  for (char ch : request) {
    if (!c.send(std::string_view(&ch, 1))) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(100ms);
    if (std::chrono::steady_clock::now() - start > 3s) break;
  }
  std::string r = c.read_responses(1, 3s);
  EXPECT_TRUE(cut || r.find("408") != std::string::npos || c.wait_closed(3s)) << r;
  EXPECT_EQ(status_line(r), "HTTP/1.1 408 Request Timeout") << r;
}

TEST_F(HttpLimitsIT, IdleKeepAliveConnectionIsClosed) {
  RawConnection c(sidecar.port());
  ASSERT_TRUE(c.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(c.read_responses(1, 5s).find(" 200 OK"), std::string::npos);
  // idle_timeout is 1 s.
  EXPECT_TRUE(c.wait_closed(5s));
}

TEST_F(HttpLimitsIT, ConnectionsOverTheCapAreRefused) {
  std::vector<std::unique_ptr<RawConnection>> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(std::make_unique<RawConnection>(sidecar.port()));
    ASSERT_TRUE(open.back()->send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_NE(open.back()->read_responses(1, 5s).find(" 200 OK"), std::string::npos);
  }
  RawConnection extra(sidecar.port());
  ASSERT_TRUE(extra.connected());  // the kernel accepts; the server closes it at once
  EXPECT_TRUE(extra.wait_closed(5s));
  // The ones already open still work.
  ASSERT_TRUE(open[0]->send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(open[0]->read_responses(1, 5s).find(" 200 OK"), std::string::npos);
  open.clear();
  // And once they're gone, new connections are served again.
  std::this_thread::sleep_for(200ms);
  HttpClient client;
  EXPECT_EQ(client.get(sidecar.url("/health/live")).status, 200);
  HttpResult m = client.get(sidecar.url("/metrics"));
  EXPECT_NE(m.body.find("covet_sidecar_http_connections_rejected_total 1"), std::string::npos);
}

}  // namespace
}  // namespace covet::testing
