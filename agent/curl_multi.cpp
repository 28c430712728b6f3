#include "agent/curl_multi.h"

#include <cassert>
#include <cstdint>
#include <utility>

namespace covet::net {

// One watched socket. Heap-allocated, freed in its close callback; curl keeps a pointer to
// it (curl_multi_assign) until it tells us to stop watching.
struct CurlMulti::Socket {
  uv_poll_t poll{};
  CurlMulti* owner = nullptr;
  curl_socket_t fd = CURL_SOCKET_BAD;
};

CurlMulti::CurlMulti(uv_loop_t* loop) : loop_(loop), multi_(curl_multi_init()) {
  // curl_multi_init fails only when out of memory; nothing sensible can continue then.
  assert(multi_ != nullptr);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer_request);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlMulti::~CurlMulti() {
  // Close callbacks still pending would run on a freed owner.
  assert(closed_ || (transfers_.empty() && open_handles_ == 0));
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
}

bool CurlMulti::add(CURL* easy, Done done) {
  if (closing_ || transfers_.count(easy) != 0) return false;
  // Registered before curl_multi_add_handle: adding calls on_timer_request, which only
  // arms the timer while a transfer is in flight.
  transfers_.emplace(easy, std::move(done));
  if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
    transfers_.erase(easy);
    close_timer_if_idle();
    return false;
  }
  return true;
}

void CurlMulti::remove(CURL* easy) {
  if (transfers_.erase(easy) == 0) return;
  // Synchronously tells on_socket to stop watching the transfer's sockets.
  curl_multi_remove_handle(multi_, easy);
  close_timer_if_idle();
}

void CurlMulti::close(std::function<void()> closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(closed);
  for (auto& [easy, done] : transfers_) curl_multi_remove_handle(multi_, easy);
  transfers_.clear();
  // Closes the cached keep-alive connections too.
  curl_multi_cleanup(multi_);
  multi_ = nullptr;
  close_timer_if_idle();
  maybe_finish_close();
}

int CurlMulti::on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp, void* socketp) {
  auto* self = static_cast<CurlMulti*>(userp);
  auto* socket = static_cast<Socket*>(socketp);
  if (what == CURL_POLL_REMOVE) {
    // curl closes the fd right after this returns: stop polling it now, while it is
    // still ours, and let the close callback free the memory.
    if (socket != nullptr) {
      if (self->multi_ != nullptr) curl_multi_assign(self->multi_, fd, nullptr);
      self->close_poll(socket);
    }
    return 0;
  }
  if (socket == nullptr) {
    socket = new Socket;
    socket->owner = self;
    socket->fd = fd;
    socket->poll.data = socket;
    if (uv_poll_init_socket(self->loop_, &socket->poll, fd) != 0) {
      // Never initialised, so no close callback: free here and fail the transfer.
      delete socket;
      return -1;
    }
    ++self->open_handles_;
    curl_multi_assign(self->multi_, fd, socket);
  }
  int events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= UV_READABLE;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= UV_WRITABLE;
  uv_poll_start(&socket->poll, events, &CurlMulti::on_poll);
  return 0;
}

int CurlMulti::on_timer_request(CURLM* /*multi*/, long timeout_ms, void* userp) {
  auto* self = static_cast<CurlMulti*>(userp);
  if (timeout_ms < 0) {
    if (self->timer_ != nullptr) uv_timer_stop(self->timer_);
    return 0;
  }
  // An idle multi keeps no handle open (see the header); curl has nothing to time then.
  if (self->transfers_.empty() || self->closing_) return 0;
  if (self->timer_ == nullptr) {
    self->timer_ = new uv_timer_t;
    uv_timer_init(self->loop_, self->timer_);
    self->timer_->data = self;
    ++self->open_handles_;
  }
  // A timeout of 0 means "as soon as possible": a 0 ms timer, because socket_action must
  // not be called from inside this callback.
  uv_timer_start(self->timer_, &CurlMulti::on_timer, static_cast<std::uint64_t>(timeout_ms), 0);
  return 0;
}

void CurlMulti::on_poll(uv_poll_t* poll, int status, int events) {
  auto* socket = static_cast<Socket*>(poll->data);
  int flags = 0;
  if (status < 0) {
    flags = CURL_CSELECT_ERR;  // curl reads the socket's error itself
  } else {
    if ((events & UV_READABLE) != 0) flags |= CURL_CSELECT_IN;
    if ((events & UV_WRITABLE) != 0) flags |= CURL_CSELECT_OUT;
  }
  socket->owner->action(socket->fd, flags);
}

void CurlMulti::on_timer(uv_timer_t* timer) {
  static_cast<CurlMulti*>(timer->data)->action(CURL_SOCKET_TIMEOUT, 0);
}

void CurlMulti::on_handle_closed(uv_handle_t* handle) {
  CurlMulti* owner = nullptr;
  if (handle->type == UV_POLL) {
    auto* socket = static_cast<Socket*>(handle->data);
    owner = socket->owner;
    delete socket;
  } else {
    owner = static_cast<CurlMulti*>(handle->data);
    delete reinterpret_cast<uv_timer_t*>(handle);
  }
  --owner->open_handles_;
  owner->maybe_finish_close();
}

void CurlMulti::action(curl_socket_t fd, int ev_bitmask) {
  if (multi_ == nullptr) return;  // closing: a poll event raced the close
  int running = 0;
  curl_multi_socket_action(multi_, fd, ev_bitmask, &running);
  read_completions();
  close_timer_if_idle();
}

void CurlMulti::read_completions() {
  int queued = 0;
  while (multi_ != nullptr) {
    CURLMsg* message = curl_multi_info_read(multi_, &queued);
    if (message == nullptr) break;
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    const CURLcode code = message->data.result;
    const auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;  // removed by an earlier completion's callback
    Done done = std::move(it->second);
    transfers_.erase(it);
    curl_multi_remove_handle(multi_, easy);
    // Last: `done` may add transfers (the next check), remove others, or close us.
    if (done) done(code);
  }
}

void CurlMulti::close_poll(Socket* socket) {
  uv_poll_stop(&socket->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&socket->poll), &CurlMulti::on_handle_closed);
}

void CurlMulti::close_timer_if_idle() {
  if (timer_ == nullptr || !transfers_.empty()) return;
  uv_timer_stop(timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(timer_), &CurlMulti::on_handle_closed);
  timer_ = nullptr;
}

void CurlMulti::maybe_finish_close() {
  if (!closing_ || closed_ || open_handles_ != 0) return;
  closed_ = true;
  // Moved out first: `closed` may destroy this object.
  if (std::function<void()> closed = std::move(on_closed_)) closed();
}

}  // namespace covet::net
