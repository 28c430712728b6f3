#pragma once
// Resolves a host name on libuv's thread pool, for client libraries whose own resolution is
// a blocking getaddrinfo on the calling thread (libpq's PQconnectPoll, hiredis' connect): a
// slow DNS server must stall one probe, not the loop that answers /health/live.

#include <uv.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace covet::probes {

// True for "127.0.0.1", "::1" and the like: nothing to resolve.
bool is_ip_literal(std::string_view host);

class HostResolver {
 public:
  // The numeric addresses in resolver order (deduplicated, at most 8), or an error such as
  // "unknown host (EAI_NONAME)". Called on the loop thread.
  using Done = std::function<void(std::vector<std::string> addresses, std::string error)>;

  explicit HostResolver(uv_loop_t* loop) : loop_(loop) {}
  ~HostResolver() { abandon(); }
  HostResolver(const HostResolver&) = delete;
  HostResolver& operator=(const HostResolver&) = delete;

  // Starts a lookup (abandoning one in flight). `done` is called once unless abandon() is
  // called first: later, or before resolve() returns when the lookup cannot start.
  void resolve(const std::string& host, Done done);
  // `done` will not be called. A lookup already running on the pool finishes there and
  // frees itself.
  void abandon();

 private:
  struct Lookup;
  uv_loop_t* loop_;
  Lookup* lookup_ = nullptr;
};

}  // namespace covet::probes
