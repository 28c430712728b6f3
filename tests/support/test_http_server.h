#pragma once
// A tiny blocking HTTP/1.1 server on 127.0.0.1 for tests of our HTTP clients (the curl
// driver, the http and tcp probes). One thread accepts, one thread per connection answers;
// what it answers can be switched while it runs: a status and body, a hang (read the request,
// never answer), or closing the connection without a response. Keep-alive is honoured.
// Test-only: blocking sockets and threads are fine here, never in the agent.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <thread>

namespace covet::testing {

class TestHttpServer {
 public:
  // respond: answer every request; hang: read requests, never answer; close: drop the
  // connection as soon as anything arrives, without an answer.
  enum class Mode { respond, hang, close };

  TestHttpServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(listen_fd_, 64);
    socklen_t length = sizeof address;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~TestHttpServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    accept_thread_.join();
    ::close(listen_fd_);
    // Connection threads poll with a short timeout and see `stopping_`.
    for (std::thread& t : connection_threads_) t.join();
  }

  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void respond(int status, std::string reason, std::string body) {
    std::lock_guard lock(mutex_);
    mode_ = Mode::respond;
    status_ = status;
    reason_ = std::move(reason);
    body_ = std::move(body);
  }
  // The Content-Type of later answers; "" sends none.
  void set_content_type(std::string content_type) {
    std::lock_guard lock(mutex_);
    content_type_ = std::move(content_type);
  }
  // The Content-Encoding of later answers ("gzip" with a gzipped body); "" sends none.
  void set_content_encoding(std::string encoding) {
    std::lock_guard lock(mutex_);
    content_encoding_ = std::move(encoding);
  }
  // Waits this long before each answer (a slow app).
  void set_delay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delay_ = delay;
  }
  void set_mode(Mode mode) {
    std::lock_guard lock(mutex_);
    mode_ = mode;
  }

  Mode current_mode() const {
    std::lock_guard lock(mutex_);
    return mode_;
  }
  int requests() const { return requests_; }
  int connections() const { return connections_; }
  // The last request's head, for header checks.
  std::string last_request() const {
    std::lock_guard lock(mutex_);
    return last_request_;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      ++connections_;
      connection_threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  // Waits for readable input in short slices so a stop is noticed. False on stop.
  bool wait_readable(int fd) {
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) > 0) return true;
    }
    return false;
  }

  void serve(int fd) {
    std::string buffer;
    while (wait_readable(fd)) {
      char chunk[4096];
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      if (current_mode() == Mode::close) {
        ++requests_;  // whatever arrived, it gets no answer
        break;
      }
      const std::size_t end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      const std::string head = buffer.substr(0, end + 4);
      buffer.erase(0, end + 4);  // requests from our clients carry no body
      ++requests_;
      Mode mode;
      std::string response;
      std::chrono::milliseconds delay{0};
      {
        std::lock_guard lock(mutex_);
        last_request_ = head;
        mode = mode_;
        delay = delay_;
        const bool is_head = head.starts_with("HEAD ");
        response =
            "HTTP/1.1 " + std::to_string(status_) + " " + reason_ +
            "\r\nContent-Length: " + std::to_string(body_.size()) + "\r\n" +
            (content_type_.empty() ? "" : "Content-Type: " + content_type_ + "\r\n") +
            (content_encoding_.empty() ? "" : "Content-Encoding: " + content_encoding_ + "\r\n") +
            "\r\n" + (is_head ? std::string() : body_);
      }
      if (delay.count() > 0) std::this_thread::sleep_for(delay);
      if (mode == Mode::close) break;
      if (mode == Mode::hang) {
        while (!stopping_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        break;
      }
      std::size_t sent = 0;
      while (sent < response.size()) {
        const ssize_t w = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
        if (w <= 0) break;
        sent += static_cast<std::size_t>(w);
      }
    }
    ::close(fd);
  }

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  Mode mode_ = Mode::respond;
  int status_ = 200;
  std::string reason_ = "OK";
  std::string body_ = "ok\n";
  std::string last_request_;
  std::string content_type_;
  std::string content_encoding_;
  std::chrono::milliseconds delay_{0};
  std::thread accept_thread_;
  std::list<std::thread> connection_threads_;  // only the accept thread adds, before join
};

}  // namespace covet::testing
