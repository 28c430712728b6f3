#pragma once
// A real PostgreSQL 15 server for integration tests: a throwaway cluster in its own temp
// directory, on its own free port, listening on 127.0.0.1 and a Unix socket in that
// directory. initdb and pg_ctl run as the `postgres` user through runuser (the tests run
// as root in CI); when that is impossible, start() says why and the test fails.
//
// Local (socket) connections are trusted — the test's own psql and libpq sessions use
// them; TCP connections need a password (scram-sha-256), which is what the probe uses.

#include <cstdint>
#include <memory>
#include <string>

#include "tests/integration/port_hold.h"

namespace covet::testing {

class PostgresServer {
 public:
  struct Options {
    int max_connections = 20;
    // Allow streaming replication (WAL senders), for a replica to be made from this server.
    bool allow_replication = false;
    // Make this server a standby of `replica_of` (running, with allow_replication) with
    // pg_basebackup instead of initdb; kUser then comes from the primary.
    const PostgresServer* replica_of = nullptr;
    // ssl=on with this certificate and key (PEM); copied into the server's directory,
    // owned by postgres with mode 0600 as the server insists. Empty: no TLS.
    std::string ssl_cert_file{};
    std::string ssl_key_file{};
  };
  // The role the probe logs in as, and its password.
  static constexpr const char* kUser = "covet_probe";
  static constexpr const char* kPassword = "pw-4f9a1c7e-do-not-leak";

  PostgresServer();
  explicit PostgresServer(Options options);
  ~PostgresServer();  // pg_ctl stop -m immediate, then the directory is removed
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // initdb (first call only), start, and create kUser. Empty on success, else what failed.
  std::string start();
  // The port stays held (refusing connections, see PortHold) until the next start().
  std::string stop_immediate();

  std::uint16_t port() const { return port_; }
  const std::string& socket_dir() const { return dir_; }
  // A DSN for the probe: TCP to 127.0.0.1, user kUser, database postgres, no password.
  std::string probe_dsn() const;
  // A libpq DSN over the Unix socket as the superuser (trusted).
  std::string superuser_dsn() const;
  // Runs `sql` through psql as the superuser over the socket; stdout with -At formatting.
  std::string psql(const std::string& sql, int* exit_code = nullptr) const;

 private:
  Options options_;
  std::string dir_;  // 0755, owned by postgres: the socket lives here, data in dir_/data
  std::uint16_t port_ = 0;
  bool initialized_ = false;
  bool running_ = false;
  std::unique_ptr<PortHold> port_hold_;
};

}  // namespace covet::testing
