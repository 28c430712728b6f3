// The server on a real loop and real sockets: the loop runs in a background thread, the test
// talks to it with plain blocking POSIX sockets, and anything that touches the Server runs
// on the loop thread (ServerHarness::on_loop).

#include "agent/http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "agent/logging.h"

namespace covet::http {
namespace {

using namespace std::chrono_literals;

// Generous on purpose: a loaded 2-core machine must not make these tests flaky. Nothing
// asserts on speed.
constexpr auto kPatience = 10s;

// "/" and "/health" answer GET; "/echo" answers POST with the body (at most 16 bytes).
class TestRouter : public Router {
 public:
  TestRouter() {
    Response hello;
    hello.body = "hello\n";
    hello_ = PreparedResponse::make(hello);
    Response ok;
    ok.body = "ok\n";
    ok_ = PreparedResponse::make(ok);
    Response big;
    big.body = std::string(kBigBodyBytes, 'b');
    big_ = PreparedResponse::make(big);
  }

  // Larger than the socket buffer, so writes go partial and the server must wait.
  static constexpr std::size_t kBigBodyBytes = 1024 * 1024;

  RouteInfo lookup(std::string_view path) const override {
    ++lookups;
    RouteInfo route;
    if (path == "/" || path == "/health" || path == "/big") {
      route.found = true;
      route.methods = method_bit(Method::get);
      route.allow = "GET, HEAD";
    } else if (path == "/later" || path == "/now") {
      // Deferred: /later is answered when the test says so, /now inside handle_later.
      route.found = true;
      route.methods = method_bit(Method::get);
      route.allow = "GET, HEAD";
      route.deferred = true;
    } else if (path == "/echo") {
      route.found = true;
      route.methods = method_bit(Method::post);
      route.allow = "POST";
      route.max_body = 16;
    }
    return route;
  }

  Reply handle(const Request& request) override {
    if (request.path == "/") return hello_;
    if (request.path == "/health") return ok_;
    if (request.path == "/big") return big_;
    Response echo;
    echo.body = std::string(request.body);
    return PreparedResponse::make(echo);
  }

  void handle_later(const Request& request, Respond respond) override {
    if (request.path == "/now") return respond(ok_);
    waiting.push_back(std::move(respond));
  }

  // Answers the oldest waiting /later with "hello". Loop thread only.
  void answer_one() {
    Respond respond = std::move(waiting.front());
    waiting.erase(waiting.begin());
    respond(hello_);
  }

  // Read from the test thread to know the server has seen a request's headers.
  mutable std::atomic<int> lookups{0};
  std::vector<Respond> waiting;  // loop thread only

 private:
  Reply hello_;
  Reply ok_;
  Reply big_;
};

// A Server listening on 127.0.0.1:0, its loop running in a background thread.
class ServerHarness {
 public:
  explicit ServerHarness(ServerLimits limits) {
    EXPECT_EQ(uv_loop_init(&loop_), 0);
    server_.emplace(&loop_, router_, limits, log_);
    const std::string error = server_->listen("127.0.0.1", 0);
    EXPECT_EQ(error, "");
    EXPECT_EQ(uv_async_init(&loop_, &wake_, &ServerHarness::on_wake), 0);
    wake_.data = this;
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }

  ~ServerHarness() {
    // Closing the server and the async handle leaves the loop with nothing to do, so
    // uv_run returns and every close callback has run.
    post([this] {
      server_->close([this] { ++closed_calls_; });
      uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
    });
    thread_.join();
    EXPECT_EQ(closed_calls_, expected_closed_calls_);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    server_.reset();  // asserts every handle is closed
  }

  std::uint16_t port() const { return server_->bound_port(); }
  TestRouter& router() { return router_; }
  Server& server() { return *server_; }  // only inside on_loop()
  void expect_closed_already() { expected_closed_calls_ = 0; }

  // Runs `task` on the loop thread and waits for its result.
  template <typename Task>
  auto on_loop(Task task) {
    using Result = std::invoke_result_t<Task>;
    std::promise<Result> done;
    auto result = done.get_future();
    post([&] {
      if constexpr (std::is_void_v<Result>) {
        task();
        done.set_value();
      } else {
        done.set_value(task());
      }
    });
    return result.get();
  }

  std::string log_text() {
    return on_loop([this] { return log_lines_.str(); });
  }

  ServerStats stats() {
    return on_loop([this] { return server_->stats(); });
  }

  // Polls `condition` on the loop thread until it holds or patience runs out.
  bool eventually(const std::function<bool(Server&)>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < deadline) {
      if (on_loop([&] { return condition(*server_); })) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

 private:
  void post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    uv_async_send(&wake_);
  }

  static void on_wake(uv_async_t* handle) {
    auto& harness = *static_cast<ServerHarness*>(handle->data);
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(harness.mutex_);
      tasks.swap(harness.tasks_);
    }
    for (auto& task : tasks) task();
  }

  uv_loop_t loop_{};
  uv_async_t wake_{};
  std::ostringstream log_lines_;  // written on the loop thread; read through on_loop()
  Logger log_{config::LogFormat::text, config::LogLevel::warn,
              std::make_shared<spdlog::logger>(
                  "server_test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_lines_))};
  TestRouter router_;
  std::optional<Server> server_;
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;
  int closed_calls_ = 0;  // loop thread only; read after join
  int expected_closed_calls_ = 1;
  std::thread thread_;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  bool has(const std::string& name) const { return headers.count(name) != 0; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A blocking client socket with a receive timeout, so a broken server fails a test instead
// of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{static_cast<time_t>(kPatience / 1s), 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response; for a HEAD request there is no body to read whatever Content-Length says.
  std::optional<HttpResponse> read_response(bool head_request = false) {
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!receive()) return std::nullopt;
    }
    HttpResponse response;
    const std::string head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.1 ", 0) != 0 || status_line.size() < 12) return std::nullopt;
    response.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end - start);
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      response.headers[name] = value;
    }
    if (!head_request && response.has("content-length")) {
      const std::size_t length = std::stoul(response.header("content-length"));
      while (buffer_.size() < length) {
        if (!receive()) return std::nullopt;
      }
      response.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
    }
    return response;
  }

  // True when the server closed the connection (EOF or reset) with nothing more to read.
  bool closed_by_server() {
    if (!buffer_.empty()) return false;
    char byte;
    const ssize_t n = ::recv(fd_, &byte, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  void shutdown_sending() { ::shutdown(fd_, SHUT_WR); }

  // Closing after this sends a reset instead of a FIN: the client is gone, not just done
  // sending.
  void reset_on_close() {
    linger option{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
  }

  // True when something (data or EOF) is readable within `timeout`.
  bool readable_within(std::chrono::milliseconds timeout) {
    pollfd pfd{fd_, POLLIN, 0};
    return ::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0;
  }

 private:
  bool receive() {
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// Every response the server sends carries these.
void expect_common_headers(const HttpResponse& response) {
  EXPECT_TRUE(response.has("date"));
  EXPECT_TRUE(response.header("date").ends_with(" GMT")) << response.header("date");
  EXPECT_TRUE(response.has("content-length"));
}

ServerLimits patient_limits() {
  ServerLimits limits;
  limits.idle_timeout = 10s;
  limits.request_timeout = 10s;
  limits.max_header_bytes = 1024;
  return limits;
}

TEST(ServerTest, KeepsTheConnectionAliveAcrossRequests) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n"));
    const auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "hello\n");
    EXPECT_FALSE(response->has("connection"));
    expect_common_headers(*response);
  }
  const ServerStats stats = harness.stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.requests, 2u);
}

TEST(ServerTest, AnswersPipelinedRequestsInOrder) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(
      client.send("GET /health HTTP/1.1\r\n\r\n"
                  "POST /echo HTTP/1.1\r\nContent-Length: 4\r\n\r\necho"
                  "GET / HTTP/1.1\r\n\r\n"));
  const char* expected[] = {"ok\n", "echo", "hello\n"};
  for (const char* body : expected) {
    const auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, body);
    expect_common_headers(*response);
  }
}

TEST(ServerTest, WritesLargePipelinedResponsesToASlowReader) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.send(
      "GET /big HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\nGET /big HTTP/1.1\r\n\r\n"));
  std::this_thread::sleep_for(100ms);  // let the server fill the socket buffer and wait
  for (const std::size_t expected :
       {TestRouter::kBigBodyBytes, std::size_t{3}, TestRouter::kBigBodyBytes}) {
    const auto response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body.size(), expected);
  }
  // Still usable afterwards.
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\n\r\n"));
  const auto last = client.read_response();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->body, "hello\n");
}

TEST(ServerTest, AnswersAClientThatStoppedSending) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.send("GET /big HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
  client.shutdown_sending();  // EOF reaches the server while its write is pending
  std::this_thread::sleep_for(100ms);
  const auto big = client.read_response();
  ASSERT_TRUE(big);
  EXPECT_EQ(big->body.size(), TestRouter::kBigBodyBytes);
  const auto small = client.read_response();
  ASSERT_TRUE(small);
  EXPECT_EQ(small->body, "hello\n");
  EXPECT_TRUE(client.closed_by_server());
}

TEST(ServerTest, HeadHasContentLengthButNoBody) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.send("HEAD / HTTP/1.1\r\n\r\n"));
  const auto head = client.read_response(/*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "6");
  expect_common_headers(*head);
  // Had a body been sent, this response would not parse.
  ASSERT_TRUE(client.send("GET /health HTTP/1.1\r\n\r\n"));
  const auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, "ok\n");
}

TEST(ServerTest, AnswersUnknownPathsWith404AndKeepsTheConnection) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.send("GET /nope HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
  const auto missing = client.read_response();
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "not found\n");
  expect_common_headers(*missing);
  const auto found = client.read_response();
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, 200);
}

TEST(ServerTest, AnswersDisallowedMethodsWith405AndAllow) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.send("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->header("allow"), "GET, HEAD");
  expect_common_headers(*response);
}

TEST(ServerTest, RefusesOversizedBodyWith413AndCloses) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  // Only the headers: the server answers before any body is sent.
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->header("connection"), "close");
  expect_common_headers(*response);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(harness.stats().bad_requests, 1u);
}

TEST(ServerTest, RefusesOversizedHeadersWith431AndCloses) {
  ServerHarness harness(patient_limits());  // max_header_bytes = 1024
  Client client(harness.port());
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nX-Big: " + std::string(1100, 'a') + "\r\n\r\n"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->header("connection"), "close");
  expect_common_headers(*response);
  EXPECT_TRUE(client.closed_by_server());
}

TEST(ServerTest, RefusesGarbageWith400AndCloses) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.send("garbage\r\n\r\n"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_EQ(response->header("content-type"), "text/plain; charset=utf-8");
  expect_common_headers(*response);
  EXPECT_TRUE(client.closed_by_server());
  const ServerStats stats = harness.stats();
  EXPECT_EQ(stats.bad_requests, 1u);
  EXPECT_EQ(stats.requests, 0u);
}

TEST(ServerTest, HonoursConnectionClose) {
  ServerHarness harness(patient_limits());
  for (std::string_view request :
       {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", "GET / HTTP/1.0\r\n\r\n"}) {
    Client client(harness.port());
    ASSERT_TRUE(client.send(request));
    const auto response = client.read_response();
    ASSERT_TRUE(response) << request;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->header("connection"), "close");
    expect_common_headers(*response);
    EXPECT_TRUE(client.closed_by_server()) << request;
  }
}

TEST(ServerTest, ClosesIdleConnections) {
  ServerLimits limits = patient_limits();
  limits.idle_timeout = 200ms;
  ServerHarness harness(limits);
  Client client(harness.port());
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(client.read_response());
  EXPECT_TRUE(client.closed_by_server());  // nothing sent: no 408
  EXPECT_TRUE(harness.eventually([](Server& s) { return s.open_connections() == 0; }));
  EXPECT_EQ(harness.stats().timeouts, 1u);
}

TEST(ServerTest, CutsASlowlorisAtTheRequestTimeoutWith408) {
  ServerLimits limits = patient_limits();
  limits.request_timeout = 300ms;
  ServerHarness harness(limits);
  Client client(harness.port());
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nX-Slow: "));
  // One byte every 50 ms keeps the connection busy, far longer than request_timeout.
  bool answered = false;
  for (int i = 0; i < 200 && !answered; ++i) {
    if (!client.send("a")) break;
    answered = client.readable_within(50ms);
  }
  ASSERT_TRUE(answered);
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 408);
  EXPECT_EQ(response->header("connection"), "close");
  expect_common_headers(*response);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(harness.stats().timeouts, 1u);
}

TEST(ServerTest, ClosesConnectionsOverTheLimitAtOnce) {
  ServerLimits limits = patient_limits();
  limits.max_connections = 2;
  ServerHarness harness(limits);
  auto first = std::make_unique<Client>(harness.port());
  Client second(harness.port());
  for (Client* client : {first.get(), &second}) {
    ASSERT_TRUE(client->send("GET / HTTP/1.1\r\n\r\n"));
    ASSERT_TRUE(client->read_response());
  }
  Client third(harness.port());
  EXPECT_TRUE(third.closed_by_server());
  Client another(harness.port());
  EXPECT_TRUE(another.closed_by_server());
  EXPECT_EQ(harness.stats().connections_rejected, 2u);
  // Refusals are counted each time but logged once.
  const std::string log = harness.log_text();
  const std::string_view line = "max_connections reached";
  EXPECT_NE(log.find(line), std::string::npos) << log;
  EXPECT_EQ(log.find(line), log.rfind(line)) << log;

  first.reset();
  ASSERT_TRUE(harness.eventually([](Server& s) { return s.open_connections() == 1; }));
  Client fourth(harness.port());
  ASSERT_TRUE(fourth.send("GET / HTTP/1.1\r\n\r\n"));
  const auto response = fourth.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(harness.stats().connections_accepted, 3u);
}

TEST(ServerTest, DrainClosesIdleConnectionsAndFinishesBusyOnes) {
  ServerHarness harness(patient_limits());
  Client idle(harness.port());
  ASSERT_TRUE(idle.send("GET / HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(idle.read_response());

  // Mid-request: the headers are in (the router has been asked), the body is not.
  const int lookups_before = harness.router().lookups.load();
  Client busy(harness.port());
  ASSERT_TRUE(busy.send("POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"));
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (harness.router().lookups.load() == lookups_before &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_GT(harness.router().lookups.load(), lookups_before);

  std::atomic<int> drained_calls{0};
  harness.on_loop([&] { harness.server().drain([&] { ++drained_calls; }); });

  EXPECT_TRUE(idle.closed_by_server());
  ASSERT_TRUE(busy.send("cde"));
  const auto response = busy.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "abcde");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(busy.closed_by_server());

  EXPECT_TRUE(harness.eventually([&](Server&) { return drained_calls.load() == 1; }));
  Client late(harness.port());
  EXPECT_FALSE(late.connected());  // the listener is closed
  EXPECT_EQ(drained_calls.load(), 1);
}

TEST(ServerTest, CloseCutsOpenConnectionsAndRunsItsCallbackOnce) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nX-Partial: "));
  ASSERT_TRUE(client.read_response());
  std::atomic<int> closed_calls{0};
  harness.on_loop([&] {
    harness.server().close([&] { ++closed_calls; });
    harness.server().close([&] { closed_calls += 100; });  // no-op
  });
  harness.expect_closed_already();
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_TRUE(harness.eventually([&](Server&) { return closed_calls.load() == 1; }));
}

// No thread needed: both servers live on a loop the test runs itself.
TEST(ServerTest, DeferredReplyIsSentWhenTheHandlerAnswers) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.send("GET /later HTTP/1.1\r\nHost: test\r\n\r\n"));
  ASSERT_TRUE(harness.eventually([&](Server&) { return harness.router().waiting.size() == 1; }));
  EXPECT_FALSE(client.readable_within(100ms)) << "answered before the handler did";
  harness.on_loop([&] { harness.router().answer_one(); });
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello\n");
  expect_common_headers(*response);
  // The connection goes on as usual.
  ASSERT_TRUE(client.send("GET /health HTTP/1.1\r\nHost: test\r\n\r\n"));
  const auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "ok\n");
}

TEST(ServerTest, PipelinedRequestsWaitBehindADeferredOne) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(
      client.send("GET /later HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /now HTTP/1.1\r\nHost: t\r\n\r\n"
                  "HEAD /later HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(harness.eventually([&](Server&) { return harness.router().waiting.size() == 1; }));
  EXPECT_FALSE(client.readable_within(100ms)) << "a later request was answered first";
  harness.on_loop([&] { harness.router().answer_one(); });
  // /health and /now are answered right after; the HEAD waits for its own answer.
  ASSERT_TRUE(harness.eventually([&](Server&) { return harness.router().waiting.size() == 1; }));
  harness.on_loop([&] { harness.router().answer_one(); });
  const auto first = client.read_response();
  const auto second = client.read_response();
  const auto third = client.read_response();
  const auto fourth = client.read_response(true);
  ASSERT_TRUE(first && second && third && fourth);
  EXPECT_EQ(first->body, "hello\n");
  EXPECT_EQ(second->body, "ok\n");
  EXPECT_EQ(third->body, "ok\n");
  EXPECT_EQ(fourth->status, 200);
  EXPECT_EQ(fourth->header("content-length"), "6");
}

TEST(ServerTest, AnswerAfterTheClientLeftGoesNowhere) {
  ServerHarness harness(patient_limits());
  {
    Client client(harness.port());
    ASSERT_TRUE(client.send("GET /later HTTP/1.1\r\nHost: test\r\n\r\n"));
    ASSERT_TRUE(harness.eventually([&](Server&) { return harness.router().waiting.size() == 1; }));
    // A FIN alone would be a half-close, after which the reply is still owed and sent.
    client.reset_on_close();
  }  // the client goes away while the reply is awaited
  ASSERT_TRUE(harness.eventually([](Server& server) { return server.open_connections() == 0; }));
  // The connection is gone (and freed): answering must touch nothing (ASan checks).
  harness.on_loop([&] { harness.router().answer_one(); });
  EXPECT_EQ(harness.stats().requests, 1u);
}

TEST(ServerTest, HalfClosedClientStillGetsItsDeferredReply) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.send("GET /later HTTP/1.1\r\nHost: test\r\n\r\n"));
  client.shutdown_sending();  // done sending, still listening
  ASSERT_TRUE(harness.eventually([&](Server&) { return harness.router().waiting.size() == 1; }));
  harness.on_loop([&] { harness.router().answer_one(); });
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "hello\n");
  EXPECT_TRUE(client.closed_by_server());
}

TEST(ServerTest, DeferredReplyThatNeverComesIs503AfterTheRequestTimeout) {
  ServerLimits limits = patient_limits();
  limits.request_timeout = 300ms;
  ServerHarness harness(limits);
  Client client(harness.port());
  ASSERT_TRUE(client.send("GET /later HTTP/1.1\r\nHost: test\r\n\r\n"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  // A late answer is dropped; the connection serves the next request.
  harness.on_loop([&] { harness.router().answer_one(); });
  ASSERT_TRUE(client.send("GET /health HTTP/1.1\r\nHost: test\r\n\r\n"));
  const auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "ok\n");
}

TEST(ServerTest, DrainWaitsForADeferredReplyAndThenCloses) {
  ServerHarness harness(patient_limits());
  Client client(harness.port());
  ASSERT_TRUE(client.send("GET /later HTTP/1.1\r\nHost: test\r\n\r\n"));
  ASSERT_TRUE(harness.eventually([&](Server&) { return harness.router().waiting.size() == 1; }));
  harness.on_loop([&] { harness.server().drain([] {}); });
  EXPECT_FALSE(client.readable_within(100ms)) << "closed with a reply still owed";
  harness.on_loop([&] { harness.router().answer_one(); });
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "hello\n");
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_TRUE(client.closed_by_server());
}

TEST(ServerTest, ListenReportsOperationAndReason) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  Logger log(config::LogFormat::text, config::LogLevel::error);
  TestRouter router;
  {
    Server first(&loop, router, ServerLimits{}, log);
    Server second(&loop, router, ServerLimits{}, log);
    Server third(&loop, router, ServerLimits{}, log);
    ASSERT_EQ(first.listen("127.0.0.1", 0), "");
    const std::uint16_t port = first.bound_port();
    ASSERT_NE(port, 0);
    EXPECT_EQ(first.listen("127.0.0.1", 0), "listen 127.0.0.1:0: already listening");
    EXPECT_EQ(second.listen("127.0.0.1", port),
              "listen 127.0.0.1:" + std::to_string(port) + ": address already in use");
    EXPECT_EQ(third.listen("not-an-address", 80), "listen not-an-address:80: invalid argument");
    EXPECT_EQ(third.listen("::not-v6", 80), "listen [::not-v6]:80: invalid argument");
    int closed = 0;
    for (Server* server : {&first, &second, &third}) server->close([&] { ++closed; });
    EXPECT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
    EXPECT_EQ(closed, 3);
  }
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST(ServerTest, ListensOnIpv6Loopback) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  Logger log(config::LogFormat::text, config::LogLevel::error);
  TestRouter router;
  std::string error;
  {
    Server server(&loop, router, ServerLimits{}, log);
    error = server.listen("::1", 0);
    if (error.empty()) {
      EXPECT_NE(server.bound_port(), 0);
    }
    server.close([] {});
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  EXPECT_EQ(uv_loop_close(&loop), 0);
  if (!error.empty()) GTEST_SKIP() << "no IPv6 loopback here: " << error;
}

}  // namespace
}  // namespace covet::http
