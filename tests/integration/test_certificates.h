#pragma once
// Certificates for the TLS tests, made with the `openssl` command line in a temp directory:
// a CA, leaves it signs with exact validity dates (`openssl ca -startdate -enddate`, so an
// expired or nearly expired certificate needs no fake clock), and self-signed leaves.
// EC P-256 keys: quick to generate.

#include <cstdint>
#include <string>

namespace covet::testing {

struct CertFiles {
  std::string cert;   // PEM
  std::string key;    // PEM, unencrypted
  std::string error;  // empty on success: what openssl said otherwise
};

class TestCa {
 public:
  TestCa();   // makes the CA; error() says whether that worked
  ~TestCa();  // removes the directory
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  const std::string& ca_file() const { return ca_file_; }

  // A leaf for `dns_name` (its CN and its one subjectAltName), signed by the CA, valid from
  // `not_before` to `not_after` (Unix seconds, whole seconds as in the certificate).
  // With `issuer`, that (intermediate) CA signs instead, and `cert` holds the leaf followed
  // by the issuer's certificate, as a server presents its chain.
  CertFiles issue(const std::string& file_name, const std::string& dns_name,
                  std::int64_t not_before, std::int64_t not_after,
                  const CertFiles* issuer = nullptr);
  // An intermediate CA signed by this CA.
  CertFiles intermediate(const std::string& file_name, std::int64_t not_before,
                         std::int64_t not_after);
  // A self-signed certificate for `dns_name`, valid for `days` from now.
  CertFiles self_signed(const std::string& file_name, const std::string& dns_name, int days);

 private:
  std::string sign(const std::string& file_name, const std::string& subject,
                   std::int64_t not_before, std::int64_t not_after, const CertFiles* issuer);

  std::string dir_;
  std::string ca_file_;
  std::string error_;
};

// "YYYYMMDDHHMMSSZ" for `openssl ca -startdate/-enddate`.
std::string generalized_time(std::int64_t unix_seconds);
// notAfter of a PEM certificate file as Unix seconds, read by `openssl x509 -enddate`
// (independently of the code under test); -1 when it cannot be read.
std::int64_t read_not_after(const std::string& cert_file);

}  // namespace covet::testing
