#pragma once
// PostgreSQL probe: one persistent libpq connection per probe, driven without blocking the
// loop (PQconnectStartParams/PQconnectPoll, PQsendQuery, PQconsumeInput/PQisBusy) through a
// uv_poll_t on the connection's socket. A check runs the configured query and
// `SELECT pg_is_in_recovery()` on the same connection. Every `stats_interval` a passing
// check goes on to read the database metrics (probes/postgres_stats.h) on that connection
// before it reports; they are kept and attached to each passing result until the next read,
// so scrapes never cost the database a query.
//
// When the connection uses TLS (sslmode=require or stricter), the server certificate libpq
// received is read from the live connection and reported like the tls probe reports one
// (probe_ssl_earliest_cert_expiry, ...): the database's certificate is watched without a
// second connection.
//
// When the connection breaks it is dropped and reconnected on a later check, with
// exponential backoff (reconnect_backoff, 1 s, doubling to reconnect_backoff_max, 30 s;
// reset by a passing check); during the backoff a
// check fails at once with the last reason. cancel() (the scheduler's timeout, or shutdown)
// sends a cancel request from libuv's thread pool — PQcancel blocks — and drops the
// connection at once, so a hung server never accumulates our connections and a slow query
// does not keep running on the server.
//
// libpq would resolve a host *name* with a blocking getaddrinfo inside PQconnectPoll, so a
// single host name is resolved first on libuv's thread pool and handed to libpq as
// `hostaddr` (every address, in order; `host` still names the server for TLS and messages).
// A DSN listing several hosts is passed as written: there libpq still resolves. PQcancel has
// no timeout of its own in libpq 15: at most one cancel per probe is in the pool at a time.

#include <libpq-fe.h>
#include <uv.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "probes/host_resolver.h"
#include "probes/postgres_stats.h"
#include "probes/probe.h"
#include "probes/reconnect_backoff.h"

namespace covet::probes {

// The failure class of a libpq error, for ProbeResult::reason: "auth_failed",
// "too_many_connections", "refused" (refused, unknown host, unreachable), "query_error",
// or, for any other failure to connect, "connect_failed". `sqlstate` is empty when libpq
// gave none (connection-time errors in libpq 15 carry only text). Pure.
std::string_view classify_postgres_error(std::string_view sqlstate, std::string_view message,
                                         bool connecting);

// libpq's multi-line "connection to server at \"h\", port 5432 failed: FATAL:  reason\n..."
// reduced to "reason" (first line, severity and server prefix removed, trimmed). Pure.
std::string clean_libpq_message(std::string_view message);

class PostgresProbe final : public Probe {
 public:
  PostgresProbe(uv_loop_t* loop, config::PostgresProbeConfig config);
  // Drops the connection (closing the poll handle; its memory is freed in the close
  // callback, which needs the loop to run once more). A cancel job in the pool owns what it
  // uses and finishes on its own.
  ~PostgresProbe() override;
  PostgresProbe(const PostgresProbe&) = delete;
  PostgresProbe& operator=(const PostgresProbe&) = delete;

  void start(Completion done) override;
  void cancel() override;
  std::vector<Reading> timeout_readings() const override;

 private:
  enum class Phase { idle, resolving, connecting, querying, stats };

  void connect();
  // Starts libpq's connect; `addresses` (numeric) replace the resolution of `host_name_`.
  void open_connection(const std::vector<std::string>& addresses);
  void continue_connect();
  // Keeps the readings of the server certificate of a TLS connection, else none.
  void read_server_certificate();
  void send_query();
  void continue_query(int events);
  // Reads what arrived; false when the connection broke (the check has been handled).
  bool consume_input();
  void take_check_result(const PGresult* result);
  void take_stats_result(const PGresult* result);
  void finish_check();
  void send_stats_statement();
  void finish_stats_statement();
  void report_checked();
  // Starts (or changes) the poll on the connection's socket. False: it could not, and the
  // check has been reported failed.
  bool watch(int events);
  void close_poll();
  void drop_connection();
  void fail(std::string reason, std::string error);
  // Remembers the failure and pushes the next connect out by the doubled delay.
  void back_off(const std::string& reason, const std::string& error);
  void finish(ProbeResult result);
  void send_cancel();
  ProbeResult base_result() const;

  static void on_poll(uv_poll_t* handle, int status, int events);

  uv_loop_t* loop_;
  config::PostgresProbeConfig config_;
  // The DSN's parameters (libpq keywords and values), password excluded when it comes from
  // password_file, which is read at each connect so a rotated secret is picked up.
  std::vector<std::string> keywords_;
  std::vector<std::string> values_;
  std::string dsn_error_;  // non-empty: the DSN does not parse; every check fails with it
  std::string server_;     // "host:port/db", never a password
  std::string host_name_;  // the one host name to resolve before connecting, else empty
  HostResolver resolver_;

  PGconn* conn_ = nullptr;
  // Heap-allocated: uv_close is asynchronous, so the handle's memory must outlive whichever
  // of probe or connection goes first; it is freed in its close callback.
  uv_poll_t* poll_ = nullptr;
  Phase phase_ = Phase::idle;
  Completion done_;
  bool reused_ = false;  // this check runs on a connection an earlier check opened
  std::string server_version_;
  int in_recovery_ = -1;      // -1 unknown, else 0/1 from the last pg_is_in_recovery()
  std::string query_reason_;  // the first failed statement's class and message
  std::string query_error_;

  // A check whose queries answered, held while the database metrics are read.
  ProbeResult checked_;
  std::size_t stats_step_ = 0;        // index into postgres_stats_statements()
  std::vector<StatsRow> stats_rows_;  // the current statement's rows
  std::string stats_error_;           // the current statement's error, if any
  std::vector<Reading> stats_collected_;
  std::vector<std::string> stats_collected_notes_;
  // The last complete read, attached to every answered check until the next one; dropped
  // with the connection (after a reconnect it may be another server).
  std::vector<Reading> stats_readings_;
  std::vector<std::string> stats_notes_;
  std::uint64_t stats_due_ms_ = 0;  // uv_now() from which the next read is due
  // The server certificate's readings, read once per connection (empty without TLS).
  std::vector<Reading> certificate_readings_;

  ReconnectBackoff backoff_;

  // Shared with a cancel job on the pool: true while one runs.
  std::shared_ptr<bool> cancel_running_ = std::make_shared<bool>(false);
};

}  // namespace covet::probes
