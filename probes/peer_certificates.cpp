#include "probes/peer_certificates.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

#include "probes/cert_time.h"

namespace covet::probes {
namespace {

// Declared together: names as blackbox_exporter's, so its alerting rules work unchanged.
struct ReadingDescriptor {
  const char* name;
  const char* help;
};
constexpr ReadingDescriptor kEarliestExpiry{
    "probe_ssl_earliest_cert_expiry",
    "Earliest notAfter of the certificates the server presented, as Unix seconds"};
constexpr ReadingDescriptor kVerifiedChainExpiry{
    "probe_ssl_last_chain_expiry_timestamp_seconds",
    "Earliest notAfter of the verified chain, as Unix seconds (only when it verified)"};
constexpr ReadingDescriptor kVersionInfo{"probe_tls_version_info",
                                         "The TLS version the handshake agreed, as a label"};
constexpr ReadingDescriptor kNotBefore{"covet_sidecar_tls_cert_not_before_seconds",
                                       "notBefore of the server's certificate, as Unix seconds"};
constexpr ReadingDescriptor kNotAfter{"covet_sidecar_tls_cert_not_after_seconds",
                                      "notAfter of the server's certificate, as Unix seconds"};

Reading reading(const ReadingDescriptor& descriptor, double value,
                std::vector<std::pair<std::string, std::string>> labels = {}) {
  return Reading{descriptor.name, descriptor.help, std::move(labels), value};
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return "?";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : "(empty name)";
}

// blackbox_exporter's spelling (Go's tls.VersionName), so queries carry over.
std::string version_name(int version) {
  switch (version) {
    case TLS1_VERSION:
      return "TLS 1.0";
    case TLS1_1_VERSION:
      return "TLS 1.1";
    case TLS1_2_VERSION:
      return "TLS 1.2";
    case TLS1_3_VERSION:
      return "TLS 1.3";
    default:
      return fmt::format("0x{:04X}", version);
  }
}

// The earliest notAfter in `chain`; nullopt for an empty chain or an unreadable date.
std::optional<std::int64_t> earliest_not_after(const STACK_OF(X509) * chain) {
  std::optional<std::int64_t> earliest;
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    const std::optional<std::int64_t> t =
        cert_time::to_unix_seconds(X509_get0_notAfter(sk_X509_value(chain, i)));
    if (!t) return std::nullopt;
    earliest = earliest ? std::min(*earliest, *t) : *t;
  }
  return earliest;
}

}  // namespace

std::optional<PeerCertificates> read_peer_certificates(SSL* ssl) {
  const X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) return std::nullopt;
  const std::optional<std::int64_t> presented = earliest_not_after(SSL_get_peer_cert_chain(ssl));
  const std::optional<std::int64_t> not_before =
      cert_time::to_unix_seconds(X509_get0_notBefore(leaf));
  const std::optional<std::int64_t> not_after =
      cert_time::to_unix_seconds(X509_get0_notAfter(leaf));
  if (!presented || !not_before || !not_after) return std::nullopt;
  PeerCertificates certificates;
  certificates.not_before = *not_before;
  certificates.not_after = *not_after;
  // The chain a server sends may leave out its leaf (a client-side view varies): min with it.
  certificates.earliest_not_after = std::min(*presented, *not_after);
  certificates.verify_result = SSL_get_verify_result(ssl);
  if (certificates.verify_result == X509_V_OK) {
    certificates.verified_chain_not_after = earliest_not_after(SSL_get0_verified_chain(ssl));
  }
  certificates.version = version_name(SSL_version(ssl));
  certificates.subject = name_text(X509_get_subject_name(leaf));
  certificates.issuer = name_text(X509_get_issuer_name(leaf));
  return certificates;
}

std::vector<Reading> certificate_readings(const PeerCertificates& certificates) {
  std::vector<Reading> readings;
  readings.push_back(
      reading(kEarliestExpiry, static_cast<double>(certificates.earliest_not_after)));
  if (certificates.verified_chain_not_after) {
    readings.push_back(
        reading(kVerifiedChainExpiry, static_cast<double>(*certificates.verified_chain_not_after)));
  }
  readings.push_back(reading(kVersionInfo, 1, {{"version", certificates.version}}));
  readings.push_back(reading(kNotBefore, static_cast<double>(certificates.not_before)));
  readings.push_back(reading(kNotAfter, static_cast<double>(certificates.not_after)));
  return readings;
}

}  // namespace covet::probes
