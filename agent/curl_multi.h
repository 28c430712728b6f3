#pragma once
// libcurl's multi-socket interface driven by the agent's libuv loop: curl says which sockets
// to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION); a
// uv_poll_t per socket and one uv_timer_t report back through curl_multi_socket_action.
// Generic on purpose: the http probe uses it now, scraping and OTLP export later.
//
// Handles exist only while transfers are in flight: curl stops watching a socket when its
// transfer ends (an idle keep-alive connection waits in the multi's cache unwatched), and
// the timer is closed when the last transfer leaves. An idle CurlMulti therefore holds no
// libuv handle, which is what lets an owner without a close step be destroyed between runs.
//
// Ownership: the CurlMulti owns the CURLM and its libuv handles; callers own their easy
// handles and must remove() (or let complete) each before curl_easy_cleanup.

#include <curl/curl.h>
#include <uv.h>

#include <cstddef>
#include <functional>
#include <unordered_map>

namespace covet::net {

class CurlMulti {
 public:
  using Done = std::function<void(CURLcode)>;

  explicit CurlMulti(uv_loop_t* loop);
  // Asserts that close() finished or that nothing is open (no transfer, no handle).
  ~CurlMulti();
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  // Starts `easy`; `done` runs once on the loop with curl's result, after `easy` has been
  // removed from the multi (so `done` may re-add it or clean it up). False, with `done`
  // dropped, when curl refuses the handle or we are closing.
  bool add(CURL* easy, Done done);
  // Abandons `easy` without calling its `done`. A no-op for a handle not in flight.
  void remove(CURL* easy);
  // Abandons every transfer (no `done` calls), closes every handle, then calls `closed`
  // last: the CurlMulti may be destroyed inside it.
  void close(std::function<void()> closed);

  std::size_t in_flight() const { return transfers_.size(); }
  // libuv handles not yet through their close callback; 0 when idle.
  std::size_t open_handles() const { return open_handles_; }

 private:
  struct Socket;

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int on_timer_request(CURLM* multi, long timeout_ms, void* userp);
  static void on_poll(uv_poll_t* poll, int status, int events);
  static void on_timer(uv_timer_t* timer);
  static void on_handle_closed(uv_handle_t* handle);

  void action(curl_socket_t fd, int ev_bitmask);
  void read_completions();
  void close_poll(Socket* socket);
  void close_timer_if_idle();
  void maybe_finish_close();

  uv_loop_t* loop_;
  CURLM* multi_;
  uv_timer_t* timer_ = nullptr;  // heap: freed in its close callback
  std::unordered_map<CURL*, Done> transfers_;
  std::size_t open_handles_ = 0;
  bool closing_ = false;
  bool closed_ = false;
  std::function<void()> on_closed_;
};

}  // namespace covet::net
