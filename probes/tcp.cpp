#include "probes/tcp.h"

#include <cstring>
#include <string>
#include <utility>

namespace covet::probes {
namespace {

std::string uv_message(int code) {
  return std::string(uv_err_name(code)) + " " + uv_strerror(code);
}

}  // namespace

// One connection attempt. It owns itself from start() until the last of its libuv requests
// and handles has called back, because a getaddrinfo on the thread pool cannot be taken back
// once running and a cancelled probe must not wait for it. `probe` is cleared when the
// check is abandoned or reported; nothing is reported after that.
struct TcpProbe::Attempt {
  TcpProbe* probe = nullptr;
  uv_loop_t* loop = nullptr;
  std::string address;  // as configured, for messages
  uv_getaddrinfo_t resolve{};
  uv_connect_t connect{};
  uv_tcp_t tcp{};
  bool tcp_open = false;  // initialised and not yet closed
  bool resolving = false;

  // The one result of the check, unless it was abandoned.
  void report(Status status, std::string reason, std::string error) {
    TcpProbe* owner = std::exchange(probe, nullptr);
    if (owner == nullptr) return;
    ProbeResult result;
    result.status = status;
    result.reason = std::move(reason);
    result.error = std::move(error);
    result.detail.emplace_back("address", address);
    owner->finish(std::move(result));
  }

  void fail(int code, std::string_view operation) {
    report(Status::failing, code == UV_ECONNREFUSED ? "refused" : "io_error",
           std::string(operation) + " " + address + ": " + uv_message(code));
  }

  // The only close path of `tcp`; its close callback frees the attempt.
  void close_tcp() {
    if (!tcp_open) return;
    tcp_open = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp),
             [](uv_handle_t* h) { delete static_cast<Attempt*>(h->data); });
  }

  void connect_to(const sockaddr* target) {
    uv_tcp_init(loop, &tcp);
    tcp.data = this;
    connect.data = this;
    tcp_open = true;
    const int rc = uv_tcp_connect(&connect, &tcp, target, &Attempt::on_connect);
    if (rc != 0) {
      // Reported first: close_tcp's callback frees us on a later loop turn, not now.
      fail(rc, "connect");
      close_tcp();
    }
  }

  static void on_connect(uv_connect_t* req, int status) {
    auto* self = static_cast<Attempt*>(req->data);
    // UV_ECANCELED: cancel() closed the handle; the attempt was abandoned and is not heard of.
    if (status == 0) {
      self->report(Status::passing, "", "");
    } else if (status != UV_ECANCELED) {
      self->fail(status, "connect");
    }
    // The connection has done its job either way: close it at once.
    self->close_tcp();
  }

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result) {
    auto* self = static_cast<Attempt*>(req->data);
    self->resolving = false;
    if (self->probe == nullptr) {  // abandoned while the lookup ran
      uv_freeaddrinfo(result);
      delete self;
      return;
    }
    if (status != 0 || result == nullptr) {
      uv_freeaddrinfo(result);
      self->report(Status::failing, "dns", "resolve " + self->address + ": " + uv_message(status));
      delete self;
      return;
    }
    // The first address only, as a simple client would connect.
    sockaddr_storage target{};
    std::memcpy(&target, result->ai_addr, result->ai_addrlen);
    uv_freeaddrinfo(result);
    self->connect_to(reinterpret_cast<const sockaddr*>(&target));
  }
};

TcpProbe::TcpProbe(uv_loop_t* loop, config::TcpProbeConfig config)
    : loop_(loop), config_(std::move(config)) {
  auto parsed = config::parse_host_port(config_.address);
  if (auto* target = std::get_if<config::HostPort>(&parsed)) target_ = std::move(*target);
}

TcpProbe::~TcpProbe() { cancel(); }

void TcpProbe::cancel() {
  done_ = nullptr;
  Attempt* attempt = std::exchange(in_flight_, nullptr);
  if (attempt == nullptr) return;
  attempt->probe = nullptr;
  if (attempt->resolving) {
    // Succeeds only while the lookup is still queued; then on_resolved runs with
    // UV_EAI_CANCELED. A running lookup calls back later; either way on_resolved frees.
    uv_cancel(reinterpret_cast<uv_req_t*>(&attempt->resolve));
    return;
  }
  // Closing a connecting handle runs on_connect with UV_ECANCELED, then the close callback
  // frees the attempt.
  attempt->close_tcp();
}

void TcpProbe::finish(ProbeResult result) {
  in_flight_ = nullptr;
  // Last, moved out: the scheduler may start the next check from inside.
  if (Completion done = std::exchange(done_, nullptr)) done(std::move(result));
}

void TcpProbe::start(Completion done) {
  done_ = std::move(done);
  auto* attempt = new Attempt;
  attempt->probe = this;
  attempt->loop = loop_;
  attempt->address = config_.address;
  attempt->resolve.data = attempt;
  in_flight_ = attempt;
  if (target_.port == 0) {
    attempt->report(Status::failing, "io_error", "connect " + config_.address + ": bad address");
    delete attempt;
    return;
  }

  // IP literals skip the resolver and its thread pool.
  sockaddr_storage literal{};
  const char* host = target_.host.c_str();
  if (uv_ip4_addr(host, target_.port, reinterpret_cast<sockaddr_in*>(&literal)) == 0 ||
      uv_ip6_addr(host, target_.port, reinterpret_cast<sockaddr_in6*>(&literal)) == 0) {
    attempt->connect_to(reinterpret_cast<const sockaddr*>(&literal));
    return;
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  const std::string port = std::to_string(target_.port);
  attempt->resolving = true;
  const int rc =
      uv_getaddrinfo(loop_, &attempt->resolve, &Attempt::on_resolved, host, port.c_str(), &hints);
  if (rc != 0) {
    attempt->resolving = false;
    attempt->report(Status::failing, "dns", "resolve " + config_.address + ": " + uv_message(rc));
    delete attempt;
  }
}

}  // namespace covet::probes
