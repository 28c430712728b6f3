// The OTLP/gRPC receiver in-process, on a libuv loop running on its own thread, behind real
// sockets: the real OpenTelemetry JS gRPC exporter sends to it, and an nghttp2 client
// (tests/support/grpc_test_client.h) checks what the SDK does not show (trailers,
// grpc-status-details-bin, GOAWAY). The Intake is a fake that keeps what it is given: the
// pipeline behind it is not what is tested here.
#include "exporters/otlp/grpc_receiver.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <future>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/logging.h"
#include "exporters/otlp/grpc_framing.h"
#include "exporters/otlp/traces.h"
#include "exporters/otlp/wire.h"
#include "tests/integration/otel_harness.h"
#include "tests/integration/waiting.h"
#include "tests/support/grpc_test_client.h"
#include "tests/unit/exporters/otlp/request_builder.h"

namespace covet::otlp {
namespace {

using covet::otlp::testing::bytes_field;
using covet::otlp::testing::varint_field;

using covet::testing::grpc_frame;
using covet::testing::gzip_bytes;
using covet::testing::SocketClient;

constexpr std::string_view kExport = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

// A uv loop on a thread; run() executes a function on it and waits for the result.
class LoopThread {
 public:
  LoopThread() {
    uv_loop_init(&loop_);
    uv_async_init(&loop_, &async_, &LoopThread::on_async);
    async_.data = this;
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }
  ~LoopThread() {
    run([this] { uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr); });
    thread_.join();
    uv_loop_close(&loop_);
  }
  uv_loop_t* loop() { return &loop_; }

  void post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    uv_async_send(&async_);
  }
  template <typename F>
  auto run(F task) -> decltype(task()) {
    using R = decltype(task());
    std::promise<R> promise;
    auto future = promise.get_future();
    post([&] {
      if constexpr (std::is_void_v<R>) {
        task();
        promise.set_value();
      } else {
        promise.set_value(task());
      }
    });
    return future.get();
  }

 private:
  static void on_async(uv_async_t* async) {
    auto& self = *static_cast<LoopThread*>(async->data);
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      tasks.swap(self.tasks_);
    }
    for (auto& task : tasks) task();
  }

  uv_loop_t loop_{};
  uv_async_t async_{};
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;
  std::thread thread_;
};

// Keeps every request; answers with `answer`, after delay_ms on a loop timer when set.
class FakeIntake : public Intake {
 public:
  explicit FakeIntake(uv_loop_t* loop) : loop_(loop) {}
  void submit(std::string request, std::string_view, Done done) override {
    requests.push_back(std::move(request));
    if (delay_ms == 0) {
      done(answer);
      return;
    }
    auto* timer = new Delayed{{}, std::move(done), answer};
    uv_timer_init(loop_, &timer->timer);
    timer->timer.data = timer;
    uv_timer_start(
        &timer->timer,
        [](uv_timer_t* handle) {
          auto* delayed = static_cast<Delayed*>(handle->data);
          delayed->done(delayed->answer);
          uv_close(reinterpret_cast<uv_handle_t*>(handle),
                   [](uv_handle_t* closed) { delete static_cast<Delayed*>(closed->data); });
        },
        delay_ms, 0);
  }
  void refused_request(std::string_view reason) override { refusals.emplace_back(reason); }

  Admission answer;
  std::uint64_t delay_ms = 0;
  std::vector<std::string> requests;
  std::vector<std::string> refusals;

 private:
  struct Delayed {
    uv_timer_t timer;
    Done done;
    Admission answer;
  };
  uv_loop_t* loop_;
};

std::shared_ptr<spdlog::logger> capture(std::ostringstream& out) {
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("grpc-test", sink);
  logger->set_pattern("%v");
  return logger;
}

std::string hex_to_bytes(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// A minimal valid request: one span.
std::string one_span_request() {
  std::string span;
  wire::put_bytes_field(span, 1, std::string(15, '\1') + '\2');
  wire::put_bytes_field(span, 2, std::string(7, '\3') + '\4');
  wire::put_bytes_field(span, 5, "GET /");
  std::string scope_spans;
  wire::put_bytes_field(scope_spans, 2, span);
  std::string resource_spans;
  wire::put_bytes_field(resource_spans, 2, scope_spans);
  std::string request;
  wire::put_bytes_field(request, 1, resource_spans);
  return request;
}

class GrpcReceiverIT : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(GrpcLimits limits) {
    log_ =
        std::make_unique<Logger>(config::LogFormat::text, config::LogLevel::info, capture(logs_));
    intake_ = std::make_unique<FakeIntake>(loop_.loop());
    receiver_ = std::make_unique<GrpcReceiver>(loop_.loop(), *intake_, limits, *log_);
    ASSERT_EQ(loop_.run([&] { return receiver_->listen("127.0.0.1", 0); }), "");
    port_ = receiver_->bound_port();
    ASSERT_NE(port_, 0);
  }

  void TearDown() override { stop(); }

  void stop() {
    if (!receiver_) return;
    std::promise<void> closed;
    loop_.post([&] { receiver_->close([&] { closed.set_value(); }); });
    closed.get_future().wait();
    loop_.run([&] { receiver_.reset(); });
  }

  // A call over a new connection; the response once closed.
  covet::testing::H2Client::Response call(
      std::string body, std::vector<std::pair<std::string, std::string>> extra = {},
      std::string path = std::string(kExport)) {
    SocketClient client(port_);
    EXPECT_TRUE(client.connected());
    const auto id = client.h2().call(std::move(body), path, std::move(extra));
    EXPECT_TRUE(client.run_until([&] { return client.h2().response(id).closed; }));
    return client.h2().response(id);
  }

  GrpcStats stats() {
    return loop_.run([&] { return receiver_->stats(); });
  }
  std::vector<std::string> refusals() {
    return loop_.run([&] { return intake_->refusals; });
  }
  std::string logs() {
    return loop_.run([&] { return logs_.str(); });
  }

  LoopThread loop_;
  std::ostringstream logs_;
  std::unique_ptr<Logger> log_;
  std::unique_ptr<FakeIntake> intake_;
  std::unique_ptr<GrpcReceiver> receiver_;
  std::uint16_t port_ = 0;
};

class GrpcReceiverOtelIT : public GrpcReceiverIT, public ::testing::WithParamInterface<bool> {};

TEST_P(GrpcReceiverOtelIT, EverySpanTheJsExporterSentArrives) {
  ASSERT_EQ(covet::testing::otel_tools_missing(), "");
  covet::testing::SendSpansOptions options;
  options.protocol = "grpc";
  options.endpoint = "http://127.0.0.1:" + std::to_string(port_);
  options.spans = 150;
  options.batch_size = 64;  // 3 calls: 64, 64, 22
  options.gzip = GetParam();
  const auto result = covet::testing::send_spans(options);
  ASSERT_EQ(result.error, "");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_EQ(result.sent.size(), 150u);

  const auto requests = loop_.run([&] { return intake_->requests; });
  EXPECT_EQ(requests.size(), 3u);
  std::size_t spans = 0;
  std::string all;
  for (const std::string& request : requests) {
    const ValidationResult validation = validate_export_request(request);
    ASSERT_TRUE(validation.ok) << validation.error;
    spans += validation.spans;
    all += request;
  }
  EXPECT_EQ(spans, 150u);
  for (const auto& span : result.sent) {
    const std::string span_id = hex_to_bytes(span.string_at("spanId").value_or(""));
    const std::string trace_id = hex_to_bytes(span.string_at("traceId").value_or(""));
    ASSERT_EQ(span_id.size(), 8u);
    EXPECT_NE(all.find(span_id), std::string::npos) << span.string_at("spanId").value_or("");
    EXPECT_NE(all.find(trace_id), std::string::npos) << span.string_at("traceId").value_or("");
  }
  const GrpcStats s = stats();
  EXPECT_EQ(s.calls, 3u);
  EXPECT_EQ(s.calls_by_status[0], 3u);
  EXPECT_EQ(s.bad_connections, 0u);
  EXPECT_EQ(s.gzip_messages, GetParam() ? 3u : 0u);
}

INSTANTIATE_TEST_SUITE_P(Grpc, GrpcReceiverOtelIT, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "gzip" : "plain"; });

TEST_F(GrpcReceiverIT, FullIsUnavailableWithRetryInfo) {
  loop_.run([&] {
    intake_->answer = {Admission::Outcome::full, "queue full: 64 MiB", 0, std::chrono::seconds(7)};
  });
  const auto response = call(grpc_frame(one_span_request()));
  EXPECT_EQ(response.http_status(), 200);
  EXPECT_EQ(response.grpc_status(), 14);
  EXPECT_EQ(response.metadata("grpc-message"), "queue full: 64 MiB");
  const auto details = grpc::base64_decode(response.metadata("grpc-status-details-bin"));
  ASSERT_TRUE(details);
  EXPECT_EQ(varint_field(*details, 1), 14u);
  const std::string any = bytes_field(*details, 3);
  EXPECT_EQ(bytes_field(any, 1), "type.googleapis.com/google.rpc.RetryInfo");
  EXPECT_EQ(varint_field(bytes_field(bytes_field(any, 2), 1), 1), 7u);
  EXPECT_EQ(stats().calls_by_status[14], 1u);
}

TEST_F(GrpcReceiverIT, InvalidIsInvalidArgument) {
  loop_.run([&] { intake_->answer = {Admission::Outcome::invalid, "spans[0]: bad id", 0, {}}; });
  const auto response = call(grpc_frame("junk"));
  EXPECT_EQ(response.grpc_status(), 3);
  EXPECT_EQ(grpc::percent_decode(response.metadata("grpc-message")), "spans[0]: bad id");
}

TEST_F(GrpcReceiverIT, OversizedDeclaredLengthIsResourceExhausted) {
  stop();
  GrpcLimits limits;
  limits.max_message_bytes = 64 * 1024;
  start(limits);
  // Declared 10 MiB, of which only the prefix and 100 KiB are sent: refused at the prefix.
  std::string body = grpc_frame(std::string(100 * 1024, 'x'));
  body[1] = 0;
  body[2] = static_cast<char>(0xa0);
  const auto response = call(body);
  EXPECT_EQ(response.grpc_status(), 8);
  EXPECT_EQ(refusals(), std::vector<std::string>{"too_large"});
  EXPECT_TRUE(loop_.run([&] { return intake_->requests.empty(); }));
}

TEST_F(GrpcReceiverIT, GzipBombIsResourceExhausted) {
  // 64 MiB of zeros is about 64 KiB of gzip: under the 20 MiB limit compressed, far over it
  // inflated. gunzip_bounded stops at the limit, so the receiver never holds 64 MiB.
  const std::string bomb = gzip_bytes(std::string(64 << 20, '\0'));
  ASSERT_LT(bomb.size(), 1u << 20);
  const auto response = call(grpc_frame(bomb, true), {{"grpc-encoding", "gzip"}});
  EXPECT_EQ(response.grpc_status(), 8);
  EXPECT_EQ(refusals(), std::vector<std::string>{"too_large"});
}

TEST_F(GrpcReceiverIT, OtherPathIsUnimplemented) {
  const auto response =
      call(grpc_frame("x"), {}, "/opentelemetry.proto.collector.logs.v1.LogsService/Export");
  EXPECT_EQ(response.grpc_status(), 12);
  EXPECT_EQ(refusals(), std::vector<std::string>{"unimplemented"});
}

TEST_F(GrpcReceiverIT, GarbageAndHttp1AreCutAndTheNextCallSucceeds) {
  {
    SocketClient garbage(port_);
    ASSERT_TRUE(garbage.connected());
    garbage.send_raw(std::string(200, '\x17'));
    EXPECT_TRUE(garbage.wait_closed());
  }
  {
    SocketClient http1(port_);
    ASSERT_TRUE(http1.connected());
    http1.send_raw("POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(http1.wait_closed());
  }
  {
    // A valid preface, then a DATA frame on stream 0: GOAWAY(PROTOCOL_ERROR), then close.
    SocketClient bad_frames(port_);
    ASSERT_TRUE(bad_frames.connected());
    bad_frames.send_raw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    bad_frames.send_raw(std::string("\0\0\0\4\0\0\0\0\0", 9));  // empty SETTINGS
    bad_frames.send_raw(std::string("\0\0\1\0\0\0\0\0\0x", 10));
    EXPECT_TRUE(bad_frames.wait_closed());
    // Among the frames that came: GOAWAY (type 7) with error code 1 (PROTOCOL_ERROR).
    const std::string& got = bad_frames.raw_received();
    std::uint32_t goaway_error = 0xffffffff;
    for (std::size_t at = 0; at + 9 <= got.size();) {
      const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(got[i]); };
      const std::size_t length = (byte(at) << 16) | (byte(at + 1) << 8) | byte(at + 2);
      if (byte(at + 3) == 7 && at + 9 + 8 <= got.size()) {
        goaway_error = (std::uint32_t{byte(at + 13)} << 24) | (byte(at + 14) << 16) |
                       (byte(at + 15) << 8) | byte(at + 16);
      }
      at += 9 + length;
    }
    EXPECT_EQ(goaway_error, 1u);
  }
  const auto response = call(grpc_frame(one_span_request()));
  EXPECT_EQ(response.grpc_status(), 0);
  EXPECT_EQ(stats().bad_connections, 3u);
  ASSERT_TRUE(covet::testing::eventually([&] { return stats().connections_accepted == 4; },
                                         std::chrono::seconds(5)));
  EXPECT_TRUE(loop_.run([&] { return receiver_->open_connections(); }) <= 1u);
  // One warn line per bad connection, each naming the peer.
  const std::string text = logs();
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = text.find("not a valid HTTP/2 client", at)) != std::string::npos;
       ++at) {
    ++lines;
  }
  EXPECT_EQ(lines, 3u) << text;
  EXPECT_NE(text.find("127.0.0.1:"), std::string::npos) << text;
}

TEST_F(GrpcReceiverIT, DrainLetsTheCallInFlightFinishThenReportsDrained) {
  loop_.run([&] { intake_->delay_ms = 300; });
  SocketClient client(port_);
  ASSERT_TRUE(client.connected());
  const auto id = client.h2().call(grpc_frame(one_span_request()));
  // Until the intake has the call.
  ASSERT_TRUE(
      client.run_until([&] { return loop_.run([&] { return intake_->requests.size() == 1; }); },
                       std::chrono::seconds(5)));
  std::promise<void> drained;
  auto drained_future = drained.get_future();
  loop_.post([&] { receiver_->drain([&] { drained.set_value(); }); });
  ASSERT_TRUE(client.run_until([&] { return client.h2().response(id).closed; }));
  EXPECT_EQ(client.h2().response(id).grpc_status(), 0);
  EXPECT_TRUE(client.h2().goaway);
  EXPECT_EQ(client.h2().goaway_error, 0u);
  EXPECT_EQ(drained_future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(loop_.run([&] { return receiver_->open_connections(); }), 0u);
  // Nothing listens any more.
  SocketClient late(port_);
  EXPECT_FALSE(late.connected());
}

TEST_F(GrpcReceiverIT, CloseWhileTheIntakeHoldsACallThenTheLateAnswerIsDropped) {
  loop_.run([&] { intake_->delay_ms = 200; });
  SocketClient client(port_);
  ASSERT_TRUE(client.connected());
  const auto id = client.h2().call(grpc_frame(one_span_request()));
  ASSERT_TRUE(
      client.run_until([&] { return loop_.run([&] { return intake_->requests.size() == 1; }); },
                       std::chrono::seconds(5)));
  std::promise<void> closed;
  int second_closed = 0;
  loop_.post([&] {
    receiver_->close([&] { closed.set_value(); });
    receiver_->close([&] { ++second_closed; });  // a second close is a no-op
  });
  ASSERT_EQ(closed.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_TRUE(client.run_until([&] { return client.peer_closed(); }));
  EXPECT_FALSE(client.h2().response(id).closed);
  loop_.run([&] { receiver_.reset(); });
  // The intake answers after the receiver, its connection and its session are gone.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(loop_.run([&] { return second_closed; }), 0);
}

TEST_F(GrpcReceiverIT, DrainWithNoConnectionsEndsWhenTheListenerHasClosed) {
  bool drained = false;
  loop_.run([&] { receiver_->drain([&] { drained = true; }); });
  // The listener's close callback comes on the loop's next turn.
  EXPECT_TRUE(covet::testing::eventually([&] { return loop_.run([&] { return drained; }); },
                                         std::chrono::seconds(5)));
  // With nothing open at all (never listened), drain and close are synchronous.
  loop_.run([&] {
    GrpcReceiver idle(loop_.loop(), *intake_, GrpcLimits{}, *log_);
    bool idle_drained = false, idle_closed = false;
    idle.drain([&] { idle_drained = true; });
    EXPECT_TRUE(idle_drained);
    idle.close([&] { idle_closed = true; });
    EXPECT_TRUE(idle_closed);
  });
}

TEST_F(GrpcReceiverIT, ListenOnAPortInUseSaysSo) {
  LoopThread other_loop;
  std::ostringstream other_logs;
  Logger other_log(config::LogFormat::text, config::LogLevel::info, capture(other_logs));
  FakeIntake other_intake(other_loop.loop());
  auto other =
      std::make_unique<GrpcReceiver>(other_loop.loop(), other_intake, GrpcLimits{}, other_log);
  const std::string error = other_loop.run([&] { return other->listen("127.0.0.1", port_); });
  EXPECT_EQ(error, "listen 127.0.0.1:" + std::to_string(port_) + ": address already in use");
  std::promise<void> closed;
  other_loop.post([&] { other->close([&] { closed.set_value(); }); });
  closed.get_future().wait();
  other_loop.run([&] { other.reset(); });
}

TEST_F(GrpcReceiverIT, IdleConnectionsAreClosed) {
  stop();
  GrpcLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(200);
  start(limits);
  SocketClient client(port_);
  ASSERT_TRUE(client.connected());
  client.run_until([] { return false; }, std::chrono::milliseconds(10));
  EXPECT_TRUE(client.run_until([&] { return client.h2().goaway; }, std::chrono::seconds(5)));
  EXPECT_TRUE(client.wait_closed(std::chrono::seconds(5)));
  EXPECT_EQ(stats().timeouts, 1u);
}

TEST_F(GrpcReceiverIT, PingsDoNotKeepAnIdleConnectionOpenButCallsDo) {
  stop();
  GrpcLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(300);
  start(limits);
  SocketClient client(port_);
  ASSERT_TRUE(client.connected());
  // Calls every 100 ms for 600 ms (twice the timeout): the connection stays.
  for (int i = 0; i < 6; ++i) {
    const auto id = client.h2().call(grpc_frame(one_span_request()));
    ASSERT_TRUE(client.run_until([&] { return client.h2().response(id).closed; }));
    client.run_until([] { return false; }, std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(client.h2().goaway);
  // PINGs only: it is idle, and goes.
  const auto start = std::chrono::steady_clock::now();
  while (!client.h2().goaway &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
    client.h2().ping();
    client.run_until([&] { return client.h2().goaway; }, std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(client.h2().goaway);
  EXPECT_EQ(stats().timeouts, 1u);
}

TEST_F(GrpcReceiverIT, ConnectionsOverTheLimitAreRefused) {
  stop();
  GrpcLimits limits;
  limits.max_connections = 1;
  start(limits);
  SocketClient first(port_);
  ASSERT_TRUE(first.connected());
  const auto id = first.h2().call(grpc_frame(one_span_request()));
  ASSERT_TRUE(first.run_until([&] { return first.h2().response(id).closed; }));
  SocketClient second(port_);
  EXPECT_TRUE(second.wait_closed());
  EXPECT_EQ(stats().connections_rejected, 1u);
}

}  // namespace
}  // namespace covet::otlp
