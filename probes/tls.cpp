#include "probes/tls.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "probes/cert_time.h"
#include "probes/host_resolver.h"
#include "probes/peer_certificates.h"

namespace covet::probes {
namespace {

// PostgreSQL's SSLRequest: int32 length 8, int32 code 80877103 (1234 << 16 | 5679).
constexpr std::array<char, 8> kSslRequest{0, 0, 0, 8, 0x04, static_cast<char>(0xd2), 0x16, 0x2f};

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

std::string uv_message(int code) {
  return std::string(uv_err_name(code)) + " " + uv_strerror(code);
}

// The thread's OpenSSL error queue as one line, emptied: libcurl and libpq share it on this
// thread, so what we leave there would be blamed on them.
std::string take_ssl_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    if (!out.empty()) out += "; ";
    out += text.data();
  }
  return out.empty() ? "unknown error" : out;
}

}  // namespace

// One check. It owns itself from start() until the last of its libuv requests and handles
// has called back (a getaddrinfo on the pool cannot be taken back, a uv_write completes
// before the close callback); `probe` is cleared when the check is abandoned or reported,
// and nothing is reported after that.
struct TlsProbe::Attempt {
  enum class Stage { connecting, awaiting_ssl_answer, handshaking, closing };

  TlsProbe* probe = nullptr;
  uv_loop_t* loop = nullptr;
  config::TlsProbeConfig config;
  std::shared_ptr<SSL_CTX> ssl_context;  // empty: context_error says why
  std::string context_error;
  uv_getaddrinfo_t resolve{};
  uv_connect_t connect{};
  uv_tcp_t tcp{};
  bool tcp_open = false;  // initialised and not yet closed
  bool resolving = false;
  Stage stage = Stage::connecting;
  SslPtr ssl;                                 // owns both memory BIOs
  BIO* in = nullptr;                          // bytes from the server, read by OpenSSL
  BIO* out = nullptr;                         // bytes OpenSSL wants sent
  std::array<char, 16 * 1024> read_buffer{};  // one read at a time: reused

  struct Write {
    uv_write_t request{};
    std::string bytes;
    Attempt* attempt = nullptr;
  };

  ProbeResult base_result() const {
    ProbeResult result;
    result.detail.emplace_back("address", config.address);
    return result;
  }

  // The one result of the check, unless it was abandoned.
  void report(ProbeResult result) {
    TlsProbe* owner = std::exchange(probe, nullptr);
    if (owner == nullptr) return;
    owner->finish(std::move(result));
  }

  void report_failure(std::string reason, std::string error) {
    ProbeResult result = base_result();
    result.status = Status::failing;
    result.reason = std::move(reason);
    result.error = std::move(error);
    report(std::move(result));
  }

  // Reports and closes: the end of every failed check once the socket exists.
  void fail(std::string reason, std::string error) {
    report_failure(std::move(reason), std::move(error));
    close_tcp();
  }

  void fail_io(int code, std::string_view operation) {
    fail(code == UV_ECONNREFUSED ? "refused" : "io_error",
         fmt::format("{} {}: {}", operation, config.address, uv_message(code)));
  }

  // The only close path of `tcp`; its close callback frees the attempt (and with it the
  // SSL object). Writes still queued call back first, with UV_ECANCELED.
  void close_tcp() {
    if (!tcp_open) return;
    tcp_open = false;
    stage = Stage::closing;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp),
             [](uv_handle_t* h) { delete static_cast<Attempt*>(h->data); });
  }

  void send(std::string bytes) {
    auto* write = new Write{{}, std::move(bytes), this};
    write->request.data = write;
    uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
    const int rc = uv_write(&write->request, reinterpret_cast<uv_stream_t*>(&tcp), &buf, 1,
                            [](uv_write_t* request, int status) {
                              auto* done = static_cast<Write*>(request->data);
                              Attempt* self = done->attempt;
                              delete done;
                              // UV_ECANCELED: we closed the socket; nothing to say about it.
                              if (status < 0 && status != UV_ECANCELED)
                                self->fail_io(status, "write");
                            });
    if (rc != 0) {
      delete write;
      fail_io(rc, "write");
    }
  }

  // Sends whatever OpenSSL has produced.
  void flush() {
    while (tcp_open && BIO_ctrl_pending(out) > 0) {
      std::string bytes(BIO_ctrl_pending(out), '\0');
      const int n = BIO_read(out, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) break;
      bytes.resize(static_cast<std::size_t>(n));
      send(std::move(bytes));
    }
  }

  std::optional<std::string> make_ssl() {
    if (!ssl_context) return context_error;
    ssl.reset(SSL_new(ssl_context.get()));
    if (!ssl) return "SSL_new: " + take_ssl_errors();
    const std::string& name = config.server_name;
    if (is_ip_literal(name)) {
      // No SNI for an address (RFC 6066); the certificate must name it in an IP SAN.
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str());
    } else if (!name.empty()) {
      SSL_set_tlsext_host_name(ssl.get(), name.c_str());
      SSL_set1_host(ssl.get(), name.c_str());
    }
    in = BIO_new(BIO_s_mem());
    out = BIO_new(BIO_s_mem());
    if (in == nullptr || out == nullptr) {
      BIO_free(in);
      BIO_free(out);
      in = out = nullptr;
      return "BIO_new: " + take_ssl_errors();
    }
    SSL_set_bio(ssl.get(), in, out);  // the SSL object owns both from here
    SSL_set_connect_state(ssl.get());
    return std::nullopt;
  }

  void begin_tls() {
    stage = Stage::handshaking;
    ERR_clear_error();
    if (std::optional<std::string> error = make_ssl()) {
      fail("handshake_failed", "TLS setup for " + config.address + ": " + *error);
      return;
    }
    drive();
  }

  // Runs the handshake as far as the bytes received so far allow.
  void drive() {
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl.get());
    if (rc == 1) {
      flush();
      completed();
      return;
    }
    const int error = SSL_get_error(ssl.get(), rc);
    flush();  // a ClientHello, or an alert before failing
    if (error == SSL_ERROR_WANT_READ) return;
    fail("handshake_failed",
         fmt::format("TLS handshake with {}: {}", config.address, take_ssl_errors()));
  }

  void completed() {
    if (probe == nullptr) {  // abandoned; cancel() closes, so this is only a safeguard
      close_tcp();
      return;
    }
    ProbeResult result = base_result();
    SSL* s = ssl.get();
    const std::optional<PeerCertificates> certificates = read_peer_certificates(s);
    if (!certificates) {
      fail("handshake_failed", "TLS handshake with " + config.address +
                                   ": no certificate, or one with unreadable dates");
      return;
    }
    cert_time::CertFacts facts;
    facts.subject = certificates->subject;
    facts.server_name = config.server_name;
    facts.not_before = certificates->not_before;
    facts.earliest_not_after = certificates->earliest_not_after;
    facts.verify_result = certificates->verify_result;

    TlsProbe* owner = probe;
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(owner->now_().time_since_epoch()).count();
    cert_time::Verdict verdict = cert_time::judge(facts, now, config.warn_days, config.fail_days);
    result.status = verdict.status;
    result.reason = std::move(verdict.reason);
    result.error = std::move(verdict.error);
    result.detail.emplace_back("subject", certificates->subject);
    result.detail.emplace_back("issuer", certificates->issuer);
    result.detail.emplace_back("not_after", cert_time::format_rfc3339(facts.earliest_not_after));
    result.detail.emplace_back(
        "days_left",
        fmt::format("{:.1f}", static_cast<double>(facts.earliest_not_after - now) / 86400));
    result.detail.emplace_back("tls_version", certificates->version);
    result.readings = certificate_readings(*certificates);

    // Closed politely but without waiting: a close_notify if the socket takes it now.
    stage = Stage::closing;
    ERR_clear_error();
    SSL_shutdown(s);
    ERR_clear_error();
    flush();
    report(std::move(result));
    close_tcp();
  }

  void on_ssl_answer(const char* data, std::size_t size) {
    if (data[0] == 'N') {
      fail("no_tls", config.address + ": server does not offer TLS (SSLRequest answered N)");
    } else if (data[0] != 'S') {
      fail("handshake_failed",
           fmt::format("{}: unexpected answer to SSLRequest (0x{:02x}); is this PostgreSQL?",
                       config.address, static_cast<unsigned char>(data[0])));
    } else if (size > 1) {
      // Bytes before the handshake would be trusted as TLS data that no one encrypted
      // (CVE-2021-23222): refused, as libpq does.
      fail("handshake_failed", config.address + ": unexpected data after the SSLRequest answer");
    } else {
      begin_tls();
    }
  }

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* self = static_cast<Attempt*>(stream->data);
    if (nread == 0 || self->stage == Stage::closing) return;
    if (nread < 0) {
      if (nread == UV_EOF) {
        self->fail("handshake_failed",
                   self->config.address + ": connection closed by the server during the " +
                       (self->stage == Stage::handshaking ? "TLS handshake" : "SSLRequest"));
      } else {
        self->fail_io(static_cast<int>(nread), "read");
      }
      return;
    }
    const auto size = static_cast<std::size_t>(nread);
    if (self->stage == Stage::awaiting_ssl_answer) {
      self->on_ssl_answer(buf->base, size);
      return;
    }
    BIO_write(self->in, buf->base, static_cast<int>(size));
    self->drive();
  }

  static void on_connect(uv_connect_t* req, int status) {
    auto* self = static_cast<Attempt*>(req->data);
    // UV_ECANCELED: cancel() closed the handle; the attempt was abandoned.
    if (status == UV_ECANCELED) return;
    if (status != 0) {
      self->fail_io(status, "connect");
      return;
    }
    const int rc = uv_read_start(
        reinterpret_cast<uv_stream_t*>(&self->tcp),
        [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
          auto* attempt = static_cast<Attempt*>(h->data);
          *buf = uv_buf_init(attempt->read_buffer.data(),
                             static_cast<unsigned>(attempt->read_buffer.size()));
        },
        &Attempt::on_read);
    if (rc != 0) {
      self->fail_io(rc, "read");
      return;
    }
    if (self->config.starttls == config::StartTls::postgres) {
      self->stage = Stage::awaiting_ssl_answer;
      self->send(std::string(kSslRequest.begin(), kSslRequest.end()));
    } else {
      self->begin_tls();
    }
  }

  void connect_to(const sockaddr* target) {
    uv_tcp_init(loop, &tcp);
    tcp.data = this;
    connect.data = this;
    tcp_open = true;
    const int rc = uv_tcp_connect(&connect, &tcp, target, &Attempt::on_connect);
    // Reported first: close_tcp's callback frees us on a later loop turn, not now.
    if (rc != 0) fail_io(rc, "connect");
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
      self->report_failure("dns", "resolve " + self->config.address + ": " + uv_message(status));
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

TlsProbe::TlsProbe(uv_loop_t* loop, config::TlsProbeConfig config, Now now)
    : loop_(loop), config_(std::move(config)), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::chrono::system_clock::now(); };
  auto parsed = config::parse_host_port(config_.address);
  if (auto* target = std::get_if<config::HostPort>(&parsed)) target_ = std::move(*target);
}

TlsProbe::~TlsProbe() { cancel(); }

void TlsProbe::cancel() {
  done_ = nullptr;
  Attempt* attempt = std::exchange(in_flight_, nullptr);
  if (attempt == nullptr) return;
  attempt->probe = nullptr;
  if (attempt->resolving) {
    // Succeeds only while the lookup is still queued; either way on_resolved frees.
    uv_cancel(reinterpret_cast<uv_req_t*>(&attempt->resolve));
    return;
  }
  // Pending writes call back with UV_ECANCELED, then the close callback frees the attempt.
  attempt->close_tcp();
}

void TlsProbe::finish(ProbeResult result) {
  in_flight_ = nullptr;
  // Last, moved out: the scheduler may start the next check from inside.
  if (Completion done = std::exchange(done_, nullptr)) done(std::move(result));
}

void TlsProbe::refresh_ssl_context() {
  if (!config_.ca_file.empty()) {
    // A stat per check instead of parsing the file per check; a file that cannot be
    // stat'ed is loaded anyway, so its error comes from the loader, as before.
    struct stat info {};
    if (::stat(config_.ca_file.c_str(), &info) == 0) {
      const bool unchanged = info.st_size == ca_file_stamp_.size &&
                             info.st_ino == ca_file_stamp_.inode &&
                             info.st_mtim.tv_sec == ca_file_stamp_.modified.tv_sec &&
                             info.st_mtim.tv_nsec == ca_file_stamp_.modified.tv_nsec;
      if (unchanged && ssl_context_) return;
      ca_file_stamp_ = {info.st_size, info.st_ino, info.st_mtim};
    } else {
      ca_file_stamp_ = {};
    }
  } else if (ssl_context_) {
    return;  // the system store, loaded once
  }
  ssl_context_.reset();
  context_error_.clear();
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
  if (!context) {
    context_error_ = "SSL_CTX_new: " + take_ssl_errors();
    return;
  }
  const int loaded = config_.ca_file.empty() ? SSL_CTX_set_default_verify_paths(context.get())
                                             : SSL_CTX_load_verify_locations(
                                                   context.get(), config_.ca_file.c_str(), nullptr);
  if (loaded != 1) {
    context_error_ =
        (config_.ca_file.empty() ? std::string("system CA store") : "ca_file " + config_.ca_file) +
        ": " + take_ssl_errors();
    return;
  }
  // Verification must not end the handshake: its result is read afterwards, so the dates
  // of a bad certificate are still reported.
  SSL_CTX_set_verify(context.get(), SSL_VERIFY_NONE, nullptr);
  ssl_context_ = std::move(context);
}

void TlsProbe::start(Completion done) {
  done_ = std::move(done);
  auto* attempt = new Attempt;
  attempt->probe = this;
  attempt->loop = loop_;
  attempt->config = config_;
  refresh_ssl_context();
  attempt->ssl_context = ssl_context_;
  attempt->context_error = context_error_;
  attempt->resolve.data = attempt;
  in_flight_ = attempt;
  if (target_.port == 0) {
    attempt->report_failure("io_error", "connect " + config_.address + ": bad address");
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
    attempt->report_failure("dns", "resolve " + config_.address + ": " + uv_message(rc));
    delete attempt;
  }
}

}  // namespace covet::probes
