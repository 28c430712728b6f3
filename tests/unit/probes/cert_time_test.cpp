#include "probes/cert_time.h"

#include <gtest/gtest.h>
#include <openssl/x509_vfy.h>

#include <vector>

namespace covet::probes::cert_time {
namespace {

TEST(CertTime, TextTimes) {
  EXPECT_EQ(parse_text("700101000000Z"), 0);
  EXPECT_EQ(parse_text("19700101000000Z"), 0);
  // UTCTime years 50..99 are 19xx, 00..49 are 20xx (RFC 5280 4.1.2.5.1).
  EXPECT_EQ(parse_text("491231235959Z"), 2524607999);
  EXPECT_EQ(parse_text("500101000000Z"), -631152000);
  EXPECT_EQ(parse_text("20261124233000Z"), 1795563000);
  EXPECT_EQ(parse_text("20240229120000Z"), 1709208000);  // a leap day
  EXPECT_EQ(parse_text("99991231235959Z"), 253402300799);
}

TEST(CertTime, MalformedTextIsRejected) {
  for (const char* bad : {"", "Z", "2026", "20261124233000", "20261324233000Z", "20260230000000Z",
                          "2026112423300Z", "20261124236000Z", "x0261124233000Z"}) {
    EXPECT_EQ(parse_text(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(parse_text(std::string_view("700101000000Z\0junk", 18)), std::nullopt);
}

TEST(CertTime, DerTimes) {
  // UTCTime (tag 0x17) "700101000000Z"; GeneralizedTime (0x18) "20261124233000Z".
  const std::string utc =
      "\x17\x0d"
      "700101000000Z";
  const std::string generalized =
      "\x18\x0f"
      "20261124233000Z";
  const auto bytes = [](const std::string& s) {
    return std::vector<unsigned char>(s.begin(), s.end());
  };
  EXPECT_EQ(parse_der(bytes(utc)), 0);
  EXPECT_EQ(parse_der(bytes(generalized)), 1795563000);
  EXPECT_EQ(parse_der(bytes(utc.substr(0, 10))), std::nullopt);  // truncated
  EXPECT_EQ(parse_der(bytes("\x04\x0d"
                            "700101000000Z")),
            std::nullopt);  // an OCTET STRING
  EXPECT_EQ(parse_der({}), std::nullopt);
  EXPECT_EQ(to_unix_seconds(nullptr), std::nullopt);
}

TEST(CertTime, Rfc3339) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1795563000), "2026-11-24T23:30:00Z");
  EXPECT_EQ(format_rfc3339(1709208000), "2024-02-29T12:00:00Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339(253402300799), "9999-12-31T23:59:59Z");
}

constexpr std::int64_t kNow = 1795563000;
constexpr std::int64_t kDay = 86400;

CertFacts facts(std::int64_t days_left, long verify_result = X509_V_OK) {
  return CertFacts{"CN=db.test", "db.test", kNow - 30 * kDay, kNow + days_left * kDay,
                   verify_result};
}

TEST(CertTimeJudge, ThresholdsOnTheDaysLeft) {
  EXPECT_EQ(judge(facts(30), kNow, 14, 3).status, Status::passing);
  EXPECT_EQ(judge(facts(30), kNow, 14, 3).reason, "");

  const Verdict warning = judge(facts(5), kNow, 14, 3);
  EXPECT_EQ(warning.status, Status::warning);
  EXPECT_EQ(warning.reason, "expiring");
  EXPECT_EQ(warning.error, "certificate for CN=db.test expires in 5.0 days (warn_days 14)");

  CertFacts soon = facts(2);
  soon.earliest_not_after += 10 * 3600;  // 2.4 days
  const Verdict failing = judge(soon, kNow, 14, 3);
  EXPECT_EQ(failing.status, Status::failing);
  EXPECT_EQ(failing.reason, "expiring");
  EXPECT_EQ(failing.error, "certificate for CN=db.test expires in 2.4 days (fail_days 3)");
}

TEST(CertTimeJudge, DatesComeBeforeTheVerificationResult) {
  // Expired and, as OpenSSL also says, untrusted: the dates are the actionable part.
  const Verdict expired = judge(facts(-2, X509_V_ERR_CERT_HAS_EXPIRED), kNow, 14, 3);
  EXPECT_EQ(expired.status, Status::failing);
  EXPECT_EQ(expired.reason, "expired");
  EXPECT_EQ(expired.error,
            "certificate for CN=db.test expired 2.0 days ago (2026-11-22T23:30:00Z); renew it");

  CertFacts early = facts(30);
  early.not_before = kNow + 60;
  EXPECT_EQ(judge(early, kNow, 14, 3).reason, "not_yet_valid");
  // At notAfter exactly it is expired (RFC 5280: valid through notAfter, but 0 s left is
  // no time to act).
  EXPECT_EQ(judge(facts(0), kNow, 14, 3).reason, "expired");
}

TEST(CertTimeJudge, VerificationFailures) {
  const Verdict name = judge(facts(30, X509_V_ERR_HOSTNAME_MISMATCH), kNow, 14, 3);
  EXPECT_EQ(name.reason, "wrong_name");
  EXPECT_EQ(name.error,
            "certificate for CN=db.test is not valid for server_name \"db.test\"; set "
            "server_name to a name it has, or fix the certificate");
  EXPECT_EQ(judge(facts(30, X509_V_ERR_IP_ADDRESS_MISMATCH), kNow, 14, 3).reason, "wrong_name");
  for (long code : {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
                    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY}) {
    const Verdict untrusted = judge(facts(30, code), kNow, 14, 3);
    EXPECT_EQ(untrusted.status, Status::failing);
    EXPECT_EQ(untrusted.reason, "untrusted");
  }
  // An intermediate expired while the leaf has not: still expired.
  EXPECT_EQ(judge(facts(30, X509_V_ERR_CERT_HAS_EXPIRED), kNow, 14, 3).reason, "expired");
}

}  // namespace
}  // namespace covet::probes::cert_time
