#pragma once
// hiredis' asynchronous API driven by libuv: one uv_poll_t per redisAsyncContext, started
// and stopped through hiredis' event hooks (addRead/delRead/addWrite/delWrite/cleanup).
//
// Why not hiredis' own adapters/libuv.h: libuv reports an error condition on the socket
// (EPOLLERR, e.g. a refused connect) as status UV_EBADF with no events, and that adapter
// returns early on any status, so hiredis never learns the connect failed and never calls
// the connect callback. Here an error status still runs hiredis' handlers: they read
// SO_ERROR (or recv's error) and report the real cause ("Connection refused").
//
// Ownership: AsyncConnection owns the context until hiredis frees it on its own, which it
// does after an I/O error or a failed connect (and tells us through the connect callback
// with an error, the disconnect callback, or reply callbacks with a NULL reply); the owner
// calls forget() from those callbacks. The poll handle belongs to the context: hiredis'
// cleanup hook closes it, and its memory is freed in the close callback (uv_close is
// asynchronous, so it may outlive both context and owner by one loop iteration).

#include <hiredis/async.h>
#include <uv.h>

#include <string>
#include <utility>

namespace covet::probes::redis_uv {

// Attaches `context` (fresh from redisAsyncConnect*, not yet attached) to `loop`. 0, or a
// libuv error code, in which case nothing is attached and the caller still frees the context.
int attach(redisAsyncContext* context, uv_loop_t* loop);

// Connect and disconnect callbacks, and `data`, set on the context before any I/O runs.
struct Callbacks {
  redisConnectCallback* on_connect = nullptr;
  redisDisconnectCallback* on_disconnect = nullptr;
  void* data = nullptr;  // redisAsyncContext::data
};

class AsyncConnection {
 public:
  AsyncConnection() = default;
  ~AsyncConnection() { reset(); }
  AsyncConnection(AsyncConnection&& other) noexcept
      : context_(std::exchange(other.context_, nullptr)) {}
  AsyncConnection& operator=(AsyncConnection&& other) noexcept {
    if (this != &other) {
      reset();
      context_ = std::exchange(other.context_, nullptr);
    }
    return *this;
  }
  AsyncConnection(const AsyncConnection&) = delete;
  AsyncConnection& operator=(const AsyncConnection&) = delete;

  // Starts a non-blocking connect to host:port (hiredis resolves a host *name* with a
  // blocking getaddrinfo: pass an IP literal) or to a Unix socket path. On failure the
  // connection stays empty and `error` holds hiredis' or libuv's message ("Connection
  // refused", "No such file or directory"); the callbacks are not called.
  bool connect_tcp(uv_loop_t* loop, const std::string& host, int port, const Callbacks& callbacks,
                   std::string& error);
  bool connect_unix(uv_loop_t* loop, const std::string& path, const Callbacks& callbacks,
                    std::string& error);

  redisAsyncContext* get() const { return context_; }
  explicit operator bool() const { return context_ != nullptr; }

  // Frees the context now. Its pending reply callbacks still run, with a NULL reply, and
  // see data == nullptr, which tells them to do nothing. Inside a reply callback hiredis
  // defers the free until the callback returns, which is safe. Never call it inside the
  // connect or disconnect callback (hiredis frees the context itself right after those):
  // call forget() there.
  void reset();
  // hiredis is freeing the context itself: let go without freeing, and detach `data` so
  // the callbacks hiredis still runs on its way out do nothing.
  void forget();

 private:
  bool adopt(redisAsyncContext* context, uv_loop_t* loop, const Callbacks& callbacks,
             std::string& error);

  redisAsyncContext* context_ = nullptr;
};

}  // namespace covet::probes::redis_uv
