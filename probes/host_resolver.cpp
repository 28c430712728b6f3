#include "probes/host_resolver.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>

namespace covet::probes {

bool is_ip_literal(std::string_view host) {
  const std::string text(host);
  std::array<unsigned char, sizeof(in6_addr)> buffer{};
  return inet_pton(AF_INET, text.c_str(), buffer.data()) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer.data()) == 1;
}

// Owned by libuv from uv_getaddrinfo until its callback; `owner` is cleared when the lookup
// is abandoned, so a late answer goes nowhere.
struct HostResolver::Lookup {
  uv_getaddrinfo_t request{};
  HostResolver* owner = nullptr;
  Done done;

  static void on_resolved(uv_getaddrinfo_t* request, int status, addrinfo* result) {
    std::unique_ptr<Lookup> lookup(static_cast<Lookup*>(request->data));
    std::unique_ptr<addrinfo, decltype(&uv_freeaddrinfo)> list(result, &uv_freeaddrinfo);
    if (lookup->owner == nullptr) return;
    lookup->owner->lookup_ = nullptr;
    if (status != 0) {
      const std::string error =
          std::string(status == UV_EAI_NONAME ? "unknown host" : uv_strerror(status)) + " (" +
          uv_err_name(status) + ")";
      return lookup->done({}, error);
    }
    std::vector<std::string> addresses;
    for (const addrinfo* entry = result; entry != nullptr && addresses.size() < 8;
         entry = entry->ai_next) {
      std::array<char, INET6_ADDRSTRLEN> text{};
      if (entry->ai_family == AF_INET) {
        uv_ip4_name(reinterpret_cast<const sockaddr_in*>(entry->ai_addr), text.data(), text.size());
      } else if (entry->ai_family == AF_INET6) {
        uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(entry->ai_addr), text.data(),
                    text.size());
      } else {
        continue;
      }
      std::string address(text.data());
      if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) {
        addresses.push_back(std::move(address));
      }
    }
    if (addresses.empty()) return lookup->done({}, "no IPv4 or IPv6 address");
    lookup->done(std::move(addresses), "");
  }
};

void HostResolver::resolve(const std::string& host, Done done) {
  abandon();
  auto lookup = std::make_unique<Lookup>();
  lookup->owner = this;
  lookup->done = std::move(done);
  lookup->request.data = lookup.get();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const int rc =
      uv_getaddrinfo(loop_, &lookup->request, &Lookup::on_resolved, host.c_str(), nullptr, &hints);
  if (rc != 0) {
    // Not started (out of memory, a name libuv refuses): answered at once.
    Done failed = std::move(lookup->done);
    failed({}, std::string(uv_strerror(rc)) + " (" + uv_err_name(rc) + ")");
    return;
  }
  lookup_ = lookup.release();
}

void HostResolver::abandon() {
  if (lookup_ == nullptr) return;
  lookup_->owner = nullptr;
  // Frees nothing: the callback still runs (with UV_ECANCELED if the lookup had not started)
  // and deletes the lookup.
  uv_cancel(reinterpret_cast<uv_req_t*>(&lookup_->request));
  lookup_ = nullptr;
}

}  // namespace covet::probes
