#include "probes/redis_uv_adapter.h"

#include <fmt/format.h>

namespace covet::probes::redis_uv {
namespace {

// What hiredis' ev.data points at. Heap-allocated and freed in the poll handle's close
// callback: hiredis calls the cleanup hook (and forgets the context) before uv_close has
// finished with the handle.
struct Events {
  uv_poll_t poll{};
  redisAsyncContext* context = nullptr;  // nullptr once hiredis has cleaned up
  int events = 0;                        // UV_READABLE | UV_WRITABLE hiredis asked for
};

void on_poll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<Events*>(handle->data);
  if (self->context == nullptr) return;  // closing
  if (status < 0) {
    // An error on the socket (libuv passes UV_EBADF for EPOLLERR and stops the poll). Let
    // hiredis look anyway: while connecting, its write handler reads SO_ERROR and calls the
    // connect callback with the real error; once connected, its read handler gets recv's
    // error and disconnects. Either way the context is freed, so the stopped poll is not
    // restarted here.
    events = UV_WRITABLE | UV_READABLE;
  }
  // The write handler first: on a connecting socket it is the one that completes (or fails)
  // the connect. Each handler may free the context (the cleanup hook then clears it).
  if ((events & UV_WRITABLE) != 0) redisAsyncHandleWrite(self->context);
  if (self->context != nullptr && (events & UV_READABLE) != 0) {
    redisAsyncHandleRead(self->context);
  }
}

void update(Events* self) {
  // hiredis calls the hooks repeatedly with the same request (they must be idempotent);
  // uv_poll_start on a started handle just changes its events.
  if (self->events != 0) {
    uv_poll_start(&self->poll, self->events, on_poll);
  } else {
    uv_poll_stop(&self->poll);
  }
}

void add_read(void* data) {
  auto* self = static_cast<Events*>(data);
  self->events |= UV_READABLE;
  update(self);
}
void del_read(void* data) {
  auto* self = static_cast<Events*>(data);
  self->events &= ~UV_READABLE;
  update(self);
}
void add_write(void* data) {
  auto* self = static_cast<Events*>(data);
  self->events |= UV_WRITABLE;
  update(self);
}
void del_write(void* data) {
  auto* self = static_cast<Events*>(data);
  self->events &= ~UV_WRITABLE;
  update(self);
}
void cleanup(void* data) {
  auto* self = static_cast<Events*>(data);
  self->context = nullptr;
  // Stops the poll and detaches the fd at once, so hiredis may close the fd right after.
  uv_close(reinterpret_cast<uv_handle_t*>(&self->poll),
           [](uv_handle_t* handle) { delete static_cast<Events*>(handle->data); });
}

}  // namespace

int attach(redisAsyncContext* context, uv_loop_t* loop) {
  if (context->ev.data != nullptr) return UV_EBUSY;  // already attached to something
  auto* events = new Events;
  const int rc = uv_poll_init_socket(loop, &events->poll, context->c.fd);
  if (rc != 0) {
    // Not initialized, so not closed: plain delete.
    delete events;
    return rc;
  }
  events->poll.data = events;
  events->context = context;
  context->ev.data = events;
  context->ev.addRead = add_read;
  context->ev.delRead = del_read;
  context->ev.addWrite = add_write;
  context->ev.delWrite = del_write;
  context->ev.cleanup = cleanup;
  return 0;
}

bool AsyncConnection::connect_tcp(uv_loop_t* loop, const std::string& host, int port,
                                  const Callbacks& callbacks, std::string& error) {
  reset();
  return adopt(redisAsyncConnect(host.c_str(), port), loop, callbacks, error);
}

bool AsyncConnection::connect_unix(uv_loop_t* loop, const std::string& path,
                                   const Callbacks& callbacks, std::string& error) {
  reset();
  return adopt(redisAsyncConnectUnix(path.c_str()), loop, callbacks, error);
}

bool AsyncConnection::adopt(redisAsyncContext* context, uv_loop_t* loop, const Callbacks& callbacks,
                            std::string& error) {
  if (context == nullptr) {
    error = "out of memory";
    return false;
  }
  if (context->err != 0) {
    // The connect failed at once (a Unix socket path with nothing behind it, a name that
    // does not resolve); nothing is attached yet, so freeing calls no hook.
    error = context->errstr != nullptr ? context->errstr : "connect failed";
    redisAsyncFree(context);
    return false;
  }
  if (const int rc = attach(context, loop); rc != 0) {
    error = fmt::format("poll: {}", uv_strerror(rc));
    redisAsyncFree(context);
    return false;
  }
  context->data = callbacks.data;
  // Order matters: hiredis starts watching for writability (the connect's completion) when
  // the connect callback is set, through the hooks attached above.
  redisAsyncSetDisconnectCallback(context, callbacks.on_disconnect);
  redisAsyncSetConnectCallback(context, callbacks.on_connect);
  context_ = context;
  return true;
}

void AsyncConnection::reset() {
  redisAsyncContext* context = std::exchange(context_, nullptr);
  if (context == nullptr) return;
  context->data = nullptr;
  redisAsyncFree(context);
}

void AsyncConnection::forget() {
  redisAsyncContext* context = std::exchange(context_, nullptr);
  if (context != nullptr) context->data = nullptr;
}

}  // namespace covet::probes::redis_uv
