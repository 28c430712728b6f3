#include "tests/integration/postgres_server.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";

// 'text' for sh, with any ' inside closed, escaped and reopened.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string as_postgres(const std::string& command) {
  return "runuser -u postgres -- " + command + " 2>&1";
}

}  // namespace

PostgresServer::PostgresServer() : PostgresServer(Options{}) {}

PostgresServer::PostgresServer(Options options) : options_(options) {
  char tmpl[] = "/tmp/covet-pg-XXXXXX";
  if (const char* made = ::mkdtemp(tmpl)) dir_ = made;
  port_ = free_port();
}

PostgresServer::~PostgresServer() {
  if (running_) stop_immediate();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::start() {
  if (dir_.empty()) return "mkdtemp /tmp/covet-pg-XXXXXX failed";
  if (!initialized_) {
    if (::geteuid() != 0) {
      return "the PostgreSQL tests run initdb as the postgres user through runuser, which "
             "needs root; run them as root (as CI does)";
    }
    if (run_shell("id -u postgres >/dev/null 2>&1").exit_code != 0) {
      return "no `postgres` user: install the postgresql package (scripts/install-deps.sh)";
    }
    if (::access((std::string(kBinDir) + "/initdb").c_str(), X_OK) != 0) {
      return std::string("no ") + kBinDir + "/initdb: install postgresql-15";
    }
    // mkdtemp makes the directory 0700 and root's; postgres must own it (the socket goes
    // here) and every parent must be traversable (/tmp is).
    ::chmod(dir_.c_str(), 0755);
    if (run_shell("chown postgres: " + shell_quote(dir_)).exit_code != 0) {
      return "chown postgres " + dir_ + " failed";
    }
    if (options_.replica_of != nullptr) {
      // -R writes standby.signal and primary_conninfo (the primary's socket, trusted).
      const CommandResult copy = run_shell(as_postgres(fmt::format(
          "{}/pg_basebackup -h {} -p {} -U postgres -D {} -R -X stream -c fast --no-sync", kBinDir,
          shell_quote(options_.replica_of->dir_), options_.replica_of->port_,
          shell_quote(dir_ + "/data"))));
      if (copy.exit_code != 0) return "pg_basebackup failed:\n" + copy.out;
    } else {
      const CommandResult init = run_shell(as_postgres(
          fmt::format("{}/initdb -D {} -U postgres --auth-local=trust --auth-host=scram-sha-256 "
                      "--no-sync -E UTF8 --locale=C.UTF-8",
                      kBinDir, shell_quote(dir_ + "/data"))));
      if (init.exit_code != 0) return "initdb failed:\n" + init.out;
    }
    if (!options_.ssl_cert_file.empty()) {
      const CommandResult copied =
          run_shell(fmt::format("install -o postgres -g postgres -m 0600 {} {}/server.crt && "
                                "install -o postgres -g postgres -m 0600 {} {}/server.key 2>&1",
                                shell_quote(options_.ssl_cert_file), shell_quote(dir_),
                                shell_quote(options_.ssl_key_file), shell_quote(dir_)));
      if (copied.exit_code != 0) return "copying the TLS certificate failed:\n" + copied.out;
    }
    initialized_ = true;
  }
  std::string options = fmt::format(
      "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections={} "
      "-c superuser_reserved_connections=0 -c max_wal_senders={} -c fsync=off",
      port_, dir_, options_.max_connections, options_.allow_replication ? 4 : 0);
  if (!options_.ssl_cert_file.empty()) {
    options += fmt::format(
        " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key", dir_);
  }
  const CommandResult started = run_shell(as_postgres(
      fmt::format("{}/pg_ctl -D {} -l {} -o {} -w -t 30 start", kBinDir,
                  shell_quote(dir_ + "/data"), shell_quote(dir_ + "/log"), shell_quote(options))));
  if (started.exit_code != 0) {
    std::ifstream log(dir_ + "/log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    return "pg_ctl start failed:\n" + started.out + "\nserver log:\n" + text;
  }
  running_ = true;
  port_hold_.reset();
  if (options_.replica_of != nullptr) return "";  // read-only; the role came with the copy
  int rc = 0;
  const std::string out =
      psql(fmt::format("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{0}') THEN "
                       "CREATE ROLE {0} LOGIN PASSWORD '{1}'; END IF; END$$",
                       kUser, kPassword),
           &rc);
  if (rc != 0) return "create role failed: " + out;
  return "";
}

std::string PostgresServer::stop_immediate() {
  const CommandResult stopped = run_shell(as_postgres(fmt::format(
      "{}/pg_ctl -D {} -m immediate -w -t 30 stop", kBinDir, shell_quote(dir_ + "/data"))));
  running_ = false;
  port_hold_ = std::make_unique<PortHold>(port_);
  return stopped.exit_code == 0 ? "" : "pg_ctl stop failed:\n" + stopped.out;
}

std::string PostgresServer::probe_dsn() const {
  return fmt::format("host=127.0.0.1 port={} dbname=postgres user={}", port_, kUser);
}

std::string PostgresServer::superuser_dsn() const {
  return fmt::format("host={} port={} dbname=postgres user=postgres", dir_, port_);
}

std::string PostgresServer::psql(const std::string& sql, int* exit_code) const {
  const CommandResult result = run_shell(as_postgres(
      fmt::format("/usr/bin/psql -X -At -v ON_ERROR_STOP=1 -h {} -p {} -U postgres -d postgres "
                  "-c {}",
                  shell_quote(dir_), port_, shell_quote(sql))));
  if (exit_code != nullptr) *exit_code = result.exit_code;
  std::string out = result.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace covet::testing
