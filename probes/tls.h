#pragma once
// TLS probe: a handshake with a server to report its certificate's dates, so an expiring
// certificate is seen weeks before clients fail. The connection is a uv_tcp on the loop
// (names resolved with uv_getaddrinfo on libuv's pool), optionally upgraded with
// PostgreSQL's SSLRequest first; OpenSSL runs over two memory BIOs, fed from and flushed
// to that socket, so nothing blocks the loop. Verification does not abort the handshake:
// its result is read afterwards, so an expired, untrusted or misnamed certificate is
// still described (dates, subject) and reported with its own reason.

#include <openssl/ssl.h>
#include <sys/types.h>
#include <uv.h>

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "config/host_port.h"
#include "probes/probe.h"

namespace covet::probes {

class TlsProbe final : public Probe {
 public:
  // Wall-clock "now" the dates are judged against; injectable for tests.
  using Now = std::function<std::chrono::system_clock::time_point()>;

  TlsProbe(uv_loop_t* loop, config::TlsProbeConfig config, Now now = {});
  // Abandons a check in flight; its handles close (and free) on the loop after we are gone.
  ~TlsProbe() override;
  TlsProbe(const TlsProbe&) = delete;
  TlsProbe& operator=(const TlsProbe&) = delete;

  void start(Completion done) override;
  void cancel() override;

 private:
  struct Attempt;
  void finish(ProbeResult result);
  // Brings ssl_context_ up to date: built once, and again when ca_file changes (its size,
  // modification time or inode), so a rotated CA is picked up without parsing the trust
  // store on every check. On failure ssl_context_ is empty and context_error_ says why.
  void refresh_ssl_context();

  uv_loop_t* loop_;
  config::TlsProbeConfig config_;
  config::HostPort target_;  // port 0 when the address does not parse (the loader rejects it)
  Now now_;
  // Shared with the attempts in flight, which may outlive a reload.
  std::shared_ptr<SSL_CTX> ssl_context_;
  std::string context_error_;
  struct CaFileStamp {
    off_t size = -1;
    ino_t inode = 0;
    timespec modified{};
  } ca_file_stamp_;
  Attempt* in_flight_ = nullptr;  // owns itself; points back here until finished or abandoned
  Completion done_;
};

}  // namespace covet::probes
