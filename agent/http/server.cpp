#include "agent/http/server.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <utility>

#include "agent/http/connection.h"
#include "agent/logging.h"

namespace covet::http {
namespace {

// The statuses the server answers by itself, each with a short text body.
constexpr int kServerStatuses[] = {400, 404, 408, 413, 431, 500, 503, 505};

// "listen 0.0.0.0:8099: address already in use"
std::string uv_error(std::string_view operation, int code) {
  return fmt::format("{}: {}", operation, uv_strerror(code));
}

std::string host_port(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return ipv6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

Reply make_status_reply(int status) {
  Response response;
  response.status = status;
  response.body = std::string(reason_phrase(status));
  std::transform(response.body.begin(), response.body.end(), response.body.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  response.body += '\n';
  return PreparedResponse::make(response);
}

uv_stream_t* as_stream(uv_tcp_t* tcp) { return reinterpret_cast<uv_stream_t*>(tcp); }
uv_handle_t* as_handle(uv_tcp_t* tcp) { return reinterpret_cast<uv_handle_t*>(tcp); }

}  // namespace

Server::Server(uv_loop_t* loop, Router& router, ServerLimits limits, Logger& log)
    : loop_(loop), router_(router), limits_(limits), log_(log) {
  listener_.data = this;
  for (int status : kServerStatuses) status_replies_.push_back(make_status_reply(status));
}

Server::~Server() {
  // close() must have completed (its callback run) before the Server goes away.
  assert(listener_closed_ && connections_.empty() && rejected_closing_ == 0);
}

std::string Server::listen(const std::string& host, std::uint16_t port) {
  const std::string operation = "listen " + host_port(host, port);
  if (closing_ || draining_) return operation + ": server is shutting down";
  if (!listener_closed_) {
    // After a failed listen() the handle is closing until the loop runs its close callback.
    const bool closing = uv_is_closing(as_handle(&listener_)) != 0;
    return operation + (closing ? ": previous listener still closing" : ": already listening");
  }

  sockaddr_storage addr{};
  const bool ipv6 = host.find(':') != std::string::npos;
  const int addr_rc = ipv6 ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
                           : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (addr_rc < 0) return uv_error(operation, addr_rc);

  if (const int rc = uv_tcp_init(loop_, &listener_); rc < 0) return uv_error(operation, rc);
  listener_closed_ = false;
  listener_.data = this;
  // libuv reports most bind errors (EADDRINUSE) from uv_listen, so both are checked.
  int rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(as_stream(&listener_), SOMAXCONN, &Server::on_connection);
  if (rc < 0) {
    // The handle is ours to release; listener_closed_ turns true in its close callback.
    close_listener();
    return uv_error(operation, rc);
  }
  sockaddr_storage bound{};
  int bound_len = sizeof(bound);
  if (uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &bound_len) == 0) {
    bound_port_ = bound.ss_family == AF_INET6
                      ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
                      : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  }
  listening_ = true;
  return "";
}

void Server::drain(std::function<void()> drained) {
  if (draining_ || closing_) return;
  draining_ = true;
  drained_ = std::move(drained);
  close_listener();
  // Connection::drain at most starts uv_close; connections leave connections_ only in their
  // close callbacks, on a later loop iteration, so iterating here is safe.
  for (detail::Connection* connection : connections_) connection->drain();
  maybe_finish();
}

void Server::close(std::function<void()> closed) {
  if (closing_) return;
  closing_ = true;
  closed_ = std::move(closed);
  close_listener();
  for (detail::Connection* connection : connections_) connection->close();
  maybe_finish();
}

void Server::on_connection(uv_stream_t* listener, int status) {
  auto& server = *static_cast<Server*>(listener->data);
  if (status < 0) {
    // EMFILE and friends repeat for as long as the condition lasts: logged once.
    if (!server.accept_error_logged_) {
      server.accept_error_logged_ = true;
      server.log_.warn("http accept failed", {{"error", uv_strerror(status)}});
    }
    return;
  }
  if (server.connections_.size() >= server.limits_.max_connections) {
    server.reject(listener);
    return;
  }
  auto connection = std::make_unique<detail::Connection>(server);
  detail::Connection* raw = connection.get();
  server.connections_.insert(raw);
  connection.release();  // owned by connections_ now; deleted in on_connection_closed
  if (const int rc = raw->accept(listener); rc < 0) {
    server.log_.debug("http accept failed", {{"error", uv_strerror(rc)}});
    raw->close();
    return;
  }
  ++server.stats_.connections_accepted;
  server.accept_error_logged_ = false;
}

// Over max_connections: accept and close at once, so the client hears a clean close rather
// than hanging in the backlog. libuv stops polling the listener until we accept.
void Server::reject(uv_stream_t* listener) {
  auto socket = std::make_unique<uv_tcp_t>();
  if (uv_tcp_init(loop_, socket.get()) < 0) return;
  socket->data = this;
  // If accept fails there is nothing to refuse; the handle is closed either way.
  uv_accept(listener, as_stream(socket.get()));
  ++rejected_closing_;
  uv_close(as_handle(socket.release()), &Server::on_rejected_closed);
  ++stats_.connections_rejected;
  if (!rejection_logged_) {
    rejection_logged_ = true;
    const auto limit = fmt::format_int(limits_.max_connections);
    log_.warn("http connection refused: max_connections reached",
              {{"max_connections", limit.str()}});
  }
}

void Server::on_rejected_closed(uv_handle_t* handle) {
  auto& server = *static_cast<Server*>(handle->data);
  delete reinterpret_cast<uv_tcp_t*>(handle);
  --server.rejected_closing_;
  server.maybe_finish();
}

void Server::close_listener() {
  listening_ = false;
  if (listener_closed_ || uv_is_closing(as_handle(&listener_))) return;
  uv_close(as_handle(&listener_), &Server::on_listener_closed);
}

void Server::on_listener_closed(uv_handle_t* handle) {
  auto& server = *static_cast<Server*>(handle->data);
  server.listener_closed_ = true;
  server.maybe_finish();
}

void Server::on_connection_closed(detail::Connection* connection) {
  connections_.erase(connection);
  delete connection;
  // Below the limit again: the next refusal is news worth a log line.
  if (connections_.size() < limits_.max_connections) rejection_logged_ = false;
  maybe_finish();
}

void Server::maybe_finish() {
  if (!listener_closed_ || !connections_.empty() || rejected_closing_ != 0) return;
  // Moved out before calling: either callback may destroy this Server, or call close().
  auto drained = std::move(drained_);
  auto closed = std::move(closed_);
  drained_ = nullptr;
  closed_ = nullptr;
  if (drained) drained();
  if (closed) closed();
}

const PreparedResponse& Server::status_reply(int status) const {
  return *shared_status_reply(status);
}

Reply Server::shared_status_reply(int status) const {
  for (const Reply& reply : status_replies_) {
    if (reply->status == status) return reply;
  }
  // Every status the server produces is in kServerStatuses; 500 is the safe fallback.
  for (const Reply& reply : status_replies_) {
    if (reply->status == 500) return reply;
  }
  return status_replies_.front();
}

}  // namespace covet::http
