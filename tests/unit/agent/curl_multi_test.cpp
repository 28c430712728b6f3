#include "agent/curl_multi.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/test_http_server.h"

namespace covet::net {
namespace {

using covet::testing::TestHttpServer;

std::size_t discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

// An easy handle against the test server, freed with the fixture.
class CurlMultiTest : public ::testing::Test {
 protected:
  void SetUp() override { uv_loop_init(&loop_); }
  void TearDown() override {
    for (CURL* easy : easies_) curl_easy_cleanup(easy);
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a handle was left open";
  }

  CURL* easy(const std::string& path) {
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, server_.url(path).c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    easies_.push_back(e);
    return e;
  }

  // Runs `fn` on the loop after `ms`, through a timer closed right after.
  void after(std::uint64_t ms, std::function<void()> fn) {
    struct Later {
      uv_timer_t timer;
      std::function<void()> fn;
    };
    auto* later = new Later{{}, std::move(fn)};
    uv_timer_init(&loop_, &later->timer);
    later->timer.data = later;
    uv_timer_start(
        &later->timer,
        [](uv_timer_t* t) {
          auto* l = static_cast<Later*>(t->data);
          l->fn();
          uv_close(reinterpret_cast<uv_handle_t*>(t),
                   [](uv_handle_t* h) { delete static_cast<Later*>(h->data); });
        },
        ms, 0);
  }

  TestHttpServer server_;
  uv_loop_t loop_{};
  std::vector<CURL*> easies_;
};

TEST_F(CurlMultiTest, ConcurrentRequestsEachCompleteOnceAndLeaveNoHandleOpen) {
  CurlMulti multi(&loop_);
  constexpr int kRequests = 8;
  std::vector<int> done(kRequests, 0);
  std::vector<CURLcode> codes(kRequests, CURLE_OK);
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(multi.add(easy("/" + std::to_string(i)), [&, i](CURLcode code) {
      ++done[i];
      codes[i] = code;
    }));
  }
  EXPECT_EQ(multi.in_flight(), static_cast<std::size_t>(kRequests));
  uv_run(&loop_, UV_RUN_DEFAULT);  // returns when nothing is in flight: the loop is idle
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(done[i], 1) << i;
    EXPECT_EQ(codes[i], CURLE_OK) << i;
    long status = 0;
    curl_easy_getinfo(easies_[static_cast<std::size_t>(i)], CURLINFO_RESPONSE_CODE, &status);
    EXPECT_EQ(status, 200) << i;
  }
  EXPECT_EQ(server_.requests(), kRequests);
  EXPECT_EQ(multi.in_flight(), 0u);
  EXPECT_EQ(multi.open_handles(), 0u) << "an idle multi holds no libuv handle";

  int closed = 0;
  multi.close([&] { ++closed; });
  EXPECT_EQ(closed, 1) << "nothing was open, so close completes at once";
}

TEST_F(CurlMultiTest, DoneMayStartTheNextTransferAndTheConnectionIsReused) {
  CurlMulti multi(&loop_);
  CURL* e = easy("/again");
  int done = 0;
  std::function<void(CURLcode)> on_done = [&](CURLcode code) {
    EXPECT_EQ(code, CURLE_OK);
    if (++done < 3) {
      EXPECT_TRUE(multi.add(e, on_done));
    }
  };
  ASSERT_TRUE(multi.add(e, on_done));
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(done, 3);
  EXPECT_EQ(server_.requests(), 3);
  EXPECT_EQ(server_.connections(), 1) << "keep-alive through the multi's connection cache";
  multi.close(nullptr);
}

TEST_F(CurlMultiTest, RemovedTransferNeverCallsBack) {
  server_.set_mode(TestHttpServer::Mode::hang);
  CurlMulti multi(&loop_);
  CURL* hanging = easy("/hang");
  int done = 0;
  ASSERT_TRUE(multi.add(hanging, [&](CURLcode) { ++done; }));
  after(100, [&] {
    EXPECT_EQ(server_.requests(), 1);
    multi.remove(hanging);
    EXPECT_EQ(multi.in_flight(), 0u);
    multi.remove(hanging);  // a second remove is a no-op
  });
  uv_run(&loop_, UV_RUN_DEFAULT);  // ends only if the poll and the timer were closed
  EXPECT_EQ(done, 0);
  EXPECT_EQ(multi.open_handles(), 0u);
  multi.close(nullptr);
}

TEST_F(CurlMultiTest, CloseWithTransfersInFlightCallsClosedOnceAndNoDone) {
  server_.set_mode(TestHttpServer::Mode::hang);
  auto multi = std::make_unique<CurlMulti>(&loop_);
  int done = 0;
  int closed = 0;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(multi->add(easy("/hang"), [&](CURLcode) { ++done; }));
  after(100, [&] {
    multi->close([&] {
      ++closed;
      multi.reset();  // allowed: `closed` is called last
    });
    EXPECT_FALSE(multi && multi->add(easies_[0], [&](CURLcode) { ++done; }));
  });
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(done, 0);
  EXPECT_EQ(closed, 1);
  EXPECT_EQ(multi, nullptr);
}

TEST_F(CurlMultiTest, RefusedConnectionReportsCurlsError) {
  CurlMulti multi(&loop_);
  CURL* e = easy("/");
  curl_easy_setopt(e, CURLOPT_URL, "http://127.0.0.1:1/");
  CURLcode result = CURLE_OK;
  int done = 0;
  ASSERT_TRUE(multi.add(e, [&](CURLcode code) {
    ++done;
    result = code;
  }));
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(done, 1);
  EXPECT_EQ(result, CURLE_COULDNT_CONNECT);
  multi.close(nullptr);
}

}  // namespace
}  // namespace covet::net
