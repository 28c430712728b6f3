#pragma once
// Certificate times as Unix seconds, and the verdict on a certificate's dates. Pure: no
// clock, no sockets; the TLS probe passes "now" in, the tests and the fuzzer pass anything.

#include <openssl/asn1.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "probes/probe.h"

namespace covet::probes::cert_time {

// Seconds since the epoch (UTC) of a UTCTime or GeneralizedTime; nullopt when `time` is
// null or malformed.
std::optional<std::int64_t> to_unix_seconds(const ASN1_TIME* time);
// The same from text as in a certificate: "YYMMDDHHMMSSZ" (UTCTime) or "YYYYMMDDHHMMSSZ"
// (GeneralizedTime).
std::optional<std::int64_t> parse_text(std::string_view text);
// The same from a DER-encoded UTCTime or GeneralizedTime (tag, length, contents).
std::optional<std::int64_t> parse_der(std::span<const unsigned char> der);

// "2026-11-24T23:30:00Z". Years outside 0..9999 print as they are; never used for those.
std::string format_rfc3339(std::int64_t unix_seconds);

// What the handshake showed, reduced to what the verdict needs.
struct CertFacts {
  std::string subject;                  // of the leaf, "CN=db.example.com,O=..."
  std::string server_name;              // what it was checked against
  std::int64_t not_before = 0;          // leaf
  std::int64_t earliest_not_after = 0;  // over the presented chain, the leaf included
  long verify_result = 0;               // X509_V_OK or an X509_V_ERR_* from the handshake
};

struct Verdict {
  Status status = Status::passing;
  std::string reason;  // "" when passing; expired, not_yet_valid, wrong_name, untrusted, expiring
  std::string error;
};

// Dates first (judged against `now`, not the handshake's clock), then the verification
// result, then the thresholds on the days left.
Verdict judge(const CertFacts& facts, std::int64_t now, double warn_days, double fail_days);

}  // namespace covet::probes::cert_time
