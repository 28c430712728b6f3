#include "tests/integration/test_certificates.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

// Only temp-dir paths and fixed names reach the shell; quoted anyway.
std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

constexpr const char* kNewKey = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

// The least `openssl ca` needs: a database, a serial, and a policy that takes any subject.
constexpr const char* kCaConfig = R"([ ca ]
default_ca = test_ca
[ test_ca ]
database = {0}/index.txt
new_certs_dir = {0}/issued
serial = {0}/serial
default_md = sha256
policy = any_subject
unique_subject = no
copy_extensions = none
[ any_subject ]
commonName = supplied
)";

std::string run(const std::string& command) {
  const CommandResult result = run_shell(command + " 2>&1");
  return result.exit_code == 0 ? "" : command + ":\n" + result.out;
}

}  // namespace

std::string generalized_time(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}{:02}{:02}{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::int64_t read_not_after(const std::string& cert_file) {
  // "notAfter=2026-12-04 23:25:20Z"
  const CommandResult result =
      run_shell("openssl x509 -noout -enddate -dateopt iso_8601 -in " + quote(cert_file));
  std::tm tm{};
  if (result.exit_code != 0 ||
      ::strptime(result.out.c_str(), "notAfter=%Y-%m-%d %H:%M:%SZ", &tm) == nullptr) {
    return -1;
  }
  return ::timegm(&tm);
}

TestCa::TestCa() {
  char tmpl[] = "/tmp/covet-tls-XXXXXX";
  if (const char* made = ::mkdtemp(tmpl)) dir_ = made;
  if (dir_.empty()) {
    error_ = "mkdtemp failed";
    return;
  }
  ca_file_ = dir_ + "/ca.pem";
  std::filesystem::create_directory(dir_ + "/issued");
  std::ofstream(dir_ + "/index.txt").flush();
  std::ofstream(dir_ + "/serial") << "1000\n";
  std::ofstream(dir_ + "/ca.cnf") << fmt::format(kCaConfig, dir_);
  error_ = run(fmt::format(
      "openssl req -x509 {} -keyout {} -out {} -days 3650 -subj '/CN=covet test CA' "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
      kNewKey, quote(dir_ + "/ca.key"), quote(ca_file_)));
}

TestCa::~TestCa() {
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

CertFiles TestCa::issue(const std::string& file_name, const std::string& dns_name,
                        std::int64_t not_before, std::int64_t not_after, const CertFiles* issuer) {
  CertFiles files{dir_ + "/" + file_name + ".pem", dir_ + "/" + file_name + ".key", ""};
  std::ofstream(dir_ + "/" + file_name + ".ext")
      << "subjectAltName=DNS:" << dns_name << "\nbasicConstraints=CA:FALSE\n";
  files.error = sign(file_name, "/CN=" + dns_name, not_before, not_after, issuer);
  if (files.error.empty() && issuer != nullptr) {
    files.error = run(fmt::format("cat {} >> {}", quote(issuer->cert), quote(files.cert)));
  }
  return files;
}

CertFiles TestCa::intermediate(const std::string& file_name, std::int64_t not_before,
                               std::int64_t not_after) {
  CertFiles files{dir_ + "/" + file_name + ".pem", dir_ + "/" + file_name + ".key", ""};
  std::ofstream(dir_ + "/" + file_name + ".ext")
      << "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n";
  files.error =
      sign(file_name, "/CN=covet test intermediate " + file_name, not_before, not_after, nullptr);
  return files;
}

// A key and CSR for `subject`, signed into dir/file_name.pem with the extensions in
// dir/file_name.ext, by `issuer` or the root.
std::string TestCa::sign(const std::string& file_name, const std::string& subject,
                         std::int64_t not_before, std::int64_t not_after, const CertFiles* issuer) {
  const std::string base = dir_ + "/" + file_name;
  std::string error = run(fmt::format("openssl req -new {} -keyout {} -out {} -subj {}", kNewKey,
                                      quote(base + ".key"), quote(base + ".csr"), quote(subject)));
  if (!error.empty()) return error;
  return run(fmt::format(
      "openssl ca -batch -notext -config {} -cert {} -keyfile {} -in {} -out {} -extfile {} "
      "-startdate {} -enddate {}",
      quote(dir_ + "/ca.cnf"), quote(issuer != nullptr ? issuer->cert : ca_file_),
      quote(issuer != nullptr ? issuer->key : dir_ + "/ca.key"), quote(base + ".csr"),
      quote(base + ".pem"), quote(base + ".ext"), generalized_time(not_before),
      generalized_time(not_after)));
}

CertFiles TestCa::self_signed(const std::string& file_name, const std::string& dns_name, int days) {
  CertFiles files{dir_ + "/" + file_name + ".pem", dir_ + "/" + file_name + ".key", ""};
  files.error =
      run(fmt::format("openssl req -x509 {} -keyout {} -out {} -days {} -subj {} "
                      "-addext {}",
                      kNewKey, quote(files.key), quote(files.cert), days, quote("/CN=" + dns_name),
                      quote("subjectAltName=DNS:" + dns_name)));
  return files;
}

}  // namespace covet::testing
