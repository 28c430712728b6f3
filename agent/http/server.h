#pragma once
// The HTTP/1.1 server on the agent's libuv loop: keep-alive, pipelining, GET and HEAD,
// bounded everywhere (header bytes, body bytes per route, open connections, idle time,
// time to receive a request), and a graceful drain for sidecar shutdown.
//
// Ownership: the Server owns the listener and every Connection. Each uv handle is closed
// exactly once and its memory released in its close callback. The destructor asserts that
// close() completed.

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "agent/http/date_cache.h"
#include "agent/http/request_parser.h"
#include "agent/http/response.h"
#include "agent/http/types.h"

namespace covet {
class Logger;
}

namespace covet::http {

class Router {
 public:
  virtual ~Router() = default;
  // Called once the headers are in; decides 404/405/413 before any body is read.
  virtual RouteInfo lookup(std::string_view path) const = 0;
  // Called for a complete request whose method is in the route's Allow list. HEAD is
  // handled as GET; the server drops the body but keeps Content-Length.
  virtual Reply handle(const Request& request) = 0;

  // For routes whose RouteInfo is `deferred` (a /metrics that waits for a scrape): the
  // reply comes later. `respond` must be called once, on the loop thread, before
  // handle_later returns or after; once the connection is gone it does nothing. Until then
  // the connection answers nothing else (responses keep their order), and a reply that has
  // not come within request_timeout is answered 503 by the server. The Request's views are
  // valid only until handle_later returns. By default: handle(), at once.
  using Respond = std::function<void(Reply)>;
  virtual void handle_later(const Request& request, Respond respond) { respond(handle(request)); }
};

struct ServerLimits {
  std::uint32_t max_connections = 1024;
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds request_timeout{10000};
  std::size_t max_header_bytes = 16 * 1024;
};

// Counters the metrics layer exports (covet_sidecar_http_*).
struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_rejected = 0;  // over max_connections
  std::uint64_t requests = 0;
  std::uint64_t bad_requests = 0;  // 400/413/431 sent by the server itself
  std::uint64_t timeouts = 0;      // idle or slow connections cut
};

namespace detail {
class Connection;
}

class Server {
 public:
  Server(uv_loop_t* loop, Router& router, ServerLimits limits, Logger& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Returns "" or an error such as
  // "listen 0.0.0.0:8099: address already in use".
  std::string listen(const std::string& host, std::uint16_t port);
  std::uint16_t bound_port() const { return bound_port_; }

  // Graceful drain: stop accepting, close idle connections now, and close each busy
  // connection after the response it is working on (sent with Connection: close).
  // `drained` is called once, after the last connection's close callback. When nothing is
  // open it runs synchronously, inside drain(). A second drain() is a no-op.
  void drain(std::function<void()> drained);
  // Cuts every connection and closes the listener; `closed` runs after every close
  // callback. Safe after drain() and safe to call twice (the second `closed` is dropped).
  // A drain still pending when close() completes has its `drained` called first, so a
  // shutdown waiting on it does not hang. Like drain(), synchronous when nothing is open.
  void close(std::function<void()> closed);

  std::size_t open_connections() const { return connections_.size(); }
  const ServerStats& stats() const { return stats_; }

 private:
  friend class detail::Connection;
  static void on_connection(uv_stream_t* listener, int status);
  static void on_listener_closed(uv_handle_t* handle);
  static void on_rejected_closed(uv_handle_t* handle);
  void on_connection_closed(detail::Connection* connection);
  void maybe_finish();
  void reject(uv_stream_t* listener);
  void close_listener();
  // The server's own short text/plain answers (400, 404, 408, 413, 431, 500, 505).
  const PreparedResponse& status_reply(int status) const;
  Reply shared_status_reply(int status) const;

  uv_loop_t* loop_;
  Router& router_;
  ServerLimits limits_;
  Logger& log_;
  ServerStats stats_;
  DateCache date_cache_;
  uv_tcp_t listener_{};
  bool listening_ = false;
  bool listener_closed_ = true;  // true when no listener handle is open
  bool draining_ = false;
  bool closing_ = false;
  std::uint16_t bound_port_ = 0;
  // Owned: created in on_connection, deleted in on_connection_closed (from the
  // connection's last close callback).
  std::unordered_set<detail::Connection*> connections_;
  std::function<void()> drained_;
  std::function<void()> closed_;
  bool rejection_logged_ = false;
  bool accept_error_logged_ = false;
  std::size_t rejected_closing_ = 0;   // refused sockets whose close callback is pending
  std::vector<Reply> status_replies_;  // built once in the constructor
};

}  // namespace covet::http
