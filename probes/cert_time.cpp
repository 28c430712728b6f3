#include "probes/cert_time.h"

#include <fmt/format.h>
#include <openssl/x509_vfy.h>

#include <ctime>
#include <memory>

namespace covet::probes::cert_time {
namespace {

struct Asn1TimeFree {
  void operator()(ASN1_TIME* time) const { ASN1_TIME_free(time); }
};
using Asn1Time = std::unique_ptr<ASN1_TIME, Asn1TimeFree>;

constexpr double kSecondsPerDay = 86400;

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
// days_from_civil): timegm() would do, but this cannot depend on the TZ or on time_t.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

std::optional<std::int64_t> to_unix_seconds(const ASN1_TIME* time) {
  if (time == nullptr) return std::nullopt;
  // ASN1_TIME_to_tm validates the format (digits, ranges, the trailing Z) and fails on
  // anything else; it is the same check the X509 code applies.
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  const std::int64_t days =
      days_from_civil(static_cast<std::int64_t>(tm.tm_year) + 1900,
                      static_cast<unsigned>(tm.tm_mon + 1), static_cast<unsigned>(tm.tm_mday));
  return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

std::optional<std::int64_t> parse_text(std::string_view text) {
  // ASN1_TIME_set_string wants a C string; an embedded NUL would cut it short silently.
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  Asn1Time time(ASN1_TIME_new());
  if (!time) return std::nullopt;
  const std::string copy(text);
  if (ASN1_TIME_set_string(time.get(), copy.c_str()) != 1) return std::nullopt;
  return to_unix_seconds(time.get());
}

std::optional<std::int64_t> parse_der(std::span<const unsigned char> der) {
  const unsigned char* p = der.data();
  Asn1Time time(d2i_ASN1_TIME(nullptr, &p, static_cast<long>(der.size())));
  if (!time) return std::nullopt;
  return to_unix_seconds(time.get());
}

std::string format_rfc3339(std::int64_t unix_seconds) {
  // civil_from_days, the inverse of days_from_civil above.
  std::int64_t days = unix_seconds / 86400;
  std::int64_t rest = unix_seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, rest / 3600, rest / 60 % 60,
                     rest % 60);
}

Verdict judge(const CertFacts& facts, std::int64_t now, double warn_days, double fail_days) {
  const std::string& who = facts.subject;
  if (now < facts.not_before) {
    return {Status::failing, "not_yet_valid",
            fmt::format("certificate for {} is not valid before {}; check the server's clock "
                        "or the certificate",
                        who, format_rfc3339(facts.not_before))};
  }
  const double days_left = static_cast<double>(facts.earliest_not_after - now) / kSecondsPerDay;
  if (facts.earliest_not_after <= now) {
    return {Status::failing, "expired",
            fmt::format("certificate for {} expired {:.1f} days ago ({}); renew it", who,
                        -days_left, format_rfc3339(facts.earliest_not_after))};
  }
  switch (facts.verify_result) {
    case X509_V_OK:
      break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return {Status::failing, "wrong_name",
              fmt::format("certificate for {} is not valid for server_name \"{}\"; set "
                          "server_name to a name it has, or fix the certificate",
                          who, facts.server_name)};
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return {Status::failing, "expired",
              fmt::format("certificate chain of {} has an expired certificate", who)};
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return {Status::failing, "not_yet_valid",
              fmt::format("certificate chain of {} has a certificate not yet valid", who)};
    default:
      return {Status::failing, "untrusted",
              fmt::format("certificate for {} is not trusted: {}; set ca_file to the issuing CA",
                          who, X509_verify_cert_error_string(facts.verify_result))};
  }
  if (days_left <= fail_days) {
    return {Status::failing, "expiring",
            fmt::format("certificate for {} expires in {:.1f} days (fail_days {:g})", who,
                        days_left, fail_days)};
  }
  if (days_left <= warn_days) {
    return {Status::warning, "expiring",
            fmt::format("certificate for {} expires in {:.1f} days (warn_days {:g})", who,
                        days_left, warn_days)};
  }
  return {};
}

}  // namespace covet::probes::cert_time
