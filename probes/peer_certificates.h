#pragma once
// What the certificates a server presented in a finished TLS handshake say, and the
// readings they become, named as blackbox_exporter names them so its alerts work. Shared by
// the tls probe (its own handshake) and the postgres probe (libpq's, read from the live
// connection, so a database's certificate is watched without a second connection).

#include <openssl/ssl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probes/probe.h"

namespace covet::probes {

struct PeerCertificates {
  std::int64_t not_before = 0;          // the leaf's, Unix seconds
  std::int64_t not_after = 0;           // the leaf's
  std::int64_t earliest_not_after = 0;  // over the presented chain, the leaf included
  // Over the verified chain; set only when verification passed.
  std::optional<std::int64_t> verified_chain_not_after;
  long verify_result = X509_V_OK;  // X509_V_OK or an X509_V_ERR_* of the handshake
  std::string version;             // "TLS 1.3", blackbox_exporter's (Go's) spelling
  std::string subject;             // "CN=db.example.com,O=..." (RFC 2253)
  std::string issuer;
};

// nullopt when the server presented no certificate or its dates do not parse.
std::optional<PeerCertificates> read_peer_certificates(SSL* ssl);

// probe_ssl_earliest_cert_expiry, probe_ssl_last_chain_expiry_timestamp_seconds (when
// verified), probe_tls_version_info{version}, covet_sidecar_tls_cert_not_{before,after}_seconds.
std::vector<Reading> certificate_readings(const PeerCertificates& certificates);

}  // namespace covet::probes
