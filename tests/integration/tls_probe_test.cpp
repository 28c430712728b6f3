// The TLS probe in the real binary against real servers with certificates the test makes:
// nginx serving a valid, a nearly expired, an expired, a misnamed and a self-signed
// certificate, and PostgreSQL with ssl=on reached through its SSLRequest. The valid case is
// also compared with what prometheus-blackbox-exporter reports for the same server.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "tests/integration/external_process.h"
#include "tests/integration/nginx_tls_server.h"
#include "tests/integration/postgres_server.h"
#include "tests/integration/prometheus_text.h"
#include "tests/integration/sidecar_process.h"
#include "tests/integration/test_certificates.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kDay = 86400;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The certificates, and one nginx serving each of them on its own port, made once.
enum Site { kValid, kExpiring, kExpired, kWrongName, kSelfSigned, kChain, kSiteCount };

struct Fixture {
  std::int64_t now = std::time(nullptr);
  TestCa ca;
  std::vector<CertFiles> certs;
  std::unique_ptr<NginxTlsServer> nginx;
  std::string error;

  Fixture() {
    if (!(error = ca.error()).empty()) return;
    certs.push_back(ca.issue("valid", "localhost", now - kDay, now + 90 * kDay));
    certs.push_back(ca.issue("expiring", "localhost", now - kDay, now + 5 * kDay));
    certs.push_back(ca.issue("expired", "localhost", now - 30 * kDay, now - kDay));
    certs.push_back(ca.issue("wrong_name", "other.test", now - kDay, now + 90 * kDay));
    certs.push_back(ca.self_signed("self_signed", "localhost", 90));
    // A leaf outliving the intermediate that signed it: the chain expires first.
    const CertFiles issuer = ca.intermediate("intermediate", now - kDay, now + 20 * kDay);
    if (!(error = issuer.error).empty()) return;
    certs.push_back(ca.issue("chain", "localhost", now - kDay, now + 90 * kDay, &issuer));
    std::vector<NginxTlsServer::Site> sites;
    for (const CertFiles& files : certs) {
      if (!files.error.empty()) {
        error = files.error;
        return;
      }
      sites.push_back({files.cert, files.key});
    }
    nginx = std::make_unique<NginxTlsServer>(std::move(sites));
    error = nginx->start();
  }
};

class TlsProbeIT : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fixture_ = new Fixture; }
  static void TearDownTestSuite() {
    delete fixture_;
    fixture_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(fixture_->error, "") << "cannot make the TLS servers"; }
  // SIGTERM whatever the probe is doing: a clean exit (under ASan, also no leak report).
  void TearDown() override { stop_sidecar(); }

  void stop_sidecar() {
    if (!sidecar_) return;
    sidecar_->signal(SIGTERM);
    EXPECT_EQ(sidecar_->wait_exit(10s), std::optional<int>(0)) << sidecar_->logs();
    EXPECT_FALSE(contains(sidecar_->logs(), "Sanitizer")) << sidecar_->logs();
    sidecar_.reset();
  }

  // A sidecar with one tls probe "cert" on `address`; `extra` is more probe keys.
  void start_sidecar(const std::string& address, const std::string& extra) {
    sidecar_ = std::make_unique<SidecarProcess>(fmt::format(R"(
listen: 127.0.0.1:{{PORT}}
log: {{ format: json, level: debug }}
shutdown: {{ drain_delay: 100ms, grace_period: 5s }}
probes:
  - name: cert
    type: tls
    address: {}
    interval: 1s
    timeout: 1s
    failure_threshold: 1
{})",
                                                            address, extra));
    ASSERT_TRUE(sidecar_->start()) << sidecar_->logs();
  }

  std::string site_address(Site site) const {
    return "127.0.0.1:" + std::to_string(fixture_->nginx->port(site));
  }

  std::string ca_keys() const {
    return "    server_name: localhost\n    ca_file: " + fixture_->ca.ca_file() + "\n";
  }

  // /health once the probe has a verdict; the check's JSON status is `status`.
  std::string health_when(const std::string& status) {
    std::string body;
    const bool seen = eventually(
        [&] {
          body = client_.get(sidecar_->url("/health")).body;
          return contains(body, "\"cert\":{\"type\":\"tls\",\"status\":\"" + status + "\"");
        },
        10s);
    EXPECT_TRUE(seen) << "no " << status << " result: " << body << sidecar_->logs();
    return body;
  }

  std::vector<Sample> metrics() {
    return parse_samples(client_.get(sidecar_->url("/metrics")).body);
  }

  std::optional<double> failures(const std::string& reason) {
    return sample_value(metrics(), "covet_sidecar_probe_failures_total",
                        {{"probe", "cert"}, {"reason", reason}});
  }

  // `verified`: blackbox_exporter checks the chain as we do; otherwise it is told to skip
  // the check (insecure_skip_verify), which is the only way it reports a bad certificate's
  // dates, and only the presented chain's expiry is compared.
  void compare_with_blackbox(Site site, const std::string& status, bool verified = true);

  static Fixture* fixture_;
  std::unique_ptr<SidecarProcess> sidecar_;
  HttpClient client_;
};

Fixture* TlsProbeIT::fixture_ = nullptr;

TEST_F(TlsProbeIT, ValidCertificatePassesWithItsExactExpiry) {
  ASSERT_NO_FATAL_FAILURE(start_sidecar(site_address(kValid), ca_keys()));
  const std::string health = health_when("passing");
  EXPECT_TRUE(contains(health, "\"subject\":\"CN=localhost\"")) << health;
  EXPECT_TRUE(contains(health, "\"issuer\":\"CN=covet test CA\"")) << health;
  EXPECT_TRUE(contains(health, "\"tls_version\":\"TLS 1.3\"")) << health;
  EXPECT_EQ(client_.get(sidecar_->url("/health/ready")).status, 200);

  // The date as openssl reads it from the file, and as the test asked for it.
  const std::int64_t not_after = read_not_after(fixture_->certs[kValid].cert);
  EXPECT_EQ(not_after, fixture_->now + 90 * kDay);
  const std::vector<Sample> samples = metrics();
  EXPECT_EQ(sample_value(samples, "probe_ssl_earliest_cert_expiry", {{"probe", "cert"}}),
            static_cast<double>(not_after));
  // The CA outlives the leaf: the verified chain's earliest expiry is the leaf's too.
  EXPECT_EQ(
      sample_value(samples, "probe_ssl_last_chain_expiry_timestamp_seconds", {{"probe", "cert"}}),
      static_cast<double>(not_after));
  EXPECT_EQ(sample_value(samples, "covet_sidecar_tls_cert_not_after_seconds", {{"probe", "cert"}}),
            static_cast<double>(not_after));
  EXPECT_EQ(sample_value(samples, "covet_sidecar_tls_cert_not_before_seconds", {{"probe", "cert"}}),
            static_cast<double>(fixture_->now - kDay));
  EXPECT_EQ(
      sample_value(samples, "probe_tls_version_info", {{"probe", "cert"}, {"version", "TLS 1.3"}}),
      1.0);

  // The exposition with a tls probe passes Prometheus' own lint.
  std::ofstream(sidecar_->dir() + "/metrics.txt") << client_.get(sidecar_->url("/metrics")).body;
  const CommandResult lint =
      run_shell("promtool check metrics < " + sidecar_->dir() + "/metrics.txt 2>&1");
  EXPECT_EQ(lint.exit_code, 0) << lint.out;
}

TEST_F(TlsProbeIT, ExpiringWithinWarnDaysWarnsAndStaysReady) {
  ASSERT_NO_FATAL_FAILURE(
      start_sidecar(site_address(kExpiring), ca_keys() + "    warn_days: 14\n    fail_days: 3\n"));
  const std::string health = health_when("warning");
  EXPECT_TRUE(contains(health, "\"days_left\":\"5.0\"")) << health;
  EXPECT_TRUE(contains(health, "\"status\":\"degraded\"")) << health;
  EXPECT_EQ(client_.get(sidecar_->url("/health/ready")).status, 200);
  EXPECT_EQ(sample_value(metrics(), "probe_ssl_earliest_cert_expiry", {{"probe", "cert"}}),
            static_cast<double>(fixture_->now + 5 * kDay));

  // The same certificate with fail_days above its days left fails.
  stop_sidecar();
  ASSERT_NO_FATAL_FAILURE(
      start_sidecar(site_address(kExpiring), ca_keys() + "    warn_days: 14\n    fail_days: 6\n"));
  const std::string failing = health_when("failing");
  EXPECT_TRUE(contains(failing, "certificate for CN=localhost expires in 5.0 days (fail_days 6)"))
      << failing;
  EXPECT_EQ(client_.get(sidecar_->url("/health/ready")).status, 503);
}

TEST_F(TlsProbeIT, ExpiredCertificateFailsAsExpiredWithItsDates) {
  ASSERT_NO_FATAL_FAILURE(start_sidecar(site_address(kExpired), ca_keys()));
  const std::string health = health_when("failing");
  EXPECT_TRUE(contains(health, "certificate for CN=localhost expired 1.0 days ago")) << health;
  EXPECT_EQ(client_.get(sidecar_->url("/health/ready")).status, 503);
  EXPECT_GE(failures("expired").value_or(0), 1);
  // Still described: the date is what the alert needs.
  const std::vector<Sample> samples = metrics();
  EXPECT_EQ(sample_value(samples, "probe_ssl_earliest_cert_expiry", {{"probe", "cert"}}),
            static_cast<double>(fixture_->now - kDay));
  EXPECT_EQ(
      sample_value(samples, "probe_ssl_last_chain_expiry_timestamp_seconds", {{"probe", "cert"}}),
      std::nullopt);
}

TEST_F(TlsProbeIT, CertificateForAnotherNameFailsAsWrongName) {
  ASSERT_NO_FATAL_FAILURE(start_sidecar(site_address(kWrongName), ca_keys()));
  const std::string health = health_when("failing");
  EXPECT_TRUE(contains(health,
                       "certificate for CN=other.test is not valid for server_name "
                       "\\\"localhost\\\""))
      << health;
  EXPECT_GE(failures("wrong_name").value_or(0), 1);
}

TEST_F(TlsProbeIT, SelfSignedWithoutCaFileFailsAsUntrusted) {
  ASSERT_NO_FATAL_FAILURE(start_sidecar(site_address(kSelfSigned), "    server_name: localhost\n"));
  const std::string health = health_when("failing");
  EXPECT_TRUE(contains(health, "is not trusted")) << health;
  EXPECT_GE(failures("untrusted").value_or(0), 1);
  EXPECT_EQ(sample_value(metrics(), "probe_ssl_earliest_cert_expiry", {{"probe", "cert"}}),
            static_cast<double>(read_not_after(fixture_->certs[kSelfSigned].cert)));
}

// Our probe and prometheus-blackbox-exporter's tcp prober with TLS, on the same server:
// the same expiry series, the same version label.
void TlsProbeIT::compare_with_blackbox(Site site, const std::string& status, bool verified) {
  ASSERT_NO_FATAL_FAILURE(start_sidecar(site_address(site), ca_keys() + "    warn_days: 14\n"));
  health_when(status);

  const std::string config = fixture_->ca.dir() + "/blackbox.yml";
  std::ofstream(config) << fmt::format(R"(modules:
  tls_connect:
    prober: tcp
    timeout: 5s
    tcp:
      tls: true
      tls_config:
        ca_file: {}
        server_name: localhost
        insecure_skip_verify: {}
)",
                                       fixture_->ca.ca_file(), verified ? "false" : "true");
  const std::uint16_t port = free_port();
  ExternalProcess blackbox({"/usr/bin/prometheus-blackbox-exporter", "--config.file=" + config,
                            fmt::format("--web.listen-address=127.0.0.1:{}", port)},
                           {});
  ASSERT_TRUE(blackbox.start()) << "prometheus-blackbox-exporter: " << blackbox.logs();
  ASSERT_TRUE(blackbox.wait_listening(port, 10s)) << blackbox.logs();
  HttpClient blackbox_client;
  const HttpResult page = blackbox_client.get(fmt::format(
      "http://127.0.0.1:{}/probe?target={}&module=tls_connect", port, site_address(site)));
  ASSERT_EQ(page.status, 200) << blackbox.logs();
  const std::vector<Sample> theirs = parse_samples(page.body);
  ASSERT_EQ(sample_value(theirs, "probe_success"), 1.0) << page.body << blackbox.logs();

  const std::vector<Sample> ours = metrics();
  std::vector<const char*> names{"probe_ssl_earliest_cert_expiry"};
  if (verified) names.push_back("probe_ssl_last_chain_expiry_timestamp_seconds");
  for (const char* name : names) {
    const std::optional<double> their_value = sample_value(theirs, name);
    ASSERT_TRUE(their_value.has_value()) << name << " in blackbox_exporter's:\n" << page.body;
    EXPECT_EQ(sample_value(ours, name, {{"probe", "cert"}}), their_value) << name;
  }
  EXPECT_EQ(sample_value(theirs, "probe_tls_version_info", {{"version", "TLS 1.3"}}), 1.0)
      << page.body;
  EXPECT_EQ(
      sample_value(ours, "probe_tls_version_info", {{"probe", "cert"}, {"version", "TLS 1.3"}}),
      1.0);
}

TEST_F(TlsProbeIT, SameExpiryAsBlackboxExporter) { compare_with_blackbox(kValid, "passing"); }

TEST_F(TlsProbeIT, SameChainExpiryAsBlackboxExporter) { compare_with_blackbox(kChain, "passing"); }

TEST_F(TlsProbeIT, SameExpiryAsBlackboxExporterWhenExpiring) {
  compare_with_blackbox(kExpiring, "warning");
}

TEST_F(TlsProbeIT, SameExpiryAsBlackboxExporterForBadCertificates) {
  for (Site site : {kExpired, kWrongName, kSelfSigned}) {
    SCOPED_TRACE(site);
    ASSERT_NO_FATAL_FAILURE(compare_with_blackbox(site, "failing", false));
    stop_sidecar();
  }
}

// The earliest expiry is the chain's, not the leaf's: an intermediate that expires first
// breaks every client just the same.
TEST_F(TlsProbeIT, EarliestExpiryCoversTheIntermediate) {
  ASSERT_NO_FATAL_FAILURE(start_sidecar(site_address(kChain), ca_keys() + "    warn_days: 25\n"));
  const std::string health = health_when("warning");
  EXPECT_TRUE(contains(health, "\"days_left\":\"20.0\"")) << health;
  const std::vector<Sample> samples = metrics();
  const double intermediate_expiry = static_cast<double>(fixture_->now + 20 * kDay);
  EXPECT_EQ(sample_value(samples, "probe_ssl_earliest_cert_expiry", {{"probe", "cert"}}),
            intermediate_expiry);
  EXPECT_EQ(
      sample_value(samples, "probe_ssl_last_chain_expiry_timestamp_seconds", {{"probe", "cert"}}),
      intermediate_expiry);
  EXPECT_EQ(sample_value(samples, "covet_sidecar_tls_cert_not_after_seconds", {{"probe", "cert"}}),
            static_cast<double>(fixture_->now + 90 * kDay));
}

// A server that accepts and never answers the ClientHello: the scheduler's timeout cancels
// the check (the kernel completes the TCP handshake from the listen backlog).
TEST_F(TlsProbeIT, SilentServerTimesOut) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);

  ASSERT_NO_FATAL_FAILURE(
      start_sidecar("127.0.0.1:" + std::to_string(ntohs(address.sin_port)), ca_keys()));
  health_when("failing");
  EXPECT_GE(failures("timeout").value_or(0), 1);
  stop_sidecar();
  ::close(fd);
}

// PostgreSQL upgrades a connection only after its SSLRequest; a plain TLS client would get
// nothing sensible from it.
TEST_F(TlsProbeIT, PostgresWithSslThroughStartTls) {
  const std::int64_t not_after = fixture_->now + 60 * kDay;
  const CertFiles cert =
      fixture_->ca.issue("postgres", "localhost", fixture_->now - kDay, not_after);
  ASSERT_EQ(cert.error, "");
  PostgresServer postgres({.ssl_cert_file = cert.cert, .ssl_key_file = cert.key});
  ASSERT_EQ(postgres.start(), "") << "cannot start PostgreSQL for the test";

  ASSERT_NO_FATAL_FAILURE(start_sidecar("127.0.0.1:" + std::to_string(postgres.port()),
                                        ca_keys() + "    starttls: postgres\n"));
  const std::string health = health_when("passing");
  EXPECT_TRUE(contains(health, "\"subject\":\"CN=localhost\"")) << health;
  EXPECT_EQ(sample_value(metrics(), "probe_ssl_earliest_cert_expiry", {{"probe", "cert"}}),
            static_cast<double>(read_not_after(cert.cert)));
  EXPECT_EQ(read_not_after(cert.cert), not_after);
}

TEST_F(TlsProbeIT, PostgresWithoutSslIsNoTls) {
  PostgresServer postgres;
  ASSERT_EQ(postgres.start(), "") << "cannot start PostgreSQL for the test";
  ASSERT_NO_FATAL_FAILURE(start_sidecar("127.0.0.1:" + std::to_string(postgres.port()),
                                        ca_keys() + "    starttls: postgres\n"));
  const std::string health = health_when("failing");
  EXPECT_TRUE(contains(health, "server does not offer TLS")) << health;
  EXPECT_GE(failures("no_tls").value_or(0), 1);
}

}  // namespace
}  // namespace covet::testing
